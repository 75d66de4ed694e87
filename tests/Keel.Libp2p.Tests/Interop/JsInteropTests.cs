using System.Collections.Concurrent;
using System.Text;
using Keel.Libp2p.Gossipsub;
using Keel.Libp2p.Host;
using Keel.Libp2p.Interop;
using Keel.Libp2p.Tests.Support;

namespace Keel.Libp2p.Tests.Interop;

/// <summary>
/// Keel against js-libp2p 3.3.11 (devnet/package.json) over real TCP on loopback, both
/// directions: identify, ping, and signed gossip each way. js verifies StrictSign signatures and
/// drops bad ones, so a message printed by js proves Keel's signature and encoding.
/// </summary>
[Collection("interop")]
public sealed class JsInteropTests
{
    private const int WaitMs = 20_000;

    private sealed class KeelSide : IAsyncDisposable
    {
        public required Libp2pHost Host { get; init; }
        public required GossipsubRouter Pubsub { get; init; }
        public ConcurrentQueue<GossipMessage> Received { get; } = new();

        public static async Task<KeelSide> StartAsync(string topic, Keel.Libp2p.Crypto.IdentityKey? key = null)
        {
            var host = await TestHosts.StartAsync(key);
            var pubsub = new GossipsubRouter(host);
            var side = new KeelSide { Host = host, Pubsub = pubsub };
            pubsub.MessageReceived += m => side.Received.Enqueue(m);
            await pubsub.SubscribeAsync(topic);
            return side;
        }

        public async ValueTask DisposeAsync()
        {
            await Pubsub.DisposeAsync();
            await Host.DisposeAsync();
        }
    }

