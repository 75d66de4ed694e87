using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Gossipsub;
using Keel.Libp2p.Host;
using Keel.Libp2p.Protos;
using Keel.Libp2p.Tests.Support;
using Keel.Libp2p.Transport;
using Keel.Libp2p.Wire;

namespace Keel.Libp2p.Tests.Gossipsub;

public sealed class GossipsubRouterTests
{
    private const string Topic = "/keel/test/blocks/1";

    private sealed class Node : IAsyncDisposable
    {
        public required Libp2pHost Host { get; init; }
        public required GossipsubRouter Router { get; init; }
        public ConcurrentQueue<GossipMessage> Received { get; } = new();
        public required ListLoggerFactory Logs { get; init; }

        public static async Task<Node> StartAsync(GossipsubOptions? options = null, bool subscribe = true)
        {
            var logs = new ListLoggerFactory();
            var host = await TestHosts.StartAsync(loggers: logs);
            var router = new GossipsubRouter(host, options);
            var node = new Node { Host = host, Router = router, Logs = logs };
            router.MessageReceived += m => node.Received.Enqueue(m);
            if (subscribe)
            {
                await router.SubscribeAsync(Topic);
            }
            return node;
        }

        public IEnumerable<string> Texts => Received.Select(m => Encoding.UTF8.GetString(m.Data));

        public async ValueTask DisposeAsync()
        {
            await Router.DisposeAsync();
            await Host.DisposeAsync();
        }
    }

    /// <summary>A host without a router that speaks raw meshsub RPCs, to play a misbehaving peer.</summary>
    private sealed class RawPeer : IAsyncDisposable
    {
        public required Libp2pHost Host { get; init; }
        public YamuxStream? Stream { get; private set; }
        /// <summary>RPCs the router sent us.</summary>
        public ConcurrentQueue<RPC> Received { get; } = new();

        public static async Task<RawPeer> StartAsync(IdentityKey? key = null, bool neverRead = false)
        {
            var host = await TestHosts.StartAsync(key);
            var peer = new RawPeer { Host = host };
            host.SetStreamHandler(GossipsubRouter.ProtocolId, async (s, c, ct) =>
            {
                if (neverRead)
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                while (await LengthPrefixed.ReadAsync(s, 4 * 1024 * 1024, ct) is { } frame)
                {
                    peer.Received.Enqueue(RPC.Parser.ParseFrom(frame));
                }
            });
            return peer;
        }

        public async Task ConnectAsync(Node node)
        {
            await Host.DialAsync(node.Host.ListenAddresses[0]);
            Stream = await Host.NewStreamAsync(node.Host.PeerId, [GossipsubRouter.ProtocolId], default);
            await SendAsync(new RPC { Subscriptions = { new SubOpts { Subscribe = true, Topicid = Topic } } });
        }

        public async Task SendAsync(RPC rpc) => await LengthPrefixed.WriteAsync(Stream!, rpc.ToByteArray(), default);

        public async ValueTask DisposeAsync() => await Host.DisposeAsync();
    }

    private static async Task ConnectAsync(Node from, Node to) => await from.Host.DialAsync(to.Host.ListenAddresses[0]);

    private static Task MeshedAsync(Node node, int peers) =>
        TestHosts.Eventually(async () => (await node.Router.GetMeshPeersAsync(Topic)).Length >= peers, $"mesh of {peers}");

