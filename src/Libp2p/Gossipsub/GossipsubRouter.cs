using System.Threading.Channels;
using Google.Protobuf;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Wire;
using Keel.Libp2p.Host;
using Keel.Libp2p.Protos;
using Keel.Libp2p.Transport;
using Microsoft.Extensions.Logging;

namespace Keel.Libp2p.Gossipsub;

/// <summary>
/// Gossipsub v1.1 (<c>/meshsub/1.1.0</c>) over a <see cref="Libp2pHost"/>. All router state
/// lives on one event loop (RPCs, publishes, heartbeats, peer events), so none of it is locked;
/// each peer has its own bounded send queue and writer so that a slow peer delays only itself.
/// </summary>
public sealed class GossipsubRouter : IAsyncDisposable
{
    public const string ProtocolId = "/meshsub/1.1.0";
    public const string ProtocolIdV10 = "/meshsub/1.0.0";
    private static readonly string[] OutboundProtocols = [ProtocolId, ProtocolIdV10];

    private readonly Libp2pHost _host;
    private readonly GossipsubOptions _o;
    private readonly ILogger _log;
    private readonly IdentityKey _identity;
    private readonly Channel<Func<Task>> _events;
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _loop;
    private readonly Task _ticker;

    // Router state: touched only on the loop.
    private readonly Dictionary<PeerId, PeerState> _peers = [];
    private readonly Dictionary<PeerId, ScoreState> _scores = [];
    private readonly HashSet<string> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MessageValidator> _validators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<PeerId>> _mesh = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<PeerId>> _fanout = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _fanoutLastPublish = new(StringComparer.Ordinal);
    private readonly Dictionary<(PeerId, string), DateTime> _backoff = [];
    private readonly Dictionary<string, (PeerId Peer, DateTime Deadline)> _promises = new(StringComparer.Ordinal);
    private readonly MessageCache _mcache;
    private readonly SeenCache _seen;
    private readonly List<TaskCompletionSource> _topicPeerWaiters = [];
    private ulong _seqNo;
    private readonly Action<Connection> _onConnected;
    private readonly Action<PeerId> _onDisconnected;
    private readonly Action<PeerId, string> _onMisbehaved;

    private sealed class PeerState(PeerId id, Connection connection, Channel<RPC> queue)
    {
        public PeerId Id { get; } = id;
        public Connection Connection { get; set; } = connection;
        public Channel<RPC> Queue { get; } = queue;
        public HashSet<string> Topics { get; } = new(StringComparer.Ordinal);
        public bool Outbound => Connection.IsOutbound;
        public int IHavesThisHeartbeat { get; set; }
        public int IWantedThisHeartbeat { get; set; }
        public long Dropped { get; set; }
        /// <summary>RPCs queued or being written; read across threads.</summary>
        public int Pending;
    }

    private sealed class ScoreState
    {
        public double InvalidMessages { get; set; }
        public double BehaviourPenalty { get; set; }
        public DateTime DisconnectedUtc { get; set; } = DateTime.MaxValue;
    }

    public GossipsubRouter(Libp2pHost host, GossipsubOptions? options = null)
    {
        _o = options ?? new GossipsubOptions();
        _o.Validate();
        _host = host;
        _identity = host.Options.Identity;
        _log = host.Loggers.CreateLogger("Keel.Libp2p.Gossipsub");
        _mcache = new MessageCache(_o.McacheLength, _o.McacheGossip, _o.MaxMcacheBytes);
        _seen = new SeenCache(TimeSpan.FromMilliseconds(_o.SeenTtlMs), _o.MaxSeenEntries);
        // Seqnos start at the clock so that a restarted node does not reuse ids its peers still remember.
        _seqNo = (ulong)DateTime.UtcNow.Ticks;
        _events = Channel.CreateBounded<Func<Task>>(new BoundedChannelOptions(_o.RouterQueueLength) { SingleReader = true });
        host.SetStreamHandler(ProtocolId, HandleInboundStreamAsync);
        host.SetStreamHandler(ProtocolIdV10, HandleInboundStreamAsync);
        _onConnected = c => Post(() => OnPeerConnected(c));
        _onDisconnected = p => Post(() => OnPeerDisconnected(p));
        _onMisbehaved = (p, _) => Post(() => Penalize(p, 1));
        host.PeerConnected += _onConnected;
        host.PeerDisconnected += _onDisconnected;
        host.PeerMisbehaved += _onMisbehaved;
        _loop = Task.Run(LoopAsync);
        _ticker = Task.Run(TickAsync);
        foreach (var peer in host.ConnectedPeers)
        {
            if (host.GetConnection(peer) is { } c)
            {
                Post(() => OnPeerConnected(c));
            }
        }
    }