    private static async Task ExerciseAsync(KeelSide keel, JsPeer js, string topic)
    {
        var jsId = PeerId.Parse(js.PeerId);

        // identify, both ways: js lists our protocols, we list js's.
        var identify = await js.WaitForAsync($"IDENTIFY {keel.Host.PeerId}", WaitMs);
        Assert.Contains(GossipsubRouter.ProtocolId, identify);
        Assert.Contains("/ipfs/ping/1.0.0", identify);
        await TestHosts.Eventually(() => keel.Host.GetConnection(jsId)?.RemoteProtocols.Contains("/ipfs/id/1.0.0") == true, "Keel identified js", WaitMs);

        // ping, both ways.
        using var cts = new CancellationTokenSource(WaitMs);
        var rtt = await keel.Host.Ping.PingAsync(jsId, cts.Token);
        Assert.True(rtt > TimeSpan.Zero && rtt < TimeSpan.FromMilliseconds(WaitMs));
        await js.SendAsync($"ping {keel.Host.ListenAddresses[0]}");
        var ping = await js.WaitForAsync("PING ", WaitMs);
        Assert.True(double.Parse(ping.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 0);

        // gossip Keel -> js: js must verify our signature to print it.
        await keel.Pubsub.WaitForTopicPeerAsync(topic, cts.Token);
        await js.SendAsync($"waitsub {topic}");
        await js.WaitForAsync($"SUBSCRIBED-READY {topic}", WaitMs);
        var sent = await keel.Pubsub.PublishAsync(topic, Encoding.UTF8.GetBytes("hello from keel"), cts.Token);
        Assert.Equal(1, sent);
        var line = await js.WaitForAsync($"MSG {topic} ", WaitMs);
        Assert.Equal($"MSG {topic} {keel.Host.PeerId} hello from keel", line);

        // gossip js -> Keel: we verify js's signature and attribute the author.
        await js.SendAsync($"publish {topic} hello from js");
        await js.WaitForAsync("PUBLISHED ", WaitMs);
        await TestHosts.Eventually(() => !keel.Received.IsEmpty, "Keel received js's message", WaitMs);
        Assert.True(keel.Received.TryDequeue(out var m));
        Assert.Equal(topic, m.Topic);
        Assert.Equal(jsId, m.Author);
        Assert.Equal("hello from js", Encoding.UTF8.GetString(m.Data));
        Assert.Equal(0, await keel.Pubsub.GetScoreAsync(jsId));
    }

    [Fact]
    public async Task Keel_dials_js_identify_ping_and_gossip_both_ways()
    {
        const string topic = "/keel/interop/a/1";
        await using var keel = await KeelSide.StartAsync(topic);
        await using var js = await JsPeer.StartAsync("--topic", topic);
        using var cts = new CancellationTokenSource(WaitMs);
        var connection = await keel.Host.DialAsync(Multiaddr.Parse(js.ListenAddress), cts.Token);
        Assert.Equal(js.PeerId, connection.RemotePeer.ToString());
        Assert.True(connection.IsOutbound);
        await ExerciseAsync(keel, js, topic);
    }

    [Fact]
    public async Task Js_dials_Keel_identify_ping_and_gossip_both_ways()
    {
        const string topic = "/keel/interop/b/1";
        await using var keel = await KeelSide.StartAsync(topic);
        await using var js = await JsPeer.StartAsync("--topic", topic, "--dial", keel.Host.ListenAddresses[0].ToString());
        await js.WaitForAsync($"DIALED {keel.Host.PeerId}", WaitMs);
        await TestHosts.Eventually(() => keel.Host.IsConnected(PeerId.Parse(js.PeerId)), "js connected to Keel", WaitMs);
        Assert.False(keel.Host.GetConnection(PeerId.Parse(js.PeerId))!.IsOutbound);
        await ExerciseAsync(keel, js, topic);
    }

    [Fact]
    public async Task Js_with_a_secp256k1_key_is_accepted_and_its_signatures_verify()
    {
        const string topic = "/keel/interop/c/1";
        await using var keel = await KeelSide.StartAsync(topic);
        await using var js = await JsPeer.StartAsync("--secp256k1", "--topic", topic, "--dial", keel.Host.ListenAddresses[0].ToString());
        Assert.StartsWith("16Uiu2H", js.PeerId);
        await js.WaitForAsync($"DIALED {keel.Host.PeerId}", WaitMs);
        await ExerciseAsync(keel, js, topic);
    }

    [Fact]
    public async Task Connection_outlives_js_periodic_ping_and_keepalive()
    {
        // js's connection monitor pings every 10 s and aborts connections whose ping fails.
        await using var keel = await KeelSide.StartAsync("/keel/interop/e/1");
        await using var js = await JsPeer.StartAsync();
        using var cts = new CancellationTokenSource(WaitMs);
        var connection = await keel.Host.DialAsync(Multiaddr.Parse(js.ListenAddress), cts.Token);
        await Task.Delay(TimeSpan.FromSeconds(13));
        Assert.False(connection.IsClosed);
        Assert.Same(connection, keel.Host.GetConnection(connection.RemotePeer));
        Assert.DoesNotContain(js.Output, l => l.StartsWith("DISCONNECTED", StringComparison.Ordinal));
        Assert.True(keel.Host.Ping.EchoesServed >= 1, "js's connection monitor pinged and was answered");
        Assert.True(await connection.MuxerPingAsync(cts.Token) < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Keel_with_a_secp256k1_key_is_accepted_by_js()
    {
        const string topic = "/keel/interop/d/1";
        await using var keel = await KeelSide.StartAsync(topic, Keel.Libp2p.Crypto.Secp256k1IdentityKey.Generate());
        Assert.StartsWith("16Uiu2H", keel.Host.PeerId.ToString());
        await using var js = await JsPeer.StartAsync("--topic", topic);
        using var cts = new CancellationTokenSource(WaitMs);
        await keel.Host.DialAsync(Multiaddr.Parse(js.ListenAddress), cts.Token);
        await ExerciseAsync(keel, js, topic);
    }
}

[Collection("interop")]
public sealed class JsLargeMessageTests
{
    [Fact]
    public async Task Js_floods_64_KiB_messages_to_Keel()
    {
        const string topic = "/keel/interop/large/1";
        var logs = new ListLoggerFactory();
        var host = await TestHosts.StartAsync(loggers: logs);
        var router = new GossipsubRouter(host);
        var count = 0;
        router.MessageReceived += _ => Interlocked.Increment(ref count);
        await router.SubscribeAsync(topic);
        await using var js = await JsPeer.StartAsync("--dial", host.ListenAddresses[0].ToString());
        try
        {
            await js.SendAsync($"waitsub {topic}");
            await js.WaitForAsync("SUBSCRIBED-READY");
            await js.SendAsync($"flood {topic} 30 65536");
            await js.WaitForAsync("SENT");
            await TestHosts.Eventually(() => Volatile.Read(ref count) == 30, "30 large messages at Keel", 20_000);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} (got {count})\n" + string.Join("\n", logs.Lines.TakeLast(60)) + "\njs:\n" + string.Join("\n", js.Output));
        }
        finally
        {
            await router.DisposeAsync();
            await host.DisposeAsync();
        }
    }
}