    [Fact]
    public async Task Messages_cross_a_line_of_nodes_once_each()
    {
        await using var a = await Node.StartAsync();
        await using var b = await Node.StartAsync();
        await using var c = await Node.StartAsync();
        await ConnectAsync(a, b);
        await ConnectAsync(c, b);
        await MeshedAsync(b, 2);
        await MeshedAsync(a, 1);
        await MeshedAsync(c, 1);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(1, await a.Router.PublishAsync(Topic, Encoding.UTF8.GetBytes($"m{i}")));
        }
        await TestHosts.Eventually(() => c.Received.Count == 5 && b.Received.Count == 5, "all messages at b and c");
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], c.Texts.Order());
        Assert.All(c.Received, m => Assert.Equal(a.Host.PeerId, m.Author));
        Assert.All(c.Received, m => Assert.Equal(b.Host.PeerId, m.ReceivedFrom));
        Assert.Empty(a.Received); // no echo of our own messages
        await Task.Delay(300);
        Assert.Equal(5, c.Received.Count); // no duplicates arrive later
    }

    [Fact]
    public async Task Mesh_stays_within_bounds_as_peers_join()
    {
        var options = new GossipsubOptions { D = 3, DLow = 2, DHigh = 4, DScore = 2, DOut = 1, HeartbeatIntervalMs = 100 };
        await using var hub = await Node.StartAsync(options);
        var spokes = new List<Node>();
        try
        {
            for (var i = 0; i < 7; i++)
            {
                var n = await Node.StartAsync(options);
                spokes.Add(n);
                await ConnectAsync(n, hub);
            }
            await TestHosts.Eventually(async () => (await hub.Router.GetTopicPeersAsync(Topic)).Length == 7, "hub sees all subscriptions");
            await Task.Delay(1000);
            var mesh = await hub.Router.GetMeshPeersAsync(Topic);
            Assert.InRange(mesh.Length, options.DLow, options.DHigh);
            Assert.Equal(1, await spokes[0].Router.PublishAsync(Topic, "x"u8.ToArray()));
            await TestHosts.Eventually(() => spokes.Skip(1).All(s => s.Received.Count == 1), "every spoke got the message via mesh or gossip");
        }
        finally
        {
            foreach (var s in spokes)
            {
                await s.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Peers_outside_the_mesh_get_messages_through_ihave_and_iwant()
    {
        // D = 1 and no flood publishing: one spoke is in the hub's mesh, the other learns by gossip.
        var options = new GossipsubOptions { D = 1, DLow = 1, DHigh = 1, DScore = 1, DOut = 0, DLazy = 6, FloodPublish = false, HeartbeatIntervalMs = 200 };
        await using var hub = await Node.StartAsync(options);
        await using var x = await Node.StartAsync(options);
        await using var y = await Node.StartAsync(options);
        await ConnectAsync(x, hub);
        await ConnectAsync(y, hub);
        await TestHosts.Eventually(async () => (await hub.Router.GetTopicPeersAsync(Topic)).Length == 2, "hub sees both");
        await Task.Delay(800);
        Assert.Single(await hub.Router.GetMeshPeersAsync(Topic));
        await hub.Router.PublishAsync(Topic, "gossiped"u8.ToArray());
        await TestHosts.Eventually(() => x.Received.Count == 1 && y.Received.Count == 1, "both spokes have the message");
    }

    [Fact]
    public async Task Validator_rejection_lowers_the_senders_score_and_stops_forwarding()
    {
        await using var a = await Node.StartAsync();
        await using var b = await Node.StartAsync();
        await using var c = await Node.StartAsync();
        await b.Router.SetValidatorAsync(Topic, (m, ct) => ValueTask.FromResult(
            m.Data.AsSpan().SequenceEqual("bad"u8) ? ValidationResult.Reject
            : m.Data.AsSpan().SequenceEqual("meh"u8) ? ValidationResult.Ignore : ValidationResult.Accept));
        await ConnectAsync(a, b);
        await ConnectAsync(c, b);
        await MeshedAsync(b, 2);
        await MeshedAsync(c, 1);

        await a.Router.PublishAsync(Topic, "meh"u8.ToArray());
        await a.Router.PublishAsync(Topic, "bad"u8.ToArray());
        await a.Router.PublishAsync(Topic, "good"u8.ToArray());
        await TestHosts.Eventually(() => c.Received.Count == 1, "good message forwarded");
        await Task.Delay(300);
        Assert.Equal(["good"], c.Texts);
        Assert.Equal(["good"], b.Texts);
        Assert.True(await b.Router.GetScoreAsync(a.Host.PeerId) < 0);
        Assert.Equal(0, await b.Router.GetScoreAsync(c.Host.PeerId));
        Assert.Contains(b.Logs.Lines, l => l.Contains("application validator rejected it"));
    }

    private static Message Forged(IdentityKey key, string text, ulong seq, string how)
    {
        var m = MessageSigning.Sign(key, Topic, Encoding.UTF8.GetBytes(text), seq);
        switch (how)
        {
            case "signature": m.Data = ByteString.CopyFromUtf8(text + "!"); break;
            case "seqno": m.Seqno = ByteString.CopyFrom(new byte[3]); break;
            case "key": m.Key = ByteString.CopyFrom(Ed25519IdentityKey.Generate().PublicKey.ToProtobuf()); break;
        }
        return m;
    }

    [Fact]
    public async Task Bad_signatures_drive_the_peer_to_the_graylist_and_the_node_goes_on()
    {
        await using var b = await Node.StartAsync();
        await using var c = await Node.StartAsync();
        await ConnectAsync(c, b);
        var key = Ed25519IdentityKey.Generate();
        await using var raw = await RawPeer.StartAsync(key);
        await raw.ConnectAsync(b);
        await TestHosts.Eventually(async () => (await b.Router.GetTopicPeersAsync(Topic)).Contains(raw.Host.PeerId), "b sees the raw peer's subscription");

        await raw.SendAsync(new RPC { Publish = { Forged(key, "x", 1, "signature"), Forged(key, "y", 2, "seqno"), Forged(key, "z", 3, "key") } });
        await TestHosts.Eventually(async () => await b.Router.GetScoreAsync(raw.Host.PeerId) < b.Router.Options.GraylistThreshold, "raw peer graylisted");
        Assert.Contains(b.Logs.Lines, l => l.Contains("signature does not verify"));
        Assert.Contains(b.Logs.Lines, l => l.Contains("seqno missing or not 8 bytes"));
        Assert.Contains(b.Logs.Lines, l => l.Contains("key does not match from"));

        // Graylisted: even a valid message from it is ignored now.
        await raw.SendAsync(new RPC { Publish = { MessageSigning.Sign(key, Topic, "valid"u8, 4) } });
        await Task.Delay(300);
        Assert.Empty(b.Received);

        // The node goes on with honest peers.
        await MeshedAsync(c, 1);
        await c.Router.PublishAsync(Topic, "honest"u8.ToArray());
        await TestHosts.Eventually(() => b.Texts.Contains("honest"), "honest message delivered");
    }

    [Fact]
    public async Task Oversize_messages_are_refused_and_oversize_rpcs_drop_the_stream()
    {
        var options = new GossipsubOptions { MaxMessageBytes = 1000, MaxRpcBytes = 4000 };
        await using var b = await Node.StartAsync(options);
        await Assert.ThrowsAsync<MessageTooLargeException>(() => b.Router.PublishAsync(Topic, new byte[1001]));
        Assert.Equal(1024 * 1024, new GossipsubOptions().MaxMessageBytes);

        var key = Ed25519IdentityKey.Generate();
        await using var raw = await RawPeer.StartAsync(key);
        await raw.ConnectAsync(b);
        await raw.SendAsync(new RPC { Publish = { MessageSigning.Sign(key, Topic, new byte[1500], 1) } });
        await TestHosts.Eventually(() => b.Logs.Lines.Any(l => l.Contains("exceeds 1000")), "oversize message rejected with a reason");
        await raw.SendAsync(new RPC { Publish = { MessageSigning.Sign(key, Topic, new byte[900], 2), MessageSigning.Sign(key, Topic, new byte[900], 3),
            MessageSigning.Sign(key, Topic, new byte[900], 4), MessageSigning.Sign(key, Topic, new byte[900], 5), MessageSigning.Sign(key, Topic, new byte[900], 6) } });
        await TestHosts.Eventually(() => b.Logs.Lines.Any(l => l.Contains("dropping gossipsub stream") && l.Contains("exceeds")), "oversize RPC dropped the stream");
        Assert.True(await b.Router.GetScoreAsync(raw.Host.PeerId) < 0);
        Assert.Empty(b.Received);
    }

    [Fact]
    public async Task Malformed_rpc_bytes_drop_the_stream_with_a_reason()
    {
        await using var b = await Node.StartAsync();
        await using var raw = await RawPeer.StartAsync();
        await raw.ConnectAsync(b);
        await LengthPrefixed.WriteAsync(raw.Stream!, new byte[] { 0x0a, 0xff, 0xff, 0xff, 0x0f, 1 }, default);
        await TestHosts.Eventually(() => b.Logs.Lines.Any(l => l.Contains("malformed RPC")), "malformed RPC logged");
        Assert.True(await b.Router.GetScoreAsync(raw.Host.PeerId) < 0);
    }

    [Fact]
    public async Task A_peer_that_never_reads_does_not_stall_the_others()
    {
        await using var b = await Node.StartAsync();
        await using var c = await Node.StartAsync();
        await using var slow = await RawPeer.StartAsync(neverRead: true);
        await slow.ConnectAsync(b);
        await ConnectAsync(c, b);
        await TestHosts.Eventually(async () => (await b.Router.GetTopicPeersAsync(Topic)).Length == 2, "b sees both subscribers");
        const int count = 600;
        var payload = new byte[1024];
        for (var i = 0; i < count; i++)
        {
            payload[0] = (byte)i;
            payload[1] = (byte)(i >> 8);
            await b.Router.PublishAsync(Topic, payload);
        }
        // 600 KiB is more than the slow peer's yamux window: its writer is stuck, c's is not.
        await TestHosts.Eventually(() => c.Received.Count == count, $"c received all {count}");
    }

    [Fact]
    public async Task Unsubscribe_prunes_and_graft_during_backoff_is_penalised()
    {
        await using var a = await Node.StartAsync();
        await using var b = await Node.StartAsync();
        await ConnectAsync(a, b);
        await MeshedAsync(b, 1);
        await a.Router.UnsubscribeAsync(Topic);
        await TestHosts.Eventually(async () => (await b.Router.GetMeshPeersAsync(Topic)).Length == 0, "a left b's mesh");
        await TestHosts.Eventually(async () => (await b.Router.GetTopicPeersAsync(Topic)).Length == 0, "b saw the unsubscribe");

        // A raw peer that b pruned grafts again at once.
        var key = Ed25519IdentityKey.Generate();
        await using var raw = await RawPeer.StartAsync(key);
        await raw.ConnectAsync(b);
        await raw.SendAsync(new RPC { Control = new ControlMessage { Graft = { new ControlGraft { TopicID = Topic } } } });
        await TestHosts.Eventually(async () => (await b.Router.GetMeshPeersAsync(Topic)).Contains(raw.Host.PeerId), "raw grafted");
        await raw.SendAsync(new RPC { Control = new ControlMessage { Prune = { new ControlPrune { TopicID = Topic, Backoff = 60 } } } });
        await TestHosts.Eventually(async () => (await b.Router.GetMeshPeersAsync(Topic)).Length == 0, "raw pruned itself");
        await raw.SendAsync(new RPC { Control = new ControlMessage { Graft = { new ControlGraft { TopicID = Topic } } } });
        await TestHosts.Eventually(async () => await b.Router.GetScoreAsync(raw.Host.PeerId) < 0, "early graft penalised");
        Assert.Empty(await b.Router.GetMeshPeersAsync(Topic));
    }

    [Fact]
    public async Task Gossip_survives_losing_one_of_two_connections_to_a_peer()
    {
        await using var a = await Node.StartAsync();
        await using var b = await Node.StartAsync();
        var first = await a.Host.DialAsync(b.Host.ListenAddresses[0]);
        // Without /p2p/ the dial cannot reuse the connection: a second one opens.
        await b.Host.DialAsync(a.Host.ListenAddresses[0].WithoutPeerId());
        await TestHosts.Eventually(() => a.Host.ConnectionCount == 2 && b.Host.ConnectionCount == 2, "two connections each way");
        await MeshedAsync(a, 1);
        await MeshedAsync(b, 1);
        await first.CloseAsync();
        await TestHosts.Eventually(() => a.Host.ConnectionCount == 1 && b.Host.ConnectionCount == 1, "one connection left");
        Assert.True(a.Host.IsConnected(b.Host.PeerId));
        await TestHosts.Eventually(async () =>
        {
            await a.Router.PublishAsync(Topic, "still here"u8.ToArray());
            await Task.Delay(100);
            return b.Texts.Contains("still here");
        }, "gossip over the remaining connection");
        await b.Router.PublishAsync(Topic, "and back"u8.ToArray());
        try
        {
            await TestHosts.Eventually(() => a.Texts.Contains("and back"), "gossip the other way", 5000);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\nA:\n" + string.Join("\n", a.Logs.Lines) + "\nB:\n" + string.Join("\n", b.Logs.Lines));
        }
    }

    [Fact]
    public async Task Iwant_is_served_at_most_three_times_per_peer_and_message()
    {
        await using var b = await Node.StartAsync();
        await using var raw = await RawPeer.StartAsync();
        await raw.ConnectAsync(b);
        await TestHosts.Eventually(async () => (await b.Router.GetTopicPeersAsync(Topic)).Length == 1, "b sees the raw subscriber");
        await b.Router.PublishAsync(Topic, "wanted"u8.ToArray());
        await TestHosts.Eventually(() => raw.Received.Any(r => r.Publish.Count > 0), "raw got the publish");
        var original = raw.Received.SelectMany(r => r.Publish).First();
        var id = MessageSigning.MessageId(PublicKey.Decode(original.Key.Span), original.Seqno.Span);
        for (var i = 0; i < 5; i++)
        {
            await raw.SendAsync(new RPC { Control = new ControlMessage { Iwant = { new ControlIWant { MessageIDs = { ByteString.CopyFrom(id) } } } } });
        }
        int Copies() => raw.Received.SelectMany(r => r.Publish).Count(m => m.Seqno == original.Seqno);
        await TestHosts.Eventually(() => Copies() == 4, "publish plus three retransmits");
        await Task.Delay(300);
        Assert.Equal(4, Copies());
    }

    [Fact]
    public async Task Ihave_gets_an_iwant_and_an_unkept_promise_is_penalised()
    {
        await using var b = await Node.StartAsync();
        await using var raw = await RawPeer.StartAsync();
        await raw.ConnectAsync(b);
        await TestHosts.Eventually(async () => (await b.Router.GetTopicPeersAsync(Topic)).Length == 1, "b sees the raw subscriber");
        var fakeId = new byte[44];
        fakeId[0] = 7;
        await raw.SendAsync(new RPC { Control = new ControlMessage { Ihave = { new ControlIHave { TopicID = Topic, MessageIDs = { ByteString.CopyFrom(fakeId) } } } } });
        await TestHosts.Eventually(() => raw.Received.Any(r => r.Control?.Iwant.Any(w => w.MessageIDs.Any(x => x.Span.SequenceEqual(fakeId))) == true), "b asked for it");
        Assert.Equal(0, await b.Router.GetScoreAsync(raw.Host.PeerId));
        await TestHosts.Eventually(async () => await b.Router.GetScoreAsync(raw.Host.PeerId) < 0, "broken promise penalised", 10_000);
    }
}

public sealed class MisbehaviourTests
{
    [Fact]
    public async Task Yamux_protocol_error_closes_the_connection_and_lowers_the_gossip_score()
    {
        var logs = new ListLoggerFactory();
        await using var host = await TestHosts.StartAsync(loggers: logs);
        await using var router = new GossipsubRouter(host);
        var misbehaved = new TaskCompletionSource<PeerId>();
        host.PeerMisbehaved += (p, _) => misbehaved.TrySetResult(p);

        // A hand-made client: real TCP, multistream, Noise and yamux negotiation, then a bad frame.
        var key = Ed25519IdentityKey.Generate();
        host.ListenAddresses[0].TryGetTcpTarget(out var ip, out var port);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(ip, port);
        var network = tcp.GetStream();
        await Multistream.SelectAsync(network, [Noise.ProtocolId], default);
        var secure = await Noise.InitiateAsync(network, key, host.PeerId, default);
        await Multistream.SelectAsync(secure.Stream, [Yamux.ProtocolId], default);
        await TestHosts.Eventually(() => host.IsConnected(key.PeerId), "host registered the hand-made connection");
        // SYN on an even id from the client: the wrong parity.
        await secure.Stream.WriteAsync(new byte[] { 0, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0 });
        await secure.Stream.FlushAsync();

        Assert.Equal(key.PeerId, await misbehaved.Task.WaitAsync(TimeSpan.FromSeconds(20)));
        await TestHosts.Eventually(() => !host.IsConnected(key.PeerId), "connection dropped");
        Assert.Contains(logs.Lines, l => l.Contains("with our parity"));
        Assert.True(await router.GetScoreAsync(key.PeerId) < 0);
        // The node goes on.
        await using var other = await TestHosts.StartAsync();
        await other.DialAsync(host.ListenAddresses[0]);
    }
}