    public GossipsubOptions Options => _o;

    /// <summary>An accepted message on a subscribed topic (raised on the router loop: keep handlers short).</summary>
    public event Action<GossipMessage>? MessageReceived;

    /// <summary>A remote peer subscribed to a topic.</summary>
    public event Action<PeerId, string>? PeerSubscribed;

    // ---- public API (marshalled onto the loop) ------------------------------------------------

    public Task SubscribeAsync(string topic) => InvokeAsync(() => { Subscribe(topic); return true; });

    public Task UnsubscribeAsync(string topic) => InvokeAsync(() => { Unsubscribe(topic); return true; });

    /// <summary>Sets the validator for a topic; messages without one are accepted once their signature checks out.</summary>
    public Task SetValidatorAsync(string topic, MessageValidator? validator) => InvokeAsync(() =>
    {
        if (validator is null)
        {
            _validators.Remove(topic);
        }
        else
        {
            _validators[topic] = validator;
        }
        return true;
    });

    /// <summary>Signs and publishes; returns how many peers it was queued for (a peer whose send queue is full misses it).</summary>
    /// <exception cref="MessageTooLargeException">data is above <see cref="GossipsubOptions.MaxMessageBytes"/>.</exception>
    public Task<int> PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        if (data.Length > _o.MaxMessageBytes)
        {
            throw new MessageTooLargeException("gossip message", data.Length, _o.MaxMessageBytes);
        }
        CheckTopic(topic);
        return InvokeAsync(() => Publish(topic, data.Span), ct);
    }

    public Task<PeerId[]> GetTopicPeersAsync(string topic) =>
        InvokeAsync(() => _peers.Values.Where(p => p.Topics.Contains(topic)).Select(p => p.Id).ToArray());

    public Task<PeerId[]> GetMeshPeersAsync(string topic) =>
        InvokeAsync(() => _mesh.TryGetValue(topic, out var m) ? [.. m] : Array.Empty<PeerId>());

    public Task<double> GetScoreAsync(PeerId peer) => InvokeAsync(() => Score(peer));

    /// <summary>Completes once some connected peer is subscribed to <paramref name="topic"/>.</summary>
    public async Task WaitForTopicPeerAsync(string topic, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            TaskCompletionSource? waiter = null;
            var any = await InvokeAsync(() =>
            {
                if (_peers.Values.Any(p => p.Topics.Contains(topic)))
                {
                    return true;
                }
                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _topicPeerWaiters.Add(waiter);
                return false;
            }, ct).ConfigureAwait(false);
            if (any)
            {
                return;
            }
            await waiter!.Task.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Completes once every RPC queued so far has been written to its peer's stream (peers that leave count as done).</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        var peers = await InvokeAsync(() => _peers.Values.ToArray(), ct).ConfigureAwait(false);
        const int PollMs = 10;
        while (peers.Any(p => Volatile.Read(ref p.Pending) > 0 && !p.Queue.Reader.Completion.IsCompleted && !p.Connection.IsClosed))
        {
            await Task.Delay(PollMs, ct).ConfigureAwait(false);
        }
    }

    // ---- loop plumbing ---------------------------------------------------------------------

    private void Post(Func<Task> work)
    {
        if (!_events.Writer.TryWrite(work))
        {
            // Peer events must not be lost; wait for room off the caller's thread.
            _ = Task.Run(async () =>
            {
                try
                {
                    await _events.Writer.WriteAsync(work, _cts.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
                {
                }
            });
        }
    }

    private void Post(Action work) => Post(() => { work(); return Task.CompletedTask; });

    private async Task<T> InvokeAsync<T>(Func<T> work, CancellationToken ct = default)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _events.Writer.WriteAsync(() =>
        {
            try
            {
                tcs.TrySetResult(work());
            }
            catch (Exception e)
            {
                tcs.TrySetException(e);
            }
            return Task.CompletedTask;
        }, ct).ConfigureAwait(false);
        return await tcs.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var work in _events.Reader.ReadAllAsync(_cts.Token).ConfigureAwait(false))
            {
                try
                {
                    await work().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.HandlerFailed(_log, e, "gossipsub event");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task TickAsync()
    {
        try
        {
            await Task.Delay(_o.HeartbeatInitialDelayMs, _cts.Token).ConfigureAwait(false);
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_o.HeartbeatIntervalMs));
            do
            {
                await _events.Writer.WriteAsync(() => { Heartbeat(); return Task.CompletedTask; }, _cts.Token).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(_cts.Token).ConfigureAwait(false));
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
        }
    }

    // ---- peers and streams -------------------------------------------------------------------

    private PeerState AddPeer(Connection connection)
    {
        if (_peers.TryGetValue(connection.RemotePeer, out var existing))
        {
            if (existing.Connection.IsClosed)
            {
                existing.Connection = connection;
            }
            return existing;
        }
        var queue = Channel.CreateBounded<RPC>(new BoundedChannelOptions(_o.PeerSendQueueLength)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var peer = new PeerState(connection.RemotePeer, connection, queue);
        _peers[peer.Id] = peer;
        if (_scores.TryGetValue(peer.Id, out var score))
        {
            score.DisconnectedUtc = DateTime.MaxValue;
        }
        _ = Task.Run(() => WriterAsync(peer));
        if (_subscriptions.Count > 0)
        {
            var hello = new RPC();
            foreach (var t in _subscriptions)
            {
                hello.Subscriptions.Add(new SubOpts { Subscribe = true, Topicid = t });
            }
            Send(peer, hello);
        }
        return peer;
    }

    private void OnPeerConnected(Connection connection) => AddPeer(connection);

    private void OnPeerDisconnected(PeerId id)
    {
        if (!_peers.Remove(id, out var peer))
        {
            return;
        }
        peer.Queue.Writer.TryComplete();
        foreach (var m in _mesh.Values)
        {
            m.Remove(id);
        }
        foreach (var f in _fanout.Values)
        {
            f.Remove(id);
        }
        if (_scores.TryGetValue(id, out var score))
        {
            score.DisconnectedUtc = DateTime.UtcNow;
        }
    }

    /// <summary>Times a peer's outbound stream is reopened (on another live connection) before the writer gives up.</summary>
    private const int MaxStreamReopens = 3;
    private const int StreamReopenDelayMs = 100;

    /// <summary>
    /// Owns the peer's one outbound meshsub stream: opens it, then drains the queue in batches.
    /// A broken stream is reopened on whichever connection to the peer is still up, so the
    /// peer's subscriptions and queued RPCs survive losing one of two connections.
    /// </summary>
    private async Task WriterAsync(PeerState peer)
    {
        var ct = _cts.Token;
        var batch = new MemoryStream();
        var prefix = new byte[Varint.MaxBytes];
        for (var attempt = 0; attempt <= MaxStreamReopens && !ct.IsCancellationRequested; attempt++)
        {
            YamuxStream? stream = null;
            Connection? streamConnection = null;
            try
            {
                while (await peer.Queue.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
                {
                    if (stream is not null && streamConnection!.IsClosed)
                    {
                        // The connection went while we were idle: move before writing, not after losing a batch.
                        await stream.DisposeAsync().ConfigureAwait(false);
                        stream = null;
                    }
                    if (stream is null)
                    {
                        if (peer.Connection.IsClosed && _host.GetConnection(peer.Id) is { } live)
                        {
                            peer.Connection = live;
                        }
                        try
                        {
                            streamConnection = peer.Connection;
                            stream = await streamConnection.OpenStreamAsync(OutboundProtocols, ct).ConfigureAwait(false);
                        }
                        catch (NegotiationException)
                        {
                            Log.NoGossipsub(_log, peer.Id);
                            Post(() => Forget(peer));
                            return;
                        }
                    }
                    batch.SetLength(0);
                    var taken = 0;
                    while (batch.Length < _o.MaxWriteBatchBytes && peer.Queue.Reader.TryRead(out var rpc))
                    {
                        taken++;
                        var bytes = rpc.ToByteArray();
                        batch.Write(prefix, 0, Varint.Write(prefix, (ulong)bytes.Length));
                        batch.Write(bytes);
                    }
                    try
                    {
                        await stream.WriteAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length), ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        // Written or lost with the stream: either way no longer pending.
                        Interlocked.Add(ref peer.Pending, -taken);
                    }
                    attempt = 0;
                }
                return;
            }
            catch (Exception e) when (e is Libp2pException or IOException or ObjectDisposedException)
            {
                Log.GossipStreamBroke(_log, peer.Id, e.Message, attempt + 1, MaxStreamReopens);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                if (stream is not null)
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
            }
            try
            {
                await Task.Delay(StreamReopenDelayMs, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (_host.GetConnection(peer.Id) is null)
            {
                return; // the host's PeerDisconnected event cleans up
            }
        }
        Log.GossipStreamGaveUp(_log, peer.Id, MaxStreamReopens);
        Post(() => Forget(peer));
    }

    /// <summary>Removes a peer's router state if it is still this instance (not one added since).</summary>
    private void Forget(PeerState peer)
    {
        if (_peers.TryGetValue(peer.Id, out var current) && current == peer)
        {
            OnPeerDisconnected(peer.Id);
        }
    }

    private async Task HandleInboundStreamAsync(YamuxStream stream, Connection connection, CancellationToken ct)
    {
        Post(() => AddPeer(connection));
        while (!ct.IsCancellationRequested)
        {
            byte[]? frame;
            try
            {
                frame = await LengthPrefixed.ReadAsync(stream, _o.MaxRpcBytes, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MessageTooLargeException or MalformedDataException)
            {
                Log.GossipStreamDropped(_log, connection.RemotePeer, e.Message);
                Post(() => Penalize(connection.RemotePeer, 1));
                stream.Reset();
                return;
            }
            if (frame is null)
            {
                return;
            }
            RPC rpc;
            try
            {
                rpc = RPC.Parser.ParseFrom(frame);
            }
            catch (InvalidProtocolBufferException e)
            {
                Log.GossipStreamDropped(_log, connection.RemotePeer, $"malformed RPC ({e.Message})");
                Post(() => Penalize(connection.RemotePeer, 1));
                stream.Reset();
                return;
            }
            // Back-pressure: a peer that outpaces the router waits here, and yamux windows hold it.
            await _events.Writer.WriteAsync(() => HandleRpcAsync(connection, rpc), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Queues an RPC for a peer; false (and logged) when its queue is full.</summary>
    private bool Send(PeerState peer, RPC rpc)
    {
        if (peer.Queue.Writer.TryWrite(rpc))
        {
            Interlocked.Increment(ref peer.Pending);
            return true;
        }
        else
        {
            peer.Dropped++;
            if (peer.Dropped == 1 || peer.Dropped % 1000 == 0)
            {
                Log.SendQueueFull(_log, peer.Id, _o.PeerSendQueueLength, peer.Dropped);
            }
            return false;
        }
    }

    // ---- scoring ----------------------------------------------------------------------------

    private ScoreState ScoreOf(PeerId peer)
    {
        if (!_scores.TryGetValue(peer, out var s))
        {
            s = new ScoreState();
            _scores[peer] = s;
        }
        return s;
    }

    private double Score(PeerId peer)
    {
        if (!_scores.TryGetValue(peer, out var s))
        {
            return 0;
        }
        return _o.InvalidMessageWeight * s.InvalidMessages * s.InvalidMessages
            + _o.BehaviourPenaltyWeight * s.BehaviourPenalty * s.BehaviourPenalty;
    }

    private void Penalize(PeerId peer, double amount) => ScoreOf(peer).BehaviourPenalty += amount;

    private void RecordInvalid(PeerId peer, string reason)
    {
        ScoreOf(peer).InvalidMessages += 1;
        Log.MessageRejected(_log, peer, reason, Score(peer));
    }

    // ---- RPC handling -----------------------------------------------------------------------

    private async Task HandleRpcAsync(Connection connection, RPC rpc)
    {
        var from = connection.RemotePeer;
        if (!_peers.TryGetValue(from, out var peer))
        {
            peer = AddPeer(connection);
        }
        if (Score(from) < _o.GraylistThreshold)
        {
            Log.Graylisted(_log, from);
            return;
        }
        foreach (var sub in rpc.Subscriptions)
        {
            HandleSubscription(peer, sub);
        }
        foreach (var message in rpc.Publish)
        {
            await HandleMessageAsync(peer, message).ConfigureAwait(false);
        }
        if (rpc.Control is { } control)
        {
            HandleControl(peer, control);
        }
    }

    private void HandleSubscription(PeerState peer, SubOpts sub)
    {
        if (!sub.HasTopicid || sub.Topicid.Length == 0 || sub.Topicid.Length > _o.MaxTopicBytes)
        {
            return;
        }
        var topic = sub.Topicid;
        if (sub.Subscribe)
        {
            if (peer.Topics.Count >= _o.MaxTopicsPerPeer && !peer.Topics.Contains(topic))
            {
                Log.TooManyTopics(_log, peer.Id, _o.MaxTopicsPerPeer, topic);
                return;
            }
            if (peer.Topics.Add(topic))
            {
                PeerSubscribed?.Invoke(peer.Id, topic);
                foreach (var w in _topicPeerWaiters)
                {
                    w.TrySetResult();
                }
                _topicPeerWaiters.Clear();
            }
        }
        else
        {
            peer.Topics.Remove(topic);
            if (_mesh.TryGetValue(topic, out var mesh))
            {
                mesh.Remove(peer.Id);
            }
            if (_fanout.TryGetValue(topic, out var fanout))
            {
                fanout.Remove(peer.Id);
            }
        }
    }

    private async Task HandleMessageAsync(PeerState peer, Message message)
    {
        if (message.Data.Length > _o.MaxMessageBytes)
        {
            RecordInvalid(peer.Id, $"data of {message.Data.Length} bytes exceeds {_o.MaxMessageBytes}");
            return;
        }
        var key = MessageSigning.Verify(message, out var author, out var reason);
        if (key is null)
        {
            RecordInvalid(peer.Id, reason!);
            return;
        }
        var idBytes = MessageSigning.MessageId(key, message.Seqno.Span);
        var id = Convert.ToHexString(idBytes);
        _promises.Remove(id);
        if (!_seen.Add(id, DateTime.UtcNow))
        {
            return;
        }
        if (author == _host.PeerId || !_subscriptions.Contains(message.Topic))
        {
            return;
        }
        var gossip = new GossipMessage(message.Topic, message.Data.ToByteArray(), author!,
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(message.Seqno.Span), idBytes, peer.Id);
        var result = ValidationResult.Accept;
        if (_validators.TryGetValue(message.Topic, out var validator))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
            timeout.CancelAfter(_o.ValidationTimeoutMs);
            try
            {
                result = await validator(gossip, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.ValidatorFailed(_log, message.Topic, e.Message);
                result = ValidationResult.Ignore;
            }
        }
        switch (result)
        {
            case ValidationResult.Reject:
                RecordInvalid(peer.Id, "application validator rejected it");
                return;
            case ValidationResult.Ignore:
                return;
        }
        _mcache.Put(id, message);
        try
        {
            MessageReceived?.Invoke(gossip);
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_log, e, "a MessageReceived handler");
        }
        Forward(message, exclude: peer.Id, author: author!);
    }

    private void Forward(Message message, PeerId exclude, PeerId author)
    {
        if (!_mesh.TryGetValue(message.Topic, out var mesh))
        {
            return;
        }
        var rpc = new RPC { Publish = { message } };
        foreach (var id in mesh)
        {
            if (id != exclude && id != author && _peers.TryGetValue(id, out var p))
            {
                Send(p, rpc);
            }
        }
    }

    private void HandleControl(PeerState peer, ControlMessage control)
    {
        var reply = new RPC();
        var score = Score(peer.Id);
        if (score >= _o.GossipThreshold)
        {
            HandleIHave(peer, control, reply);
            HandleIWant(peer, control, reply);
        }
        var now = DateTime.UtcNow;
        foreach (var graft in control.Graft)
        {
            if (!graft.HasTopicID || !_subscriptions.Contains(graft.TopicID))
            {
                continue;
            }
            var topic = graft.TopicID;
            var mesh = _mesh[topic];
            if (mesh.Contains(peer.Id))
            {
                continue;
            }
            if (_backoff.TryGetValue((peer.Id, topic), out var until) && until > now)
            {
                // Grafting during a backoff we asked for is a protocol violation; flooding it twice as bad.
                var flood = until - TimeSpan.FromMilliseconds(_o.PruneBackoffMs) + TimeSpan.FromMilliseconds(_o.GraftFloodThresholdMs) > now;
                Penalize(peer.Id, flood ? 2 : 1);
                AddPrune(reply, topic, _o.PruneBackoffMs);
                SetBackoff(peer.Id, topic, _o.PruneBackoffMs);
                continue;
            }
            if (score < 0 || (mesh.Count >= _o.DHigh && !peer.Outbound))
            {
                AddPrune(reply, topic, _o.PruneBackoffMs);
                SetBackoff(peer.Id, topic, _o.PruneBackoffMs);
                continue;
            }
            mesh.Add(peer.Id);
            peer.Topics.Add(topic);
        }
        foreach (var prune in control.Prune)
        {
            if (!prune.HasTopicID)
            {
                continue;
            }
            if (_mesh.TryGetValue(prune.TopicID, out var mesh))
            {
                mesh.Remove(peer.Id);
            }
            var backoffMs = prune.HasBackoff ? (int)Math.Min(prune.Backoff * 1000, int.MaxValue) : _o.PruneBackoffMs;
            SetBackoff(peer.Id, prune.TopicID, backoffMs);
        }
        if (reply.Publish.Count > 0 || reply.Control is not null)
        {
            Send(peer, reply);
        }
    }

    private void HandleIHave(PeerState peer, ControlMessage control, RPC reply)
    {
        if (control.Ihave.Count == 0)
        {
            return;
        }
        peer.IHavesThisHeartbeat++;
        if (peer.IHavesThisHeartbeat > _o.MaxIHaveMessages)
        {
            return;
        }
        var want = new ControlIWant();
        foreach (var ihave in control.Ihave)
        {
            if (!ihave.HasTopicID || !_subscriptions.Contains(ihave.TopicID))
            {
                continue;
            }
            foreach (var idBytes in ihave.MessageIDs)
            {
                if (peer.IWantedThisHeartbeat >= _o.MaxIHaveLength)
                {
                    break;
                }
                var id = Convert.ToHexString(idBytes.Span);
                if (_seen.Contains(id) || _promises.ContainsKey(id))
                {
                    continue;
                }
                want.MessageIDs.Add(idBytes);
                peer.IWantedThisHeartbeat++;
                _promises[id] = (peer.Id, DateTime.UtcNow.AddMilliseconds(_o.IWantFollowupMs));
            }
        }
        if (want.MessageIDs.Count > 0)
        {
            (reply.Control ??= new ControlMessage()).Iwant.Add(want);
        }
    }

    private void HandleIWant(PeerState peer, ControlMessage control, RPC reply)
    {
        foreach (var iwant in control.Iwant)
        {
            foreach (var idBytes in iwant.MessageIDs)
            {
                var entry = _mcache.Get(Convert.ToHexString(idBytes.Span));
                if (entry is null)
                {
                    continue;
                }
                var served = entry.Served.GetValueOrDefault(peer.Id);
                if (served >= _o.MaxIWantRetransmits)
                {
                    continue;
                }
                entry.Served[peer.Id] = served + 1;
                reply.Publish.Add(entry.Message);
            }
        }
    }

    private static void AddPrune(RPC rpc, string topic, int backoffMs) =>
        (rpc.Control ??= new ControlMessage()).Prune.Add(new ControlPrune { TopicID = topic, Backoff = (ulong)(backoffMs / 1000) });

    private void SetBackoff(PeerId peer, string topic, int ms) => _backoff[(peer, topic)] = DateTime.UtcNow.AddMilliseconds(ms);

    private bool InBackoff(PeerId peer, string topic) =>
        _backoff.TryGetValue((peer, topic), out var until) && until > DateTime.UtcNow;

    // ---- local operations -------------------------------------------------------------------

    private static void CheckTopic(string topic)
    {
        if (string.IsNullOrEmpty(topic))
        {
            throw new ArgumentException("empty topic");
        }
    }

    private void Subscribe(string topic)
    {
        CheckTopic(topic);
        if (!_subscriptions.Add(topic))
        {
            return;
        }
        var announce = new RPC { Subscriptions = { new SubOpts { Subscribe = true, Topicid = topic } } };
        foreach (var p in _peers.Values)
        {
            Send(p, announce);
        }
        var mesh = new HashSet<PeerId>();
        _mesh[topic] = mesh;
        if (_fanout.Remove(topic, out var fanout))
        {
            _fanoutLastPublish.Remove(topic);
            foreach (var id in fanout.Where(id => Score(id) >= 0).Take(_o.D))
            {
                mesh.Add(id);
            }
        }
        foreach (var p in Shuffle(_peers.Values.Where(p => p.Topics.Contains(topic) && !mesh.Contains(p.Id) && !InBackoff(p.Id, topic) && Score(p.Id) >= 0)))
        {
            if (mesh.Count >= _o.D)
            {
                break;
            }
            mesh.Add(p.Id);
        }
        foreach (var id in mesh)
        {
            Send(_peers[id], new RPC { Control = new ControlMessage { Graft = { new ControlGraft { TopicID = topic } } } });
        }
    }

    private void Unsubscribe(string topic)
    {
        if (!_subscriptions.Remove(topic))
        {
            return;
        }
        var announce = new RPC { Subscriptions = { new SubOpts { Subscribe = false, Topicid = topic } } };
        foreach (var p in _peers.Values)
        {
            Send(p, announce);
        }
        if (_mesh.Remove(topic, out var mesh))
        {
            foreach (var id in mesh)
            {
                if (_peers.TryGetValue(id, out var p))
                {
                    var rpc = new RPC();
                    AddPrune(rpc, topic, _o.UnsubscribeBackoffMs);
                    Send(p, rpc);
                    SetBackoff(id, topic, _o.UnsubscribeBackoffMs);
                }
            }
        }
    }

    private int Publish(string topic, ReadOnlySpan<byte> data)
    {
        var message = MessageSigning.Sign(_identity, topic, data, ++_seqNo);
        var id = Convert.ToHexString(MessageSigning.MessageId(_identity.PublicKey, message.Seqno.Span));
        _seen.Add(id, DateTime.UtcNow);
        _mcache.Put(id, message);

        IEnumerable<PeerState> targets;
        if (_o.FloodPublish)
        {
            targets = _peers.Values.Where(p => p.Topics.Contains(topic) && Score(p.Id) >= _o.PublishThreshold);
        }
        else if (_mesh.TryGetValue(topic, out var mesh))
        {
            targets = mesh.Select(id => _peers[id]);
        }
        else
        {
            targets = FanoutPeers(topic).Select(id => _peers[id]);
        }
        if (!_subscriptions.Contains(topic))
        {
            FanoutPeers(topic);
            _fanoutLastPublish[topic] = DateTime.UtcNow;
        }
        var rpc = new RPC { Publish = { message } };
        var sent = 0;
        foreach (var p in targets.ToList())
        {
            if (Send(p, rpc))
            {
                sent++;
            }
        }
        return sent;
    }

    private HashSet<PeerId> FanoutPeers(string topic)
    {
        if (!_fanout.TryGetValue(topic, out var fanout))
        {
            fanout = [];
            _fanout[topic] = fanout;
        }
        if (fanout.Count < _o.D)
        {
            foreach (var p in Shuffle(_peers.Values.Where(p => p.Topics.Contains(topic) && !fanout.Contains(p.Id) && Score(p.Id) >= _o.PublishThreshold)))
            {
                if (fanout.Count >= _o.D)
                {
                    break;
                }
                fanout.Add(p.Id);
            }
        }
        return fanout;
    }

    // ---- heartbeat --------------------------------------------------------------------------

    private void Heartbeat()
    {
        var now = DateTime.UtcNow;
        DecayScores(now);
        var control = new Dictionary<PeerId, ControlMessage>();
        ControlMessage For(PeerId id)
        {
            if (!control.TryGetValue(id, out var c))
            {
                c = new ControlMessage();
                control[id] = c;
            }
            return c;
        }

        foreach (var (topic, mesh) in _mesh)
        {
            foreach (var id in mesh.Where(id => Score(id) < 0 || !_peers.ContainsKey(id)).ToList())
            {
                mesh.Remove(id);
                if (_peers.ContainsKey(id))
                {
                    For(id).Prune.Add(new ControlPrune { TopicID = topic, Backoff = (ulong)(_o.PruneBackoffMs / 1000) });
                    SetBackoff(id, topic, _o.PruneBackoffMs);
                }
            }
            if (mesh.Count < _o.DLow)
            {
                foreach (var p in Shuffle(_peers.Values.Where(p => p.Topics.Contains(topic) && !mesh.Contains(p.Id) && !InBackoff(p.Id, topic) && Score(p.Id) >= 0)))
                {
                    if (mesh.Count >= _o.D)
                    {
                        break;
                    }
                    mesh.Add(p.Id);
                    For(p.Id).Graft.Add(new ControlGraft { TopicID = topic });
                }
            }
            else if (mesh.Count > _o.DHigh)
            {
                var keep = SelectMeshSurvivors(mesh);
                foreach (var id in mesh.Where(id => !keep.Contains(id)).ToList())
                {
                    mesh.Remove(id);
                    For(id).Prune.Add(new ControlPrune { TopicID = topic, Backoff = (ulong)(_o.PruneBackoffMs / 1000) });
                    SetBackoff(id, topic, _o.PruneBackoffMs);
                }
            }
        }

        foreach (var (topic, last) in _fanoutLastPublish.ToList())
        {
            if ((now - last).TotalMilliseconds > _o.FanoutTtlMs)
            {
                _fanoutLastPublish.Remove(topic);
                _fanout.Remove(topic);
            }
            else
            {
                _fanout[topic].RemoveWhere(id => !_peers.TryGetValue(id, out var p) || !p.Topics.Contains(topic) || Score(id) < _o.PublishThreshold);
                FanoutPeers(topic);
            }
        }

        foreach (var topic in _mesh.Keys.Concat(_fanout.Keys))
        {
            EmitGossip(topic, For);
        }

        foreach (var (id, c) in control)
        {
            if (_peers.TryGetValue(id, out var p))
            {
                Send(p, new RPC { Control = c });
            }
        }

        foreach (var (id, promise) in _promises.ToList())
        {
            if (promise.Deadline <= now)
            {
                _promises.Remove(id);
                Penalize(promise.Peer, 1);
                Log.BrokenPromise(_log, promise.Peer, id);
            }
        }
        foreach (var p in _peers.Values)
        {
            p.IHavesThisHeartbeat = 0;
            p.IWantedThisHeartbeat = 0;
        }
        foreach (var (key, until) in _backoff.ToList())
        {
            if (until <= now)
            {
                _backoff.Remove(key);
            }
        }
        _mcache.Shift();
        _seen.Prune(now);
    }

    /// <summary>The D peers a too-large mesh keeps: the D_score best, then random, with at least D_out outbound.</summary>
    private HashSet<PeerId> SelectMeshSurvivors(HashSet<PeerId> mesh)
    {
        var ranked = Shuffle(mesh).OrderByDescending(Score).ToList();
        var keep = new HashSet<PeerId>(ranked.Take(_o.DScore));
        foreach (var id in Shuffle(ranked.Skip(_o.DScore)))
        {
            if (keep.Count >= _o.D)
            {
                break;
            }
            keep.Add(id);
        }
        var outbound = keep.Count(id => _peers.TryGetValue(id, out var p) && p.Outbound);
        if (outbound < _o.DOut)
        {
            foreach (var id in ranked.Where(id => !keep.Contains(id) && _peers.TryGetValue(id, out var p) && p.Outbound))
            {
                if (outbound >= _o.DOut)
                {
                    break;
                }
                var evict = keep.Where(k => !(_peers.TryGetValue(k, out var p) && p.Outbound)).OrderBy(Score).First();
                keep.Remove(evict);
                keep.Add(id);
                outbound++;
            }
        }
        return keep;
    }

    private void EmitGossip(string topic, Func<PeerId, ControlMessage> control)
    {
        var ids = _mcache.GossipIds(topic);
        if (ids.Count == 0)
        {
            return;
        }
        if (ids.Count > _o.MaxIHaveLength)
        {
            ids = Shuffle(ids).Take(_o.MaxIHaveLength).ToList();
        }
        var exclude = _mesh.TryGetValue(topic, out var m) ? m : _fanout.GetValueOrDefault(topic) ?? [];
        var candidates = _peers.Values
            .Where(p => p.Topics.Contains(topic) && !exclude.Contains(p.Id) && Score(p.Id) >= _o.GossipThreshold)
            .Select(p => p.Id).ToList();
        var count = Math.Max(_o.DLazy, (int)(_o.GossipFactor * candidates.Count));
        var ihave = new ControlIHave { TopicID = topic };
        ihave.MessageIDs.AddRange(ids.Select(id => ByteString.CopyFrom(Convert.FromHexString(id))));
        foreach (var id in Shuffle(candidates).Take(count))
        {
            control(id).Ihave.Add(ihave);
        }
    }

    private void DecayScores(DateTime now)
    {
        foreach (var (id, s) in _scores.ToList())
        {
            s.InvalidMessages *= _o.InvalidMessageDecay;
            if (s.InvalidMessages < _o.DecayToZero)
            {
                s.InvalidMessages = 0;
            }
            s.BehaviourPenalty *= _o.BehaviourPenaltyDecay;
            if (s.BehaviourPenalty < _o.DecayToZero)
            {
                s.BehaviourPenalty = 0;
            }
            var idle = s.DisconnectedUtc != DateTime.MaxValue && (now - s.DisconnectedUtc).TotalMilliseconds > _o.RetainScoreMs;
            if (idle || (s.InvalidMessages == 0 && s.BehaviourPenalty == 0 && !_peers.ContainsKey(id)))
            {
                _scores.Remove(id);
            }
        }
    }

    private static List<T> Shuffle<T>(IEnumerable<T> items)
    {
        var list = items.ToList();
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }
        _host.PeerConnected -= _onConnected;
        _host.PeerDisconnected -= _onDisconnected;
        _host.PeerMisbehaved -= _onMisbehaved;
        _host.RemoveStreamHandler(ProtocolId);
        _host.RemoveStreamHandler(ProtocolIdV10);
        _cts.Cancel();
        _events.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_loop, _ticker).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _cts.Dispose();
    }
}
