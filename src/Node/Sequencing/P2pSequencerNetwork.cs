using System.Buffers.Binary;
using Keel.Consensus;
using Keel.Consensus.Codec;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Libp2p.Gossipsub;
using Keel.Libp2p.Host;
using Keel.Libp2p;
using Keel.Libp2p.Protocols;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Sequencing;

/// <summary>
/// Consensus and transactions over libp2p:
/// <list type="bullet">
/// <item>broadcasts (proposals, timeouts, sync info) are gossiped on <c>/keel/&lt;network&gt;/consensus/1</c>;</item>
/// <item>messages to one validator (votes to the next leader, block fetches and their answers) go by
/// <c>/keel/req/1</c>, method <see cref="ConsensusMethod"/>, to that validator's peer id;</item>
/// <item>transactions are gossiped in small batches on <c>/keel/&lt;network&gt;/tx/&lt;chainId&gt;/1</c>.</item>
/// </list>
/// The sending validator is authenticated by its libp2p peer id (the gossip author under StrictSign,
/// or the Noise-authenticated peer of a request), mapped to its index through the validator set; a
/// message from a peer that is not a validator is dropped.
/// </summary>
public sealed class P2pSequencerNetwork : IConsensusNetwork, IAsyncDisposable
{
    public const string ConsensusMethod = "consensus";

    /// <summary>Committed blocks by height, served to full nodes (and anyone catching up from the block store).</summary>
    public const string BlocksMethod = "blocks";

    /// <summary>Blocks in one answer to <see cref="BlocksMethod"/>.</summary>
    public const int MaxBlocksPerFetch = 64;

    /// <summary>Bytes of one answer to <see cref="BlocksMethod"/> (a block that alone is larger is still sent).</summary>
    public const int MaxBlocksResponseBytes = 8 * 1024 * 1024;

    /// <summary>Direct sends in flight at once; beyond it a send is dropped (the protocol tolerates loss).</summary>
    public const int MaxInFlightSends = 512;

    /// <summary>Time a direct send may take before it is abandoned.</summary>
    public const int SendTimeoutMs = 5_000;

    /// <summary>Transactions gossiped in one message.</summary>
    public const int MaxTxsPerGossipBatch = 512;

    /// <summary>Bytes of transactions gossiped in one message.</summary>
    public const int MaxTxGossipBatchBytes = 512 * 1024;

    /// <summary>How long a transaction waits for others to share its gossip message.</summary>
    public const int TxGossipDelayMs = 5;

    /// <summary>
    /// A transaction batch published while no peer is known on its topic (just after start, before
    /// subscriptions are exchanged) is tried again this many times, <see cref="TxRepublishDelayMs"/> apart:
    /// a full node never proposes, so a transaction it could not gossip would wait in its mempool forever.
    /// </summary>
    public const int MaxTxPublishAttempts = 100;

    public const int TxRepublishDelayMs = 100;

    private readonly Libp2pHost _host;
    private readonly GossipsubRouter _router;
    private readonly RequestResponse _requests;
    private readonly ConsensusDriver? _driver;
    private readonly ILogger _logger;
    private readonly string _consensusTopic;
    private readonly Dictionary<PeerId, int> _indexByPeer;
    private readonly PeerId?[] _peerByIndex;
    private readonly int _selfIndex;
    private readonly SemaphoreSlim _sendSlots = new(MaxInFlightSends, MaxInFlightSends);
    private readonly Dictionary<ulong, TxBatcher> _txBatchers = [];
    private readonly Dictionary<string, ulong> _chainByTopic = new(StringComparer.Ordinal);
    private Func<ulong, byte[], bool>? _onTransaction;
    private long _droppedSends;
    private long _rejectedMessages;

    public P2pSequencerNetwork(Libp2pHost host, string network, IReadOnlyList<PeerId?> validatorPeers, int selfIndex, ConsensusDriver? driver, ILogger logger)
    {
        _host = host;
        _driver = driver;
        _logger = logger;
        _selfIndex = selfIndex;
        _consensusTopic = $"/keel/{network}/consensus/1";
        _peerByIndex = [.. validatorPeers];
        _indexByPeer = [];
        for (var i = 0; i < validatorPeers.Count; i++)
        {
            if (validatorPeers[i] is { } peer)
            {
                _indexByPeer[peer] = i;
            }
        }
        _router = new GossipsubRouter(host, new GossipsubOptions
        {
            MaxMessageBytes = ConsensusLimits.MaxMessageBytes,
            MaxRpcBytes = ConsensusLimits.MaxMessageBytes + 1024 * 1024,
            HeartbeatIntervalMs = 700,
        });
        _requests = new RequestResponse(host, maxRequestBytes: ConsensusLimits.MaxMessageBytes, maxResponseBytes: MaxBlocksResponseBytes + ConsensusLimits.MaxMessageBytes, timeoutMs: SendTimeoutMs);
        _router.MessageReceived += OnGossip;
        _requests.Register(ConsensusMethod, OnRequest);
        Network = network;
    }

    public string Network { get; }

    public Libp2pHost Host => _host;

