using Keel.Core;
using Keel.Core.Crypto;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Mempool;

/// <summary>A transaction held by an opaque mempool.</summary>
public sealed record PooledOpaque(Hash32 Hash, byte[] Raw, long Sequence);

/// <summary>
/// The mempool of one opaque namespace: bytes in arrival order (first come, first ordered), no
/// sender, no nonce, no fee. Checks: non-empty, at most MaxTxBytes, not already pooled, pool count and
/// byte limits (a full pool refuses; nothing is evicted). Included transactions leave on commit.
/// Thread-safe.
/// </summary>
public sealed class OpaqueMempool : INamespaceMempool
{
    private readonly object _lock = new();
    private readonly Dictionary<Hash32, PooledOpaque> _byHash = [];
    private readonly SortedDictionary<long, PooledOpaque> _bySequence = [];
    private readonly DropLog _drops = new();
    private long _bytes;
    private long _sequence;

    public OpaqueMempool(NamespaceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Profile != ValidationProfile.Opaque)
        {
            throw new SequencerConfigException($"namespace {config.ChainId} is not an opaque namespace");
        }
        config.Validate();
        Config = config;
    }

    public NamespaceConfig Config { get; }

    public int Count
    {
        get { lock (_lock) { return _byHash.Count; } }
    }

    public long Bytes
    {
        get { lock (_lock) { return _bytes; } }
    }

    public bool HasReady => Count > 0;

    public SubmitResult Submit(ReadOnlySpan<byte> raw)
    {
        if (raw.Length == 0)
        {
            throw new MempoolRejectedException(MempoolError.Malformed, "empty transaction");
        }
        if (raw.Length > Config.MaxTxBytes)
        {
            throw new MempoolRejectedException(MempoolError.Oversized, $"transaction of {raw.Length} bytes exceeds the limit of {Config.MaxTxBytes}");
        }
        var hash = Keccak256.HashToHash32(raw);
        lock (_lock)
        {
            if (_byHash.ContainsKey(hash))
            {
                throw new MempoolRejectedException(MempoolError.AlreadyKnown, $"transaction {hash} is already pooled");
            }
            if (_byHash.Count >= Config.MempoolMaxTxs)
            {
                throw new MempoolRejectedException(MempoolError.PoolFull, $"{_byHash.Count} transactions pooled (limit {Config.MempoolMaxTxs})");
            }
            if (_bytes + raw.Length > Config.MempoolMaxBytes)
            {
                throw new MempoolRejectedException(MempoolError.PoolFull, $"{_bytes} bytes pooled (limit {Config.MempoolMaxBytes})");
            }
            var entry = new PooledOpaque(hash, raw.ToArray(), ++_sequence);
            _byHash[hash] = entry;
            _bySequence[entry.Sequence] = entry;
            _bytes += raw.Length;
            _drops.Forget(hash);
            return new SubmitResult(hash, null);
        }
    }

    public bool Contains(Hash32 hash)
    {
        lock (_lock)
        {
            return _byHash.ContainsKey(hash);
        }
    }

    public bool TryGetRaw(Hash32 hash, out byte[] raw)
    {
        lock (_lock)
        {
            if (_byHash.TryGetValue(hash, out var entry))
            {
                raw = entry.Raw;
                return true;
            }
        }
        raw = [];
        return false;
    }

    public bool TryGetDropped(Hash32 hash, out DroppedTransaction dropped)
    {
        lock (_lock)
        {
            return _drops.TryGet(hash, out dropped);
        }
    }

    /// <summary>Pooled transactions in arrival order, at most <paramref name="max"/> (a copy, for the block builder).</summary>
    public IReadOnlyList<PooledOpaque> Snapshot(int max)
    {
        lock (_lock)
        {
            return [.. _bySequence.Values.Take(max)];
        }
    }

    /// <summary>Removes the transactions a committed block included.</summary>
    public void OnCommitted(IEnumerable<Hash32> included)
    {
        lock (_lock)
        {
            foreach (var hash in included)
            {
                if (_byHash.Remove(hash, out var entry))
                {
                    _bySequence.Remove(entry.Sequence);
                    _bytes -= entry.Raw.Length;
                }
            }
        }
    }
}
