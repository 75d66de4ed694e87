using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Keel.Libp2p;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Gossipsub;
using Keel.Libp2p.Host;

namespace Keel.Node.Tests.Cli;

/// <summary>`keel p2p ...` and the node key in `keel keys`, over the real stack on loopback.</summary>
public sealed class P2pCommandsTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("keel-p2p-test-").FullName;
    private Libp2pHost _host = null!;
    private GossipsubRouter _router = null!;
    private readonly ConcurrentQueue<GossipMessage> _received = new();

    public async Task InitializeAsync()
    {
        _host = Libp2pHost.Create(new Libp2pHostOptions
        {
            Identity = Ed25519IdentityKey.Generate(),
            ListenAddresses = [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")],
        });
        await _host.StartAsync();
        _router = new GossipsubRouter(_host);
        _router.MessageReceived += m => _received.Enqueue(m);
        await _router.SubscribeAsync("/keel/devnet/blocks/1");
    }

    public async Task DisposeAsync()
    {
        await _router.DisposeAsync();
        await _host.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void Keys_new_and_show_print_a_stable_peer_id_and_older_files_get_a_node_key()
    {
        var file = PathOf("node.json");
        var created = CliRunner.Run("keys", "new", "--out", file);
        Assert.Equal(0, created.ExitCode);
        var peerLine = created.Output.Split('\n').Single(l => l.StartsWith("peer-id: ", StringComparison.Ordinal)).Trim();
        Assert.StartsWith("peer-id: 12D3KooW", peerLine);
        Assert.Contains(peerLine, CliRunner.Run("keys", "show", file).Output);

        var old = PathOf("old.json");
        File.WriteAllText(old, "{\"version\":1,\"secp256k1\":\"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\"}");
        var first = CliRunner.Run("keys", "show", old);
        Assert.Equal(0, first.ExitCode);
        var seed = (string)JsonNode.Parse(File.ReadAllText(old))!["ed25519"]!;
        Assert.Equal(66, seed.Length);
        var peerId = first.Output.Split('\n').Single(l => l.StartsWith("peer-id: ", StringComparison.Ordinal)).Trim();
        Assert.Equal($"peer-id: {Ed25519IdentityKey.FromSeed(Convert.FromHexString(seed[2..])).PeerId}", peerId);
        Assert.Contains(peerId, CliRunner.Run("keys", "show", old).Output);
    }

    [Fact]
    public void Publish_waits_for_the_subscriber_and_the_message_arrives_signed()
    {
        var key = PathOf("pub.json");
        Assert.Equal(0, CliRunner.Run("keys", "new", "--out", key).ExitCode);
        var result = CliRunner.Run("p2p", "publish", "--dial", _host.ListenAddresses[0].ToString(), "--topic", "blocks", "--data", "hello from the cli", "--key", key);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("published", result.Output.Trim());
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (_received.IsEmpty && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        Assert.True(_received.TryDequeue(out var m));
        Assert.Equal("/keel/devnet/blocks/1", m.Topic);
        Assert.Equal("hello from the cli", Encoding.UTF8.GetString(m.Data));
        var shown = CliRunner.Run("keys", "show", key).Output;
        Assert.Contains($"peer-id: {m.Author}", shown);
    }

    [Fact]
    public void Publish_without_a_subscriber_fails_after_the_bounded_wait()
    {
        var result = CliRunner.Run("p2p", "publish", "--dial", _host.ListenAddresses[0].ToString(), "--topic", "nobody-here", "--data", "x", "--wait-ms", "500");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no peer subscribed to /keel/devnet/nobody-here/1", result.Error);
    }

    [Fact]
    public void Ping_prints_round_trips_and_bad_addresses_fail_cleanly()
    {
        var result = CliRunner.Run("p2p", "ping", _host.ListenAddresses[0].ToString(), "--count", "2");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"peer-id: {_host.PeerId}", result.Output);
        Assert.Equal(2, result.Output.Split('\n').Count(l => l.StartsWith("ping: ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(" ms", StringComparison.Ordinal)));
        var bad = CliRunner.Run("p2p", "ping", "/ip4/127.0.0.1/tcp/notaport");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("error: ", bad.Error);
    }
}
