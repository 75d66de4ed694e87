using System.Net.Sockets;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Host;
using Keel.Libp2p.Tests.Support;

namespace Keel.Libp2p.Tests.Host;

public sealed class Libp2pHostTests
{
    [Fact]
    public async Task Two_hosts_connect_identify_ping_and_raise_peer_events()
    {
        await using var a = await TestHosts.StartAsync();
        await using var b = await TestHosts.StartAsync();
        var connected = new TaskCompletionSource<Connection>();
        var disconnected = new TaskCompletionSource<PeerId>();
        b.PeerConnected += c => connected.TrySetResult(c);
        b.PeerDisconnected += p => disconnected.TrySetResult(p);

        var connection = await a.DialAsync(b.ListenAddresses[0]);
        Assert.Equal(b.PeerId, connection.RemotePeer);
        Assert.Equal(a.PeerId, (await connected.Task.WaitAsync(TimeSpan.FromSeconds(10))).RemotePeer);
        await TestHosts.Eventually(() => connection.RemoteProtocols.Contains("/ipfs/ping/1.0.0"), "identify result");
        Assert.Equal("keel/0.1", connection.RemoteAgentVersion);
        Assert.True(await a.Ping.PingAsync(b.PeerId, default) < TimeSpan.FromSeconds(5));

        // Dialling again reuses the connection.
        Assert.Same(connection, await a.DialAsync(b.ListenAddresses[0]));
        await connection.CloseAsync();
        Assert.Equal(a.PeerId, await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Listening_on_a_port_in_use_names_the_address()
    {
        await using var a = await TestHosts.StartAsync();
        var taken = a.ListenAddresses[0];
        await using var b = Libp2pHost.Create(new Libp2pHostOptions { Identity = Ed25519IdentityKey.Generate(), ListenAddresses = [taken] });
        var e = await Assert.ThrowsAsync<Libp2pException>(() => b.StartAsync());
        Assert.Contains(taken.ToString(), e.Message);
        Assert.IsType<SocketException>(e.InnerException);
    }

    [Fact]
    public async Task Dialling_an_address_with_the_wrong_peer_id_fails()
    {
        await using var a = await TestHosts.StartAsync();
        await using var b = await TestHosts.StartAsync();
        var wrong = b.ListenAddresses[0].WithPeerId(Ed25519IdentityKey.Generate().PeerId);
        await Assert.ThrowsAsync<HandshakeException>(() => a.DialAsync(wrong));
        Assert.Empty(a.ConnectedPeers);
        // The node goes on: a correct dial still works.
        await a.DialAsync(b.ListenAddresses[0]);
    }

    [Fact]
    public async Task Silent_half_open_client_is_dropped_after_the_handshake_timeout_and_the_node_goes_on()
    {
        var logs = new ListLoggerFactory();
        await using var host = await TestHosts.StartAsync(configure: o => new Libp2pHostOptions
        {
            Identity = o.Identity, ListenAddresses = o.ListenAddresses, HandshakeTimeoutMs = 300,
        }, loggers: logs);
        host.ListenAddresses[0].TryGetTcpTarget(out var ip, out var port);
        using var silent = new TcpClient();
        await silent.ConnectAsync(ip, port);
        await TestHosts.Eventually(() => logs.Lines.Any(l => l.Contains("timed out")), "the silent connection was dropped with a reason", 10_000);
        var buf = new byte[64];
        var stream = silent.GetStream();
        // The host spoke multistream first, then closed: reading reaches EOF.
        var total = 0;
        int n;
        using var cts = new CancellationTokenSource(5_000);
        while ((n = await stream.ReadAsync(buf, cts.Token)) > 0)
        {
            total += n;
        }
        Assert.Equal(20, total);
        await using var other = await TestHosts.StartAsync();
        await other.DialAsync(host.ListenAddresses[0]);
    }

    [Fact]
    public async Task Garbage_on_the_wire_fails_negotiation_and_is_logged()
    {
        var logs = new ListLoggerFactory();
        await using var host = await TestHosts.StartAsync(loggers: logs);
        host.ListenAddresses[0].TryGetTcpTarget(out var ip, out var port);
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(ip, port);
            await client.GetStream().WriteAsync(new byte[] { 0xff, 0x7f, 1, 2, 3, 4, 5 });
            await TestHosts.Eventually(() => logs.Lines.Any(l => l.Contains("dropped")), "the garbage connection was dropped with a reason", 10_000);
        }
        Assert.Empty(host.ConnectedPeers);
    }

    [Fact]
    public async Task Per_ip_and_total_connection_limits_are_enforced()
    {
        var logs = new ListLoggerFactory();
        await using var host = await TestHosts.StartAsync(configure: o => new Libp2pHostOptions
        {
            Identity = o.Identity, ListenAddresses = o.ListenAddresses, MaxConnectionsPerIp = 1, MaxConnections = 2,
        }, loggers: logs);
        await using var a = await TestHosts.StartAsync();
        await using var b = await TestHosts.StartAsync();
        await a.DialAsync(host.ListenAddresses[0]);
        await Assert.ThrowsAnyAsync<Exception>(() => b.DialAsync(host.ListenAddresses[0]));
        Assert.Contains(logs.Lines, l => l.Contains("connections from that IP"));
        Assert.Single(host.ConnectedPeers);
    }

    [Fact]
    public async Task Per_peer_limit_keeps_one_connection_and_reuses_it()
    {
        Libp2pHostOptions One(Libp2pHostOptions o) => new() { Identity = o.Identity, ListenAddresses = o.ListenAddresses, MaxConnectionsPerPeer = 1 };
        await using var a = await TestHosts.StartAsync(configure: One);
        await using var b = await TestHosts.StartAsync(configure: One);
        var first = await a.DialAsync(b.ListenAddresses[0]);
        // Without /p2p/ the dial cannot be deduplicated up front; the limit catches it after the handshake.
        var second = await a.DialAsync(b.ListenAddresses[0].WithoutPeerId());
        Assert.Same(first, second);
        await TestHosts.Eventually(() => a.ConnectionCount == 1 && b.ConnectionCount == 1, "one connection each side");
        Assert.True(await a.Ping.PingAsync(b.PeerId, default) < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Static_peer_is_redialled_after_it_drops()
    {
        await using var target = await TestHosts.StartAsync();
        await using var host = await TestHosts.StartAsync(configure: o => new Libp2pHostOptions
        {
            Identity = o.Identity, ListenAddresses = o.ListenAddresses, StaticPeers = [target.ListenAddresses[0]],
            ReconnectInitialBackoffMs = 50, ReconnectMaxBackoffMs = 200,
        });
        await TestHosts.Eventually(() => host.IsConnected(target.PeerId), "static peer connected");
        var first = host.GetConnection(target.PeerId)!;
        await first.CloseAsync();
        await TestHosts.Eventually(() => host.GetConnection(target.PeerId) is { } c && c != first, "static peer redialled");
    }

    [Fact]
    public async Task Wildcard_bind_is_advertised_as_dialable_addresses()
    {
        await using var host = await TestHosts.StartAsync(configure: o => new Libp2pHostOptions
        {
            Identity = o.Identity, ListenAddresses = [Multiaddr.Parse("/ip4/0.0.0.0/tcp/0")],
        });
        var advertised = host.AdvertisedAddresses;
        Assert.NotEmpty(advertised);
        Assert.StartsWith("/ip4/127.0.0.1/tcp/", advertised[0].ToString());
        Assert.All(advertised, a => Assert.Equal(host.PeerId, a.PeerId));
        Assert.DoesNotContain(advertised, a => a.ToString().Contains("0.0.0.0"));
        await using var other = await TestHosts.StartAsync();
        await other.DialAsync(advertised[0]);
    }

    [Fact]
    public void Inconsistent_limits_are_refused_at_start_up()
    {
        Assert.Throws<ArgumentException>(() => Libp2pHost.Create(new Libp2pHostOptions { Identity = Ed25519IdentityKey.Generate(), MaxConnections = 1, MaxConnectionsPerPeer = 2 }));
        Assert.Throws<ArgumentException>(() => Libp2pHost.Create(new Libp2pHostOptions { Identity = Ed25519IdentityKey.Generate(), StaticPeers = [Multiaddr.Parse("/ip4/1.2.3.4/udp/1")] }));
    }
}