    public GossipsubRouter Router => _router;

    public long DroppedSends => Interlocked.Read(ref _droppedSends);

    public long RejectedMessages => Interlocked.Read(ref _rejectedMessages);

    public static string TxTopic(string network, ulong chainId) => $"/keel/{network}/tx/{chainId}/1";

    /// <summary>Subscribes to the consensus topic and the transaction topics; <paramref name="onTransaction"/> admits a gossiped transaction (false: refused).</summary>
    public async Task StartAsync(IEnumerable<ulong> chainIds, Func<ulong, byte[], bool> onTransaction, CancellationToken ct)
    {
        _onTransaction = onTransaction;
        await _router.SubscribeAsync(_consensusTopic);
        foreach (var chainId in chainIds)
        {
            var topic = TxTopic(Network, chainId);
            _chainByTopic[topic] = chainId;
            _txBatchers[chainId] = new TxBatcher(this, topic);
            await _router.SubscribeAsync(topic);
        }
    }

    // ------------------------------------------------------------------ IConsensusNetwork

    public void Broadcast(ConsensusMessage message)
    {
        var bytes = ConsensusCodec.Encode(message);
        _ = PublishAsync(_consensusTopic, bytes);
    }

    public void Send(int validatorIndex, ConsensusMessage message)
    {
        if (validatorIndex == _selfIndex)
        {
            _driver?.Post(ConsensusEvent.FromMessage(validatorIndex, message));
            return;
        }
        if ((uint)validatorIndex >= (uint)_peerByIndex.Length || _peerByIndex[validatorIndex] is not { } peer)
        {
            Interlocked.Increment(ref _droppedSends);
            return;
        }
        if (!_sendSlots.Wait(0))
        {
            Interlocked.Increment(ref _droppedSends);
            return;
        }
        var bytes = ConsensusCodec.Encode(message);
        _ = SendAsync(peer, bytes);
    }

    /// <summary>Gossips a transaction this node admitted (batched with others for a few milliseconds).</summary>
    public void GossipTransaction(ulong chainId, byte[] raw)
    {
        if (_txBatchers.TryGetValue(chainId, out var batcher))
        {
            batcher.Add(raw);
        }
    }

    private async Task SendAsync(PeerId peer, byte[] bytes)
    {
        try
        {
            await _requests.RequestAsync(peer, ConsensusMethod, bytes, CancellationToken.None, SendTimeoutMs).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _droppedSends);
            _logger.LogDebug("consensus send to {Peer} failed: {Reason}", peer, e.Message);
        }
        finally
        {
            _sendSlots.Release();
        }
    }

    private async Task PublishAsync(string topic, byte[] bytes, int attempts = 1)
    {
        try
        {
            for (var attempt = 1; await _router.PublishAsync(topic, bytes).ConfigureAwait(false) == 0 && attempt < attempts; attempt++)
            {
                await Task.Delay(TxRepublishDelayMs).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _droppedSends);
            _logger.LogDebug("publish on {Topic} failed: {Reason}", topic, e.Message);
        }
    }

    /// <summary>Serves committed blocks from <paramref name="store"/> to peers that ask (validators and full nodes alike).</summary>
    public void ServeBlocks(Keel.Sequencer.Availability.IBlockStore store)
    {
        _requests.Register(BlocksMethod, (from, payload, ct) =>
        {
            if (payload.Length != 12)
            {
                throw new ArgumentException("a blocks request is 8 bytes of height and 4 of count");
            }
            var from64 = BinaryPrimitives.ReadInt64BigEndian(payload.Span);
            var count = Math.Clamp(BinaryPrimitives.ReadInt32BigEndian(payload.Span[8..]), 0, MaxBlocksPerFetch);
            var parts = new List<byte[]>();
            var total = 2;
            for (var h = Math.Max(1, from64); h < from64 + count && store.GetByHeight(h) is { } stored; h++)
            {
                var record = KvBlockStore.Encode(stored);
                if (parts.Count > 0 && total + 4 + record.Length > MaxBlocksResponseBytes)
                {
                    break;
                }
                parts.Add(record);
                total += 4 + record.Length;
            }
            var output = new byte[total];
            BinaryPrimitives.WriteUInt16BigEndian(output, (ushort)parts.Count);
            var offset = 2;
            foreach (var part in parts)
            {
                BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(offset), part.Length);
                part.CopyTo(output.AsSpan(offset + 4));
                offset += 4 + part.Length;
            }
            return ValueTask.FromResult(output);
        });
    }

    /// <summary>Asks <paramref name="peer"/> for committed blocks from <paramref name="fromHeight"/> on (at most <see cref="MaxBlocksPerFetch"/>).</summary>
    /// <exception cref="Keel.Consensus.ConsensusStoreException">the answer is malformed</exception>
    public async Task<IReadOnlyList<Keel.Sequencer.Availability.StoredBlock>> FetchBlocksAsync(PeerId peer, long fromHeight, CancellationToken ct)
    {
        var request = new byte[12];
        BinaryPrimitives.WriteInt64BigEndian(request, fromHeight);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), MaxBlocksPerFetch);
        var answer = await _requests.RequestAsync(peer, BlocksMethod, request, ct, SendTimeoutMs).ConfigureAwait(false);
        if (answer.Length < 2)
        {
            throw new ConsensusStoreException("blocks answer is truncated");
        }
        int count = BinaryPrimitives.ReadUInt16BigEndian(answer);
        if (count > MaxBlocksPerFetch)
        {
            throw new ConsensusStoreException($"blocks answer has {count} blocks, more than {MaxBlocksPerFetch}");
        }
        var blocks = new List<Keel.Sequencer.Availability.StoredBlock>(count);
        var offset = 2;
        for (var i = 0; i < count; i++)
        {
            if (offset + 4 > answer.Length)
            {
                throw new ConsensusStoreException("blocks answer is truncated");
            }
            var length = BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(offset));
            if (length <= 0 || offset + 4 + length > answer.Length)
            {
                throw new ConsensusStoreException("blocks answer has a bad length");
            }
            blocks.Add(KvBlockStore.Decode(answer.AsSpan(offset + 4, length).ToArray()));
            offset += 4 + length;
        }
        return blocks;
    }

    // ------------------------------------------------------------------ inbound

    private ValueTask<byte[]> OnRequest(PeerId from, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        Deliver(from, payload.Span);
        return ValueTask.FromResult(Array.Empty<byte>());
    }

    private void OnGossip(GossipMessage message)
    {
        if (message.Topic == _consensusTopic)
        {
            Deliver(message.Author, message.Data);
            return;
        }
        if (_chainByTopic.TryGetValue(message.Topic, out var chainId) && _onTransaction is { } admit)
        {
            foreach (var raw in TxGossipCodec.Decode(message.Data, MaxTxsPerGossipBatch))
            {
                admit(chainId, raw);
            }
        }
    }

    private void Deliver(PeerId from, ReadOnlySpan<byte> bytes)
    {
        if (!_indexByPeer.TryGetValue(from, out var index))
        {
            Interlocked.Increment(ref _rejectedMessages);
            return;
        }
        if (_driver is null)
        {
            return; // a full node follows committed blocks, not consensus messages
        }
        try
        {
            _driver.Post(ConsensusEvent.FromMessage(index, ConsensusCodec.Decode(bytes)));
        }
        catch (InvalidConsensusMessageException e)
        {
            Interlocked.Increment(ref _rejectedMessages);
            _host.ReportMisbehaviour(from, $"invalid consensus message: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var batcher in _txBatchers.Values)
        {
            batcher.Dispose();
        }
        await _router.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Collects transactions for a few milliseconds into one length-prefixed gossip message.</summary>
    private sealed class TxBatcher : IDisposable
    {
        private readonly P2pSequencerNetwork _owner;
        private readonly string _topic;
        private readonly object _lock = new();
        private readonly Timer _timer;
        private List<byte[]> _pending = [];
        private int _pendingBytes;

        public TxBatcher(P2pSequencerNetwork owner, string topic)
        {
            _owner = owner;
            _topic = topic;
            _timer = new Timer(_ => Flush(), null, Timeout.Infinite, Timeout.Infinite);
        }

        public void Add(byte[] raw)
        {
            bool flushNow;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _timer.Change(TxGossipDelayMs, Timeout.Infinite);
                }
                _pending.Add(raw);
                _pendingBytes += 4 + raw.Length;
                flushNow = _pending.Count >= MaxTxsPerGossipBatch || _pendingBytes >= MaxTxGossipBatchBytes;
            }
            if (flushNow)
            {
                Flush();
            }
        }

        private void Flush()
        {
            List<byte[]> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    return;
                }
                batch = _pending;
                _pending = [];
                _pendingBytes = 0;
            }
            _ = _owner.PublishAsync(_topic, TxGossipCodec.Encode(batch), MaxTxPublishAttempts);
        }

        public void Dispose() => _timer.Dispose();
    }
}

/// <summary>
/// A gossiped transaction batch: each transaction as a 4-byte big-endian length and its bytes. Input
/// from peers: decoding stops at the first malformed length or at the count limit, keeping what came
/// before (each transaction is then judged by the mempool on its own).
/// </summary>
internal static class TxGossipCodec
{
    public static byte[] Encode(IReadOnlyList<byte[]> transactions)
    {
        var output = new byte[transactions.Sum(t => 4 + t.Length)];
        var offset = 0;
        foreach (var raw in transactions)
        {
            BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(offset), raw.Length);
            raw.CopyTo(output.AsSpan(offset + 4));
            offset += 4 + raw.Length;
        }
        return output;
    }

    public static List<byte[]> Decode(ReadOnlySpan<byte> data, int maxTransactions)
    {
        var result = new List<byte[]>();
        var offset = 0;
        while (offset + 4 <= data.Length && result.Count < maxTransactions)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data[offset..]);
            if (length <= 0 || length > data.Length - offset - 4)
            {
                break;
            }
            result.Add(data.Slice(offset + 4, length).ToArray());
            offset += 4 + length;
        }
        return result;
    }
}
