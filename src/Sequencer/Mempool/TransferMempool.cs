using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Mempool;

/// <summary>A transaction held by a transfer mempool: raw bytes, the decoded transfer and its arrival order.</summary>
public sealed record PooledTransfer(Hash32 Hash, byte[] Raw, Transfer Transfer, long Sequence, UInt128 MaxCost);

/// <summary>
/// The mempool of one transfer namespace: per sender, a queue ordered by nonce. Rules (each limit a
/// setting of <see cref="NamespaceConfig"/> bounded by <see cref="SequencerLimits"/>):
/// <list type="bullet">
/// <item>admission decodes and recovers the sender, then checks against the committed state: nonce at
/// least the committed nonce and less than committed + MempoolMaxNonceGap; the sender's queued
/// transactions together (each counted at value + 21000 * maxFee) within its committed balance;
/// max fee at least the base fee;</item>
/// <item>same sender and nonce replaces only with both max fee and tip at least 10% higher (geth's
/// price bump); an identical transaction is "already known";</item>
/// <item>when the pool is full (count or bytes) or the sender's queue is, new transactions are refused;
/// nothing accepted is evicted to make room;</item>
/// <item>after a commit, included transactions leave; the queues of accounts the block touched are
/// re-checked: nonces now used are dropped (<see cref="MempoolError.NonceUsed"/>), and from the first
/// transaction the balance no longer covers, the rest of that sender's queue is dropped
/// (<see cref="MempoolError.InsufficientFunds"/>). Drops are returned and remembered with their reason.</item>
/// </list>
/// Thread-safe: JSON-RPC threads submit while the consensus thread selects and commits.
/// </summary>
public sealed class TransferMempool : INamespaceMempool
{
    /// <summary>Replacement needs both fee caps raised by at least this percentage.</summary>
    public const int PriceBumpPercent = 10;

    private readonly object _lock = new();
    private readonly IAccountReader _committed;
    private readonly Dictionary<Hash32, PooledTransfer> _byHash = [];
    private readonly Dictionary<Address, SortedList<ulong, PooledTransfer>> _senders = [];
    private readonly DropLog _drops = new();
    private long _bytes;
    private long _sequence;

    /// <param name="committed">the namespace's committed accounts; must be safe to read from any thread</param>
    public TransferMempool(NamespaceConfig config, IAccountReader committed)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(committed);
        if (config.Profile != ValidationProfile.Transfer)
        {
            throw new SequencerConfigException($"namespace {config.ChainId} is not a transfer namespace");
        }
        config.Validate();
        Config = config;
        _committed = committed;
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

    public bool HasReady
    {
        get
        {
            lock (_lock)
            {
                foreach (var (sender, queue) in _senders)
                {
                    if (queue.Keys[0] == _committed.GetAccount(sender).Nonce)
                    {
                        return true;
                    }
                }
                return false;
            }
        }
    }

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
        }
        Transfer tx;
        try
        {
            // Signature recovery is the costly part: outside the lock.
            tx = TransferDecoder.Decode(raw, Config.ChainId);
        }
        catch (InvalidTransferException e)
        {
            throw new MempoolRejectedException(RpcMessages.FromTransferError(e.Error), e.Message, e.Error);
        }
        if (tx.MaxFeePerGas < Config.BaseFeePerGas)
        {
            throw new MempoolRejectedException(MempoolError.FeeCapBelowBaseFee, $"max fee per gas {tx.MaxFeePerGas} is below the base fee {Config.BaseFeePerGas}");
        }
        if (!TransferRules.TryMaxCost(tx, out var maxCost))
        {
            throw new MempoolRejectedException(MempoolError.InsufficientFunds, "value + gas * max fee exceeds 2^128 - 1 wei", TransferError.InsufficientBalance);
        }
        var entry = new PooledTransfer(hash, raw.ToArray(), tx, 0, maxCost);
        lock (_lock)
        {
            return Admit(entry);
        }
    }

    private SubmitResult Admit(PooledTransfer entry)
    {
        var tx = entry.Transfer;
        if (_byHash.ContainsKey(entry.Hash))
        {
            throw new MempoolRejectedException(MempoolError.AlreadyKnown, $"transaction {entry.Hash} is already pooled");
        }
        var account = _committed.GetAccount(tx.From);
        if (tx.Nonce < account.Nonce)
        {
            throw new MempoolRejectedException(MempoolError.NonceTooLow, $"next nonce {account.Nonce}, transaction nonce {tx.Nonce}", TransferError.NonceTooLow);
        }
        if (tx.Nonce - account.Nonce >= (ulong)Config.MempoolMaxNonceGap)
        {
            throw new MempoolRejectedException(MempoolError.NonceTooHigh, $"nonce {tx.Nonce} is {tx.Nonce - account.Nonce} ahead of the committed nonce {account.Nonce}; at most {Config.MempoolMaxNonceGap - 1} ahead is queued", TransferError.NonceTooHigh);
        }
        _senders.TryGetValue(tx.From, out var queue);
        PooledTransfer? replaced = null;
        if (queue is not null && queue.TryGetValue(tx.Nonce, out var existing))
        {
            if (!OutbidsBy(tx, existing.Transfer))
            {
                throw new MempoolRejectedException(MempoolError.ReplacementUnderpriced,
                    $"replacing nonce {tx.Nonce} needs max fee >= {Bumped(existing.Transfer.MaxFeePerGas)} and tip >= {Bumped(existing.Transfer.MaxPriorityFeePerGas)}");
            }
            replaced = existing;
        }
        else
        {
            if (queue is not null && queue.Count >= Config.MempoolMaxTxsPerSender)
            {
                throw new MempoolRejectedException(MempoolError.AccountLimitExceeded, $"sender {tx.From} already has {queue.Count} queued transactions (limit {Config.MempoolMaxTxsPerSender})");
            }
            if (_byHash.Count >= Config.MempoolMaxTxs)
            {
                throw new MempoolRejectedException(MempoolError.PoolFull, $"{_byHash.Count} transactions pooled (limit {Config.MempoolMaxTxs})");
            }
        }
        var newBytes = _bytes + entry.Raw.Length - (replaced?.Raw.Length ?? 0);
        if (newBytes > Config.MempoolMaxBytes)
        {
            throw new MempoolRejectedException(MempoolError.PoolFull, $"{_bytes} bytes pooled (limit {Config.MempoolMaxBytes})");
        }
        // Every queued transaction of the sender must stay payable from the committed balance at once:
        // conservative (incoming pending transfers are not counted), but it means nothing accepted can
        // later be starved by its own sender's queue.
        UInt128 total = entry.MaxCost;
        if (queue is not null)
        {
            foreach (var other in queue.Values)
            {
                if (other.Transfer.Nonce != tx.Nonce && !TransferRules.TryAdd(total, other.MaxCost, out total))
                {
                    total = UInt128.MaxValue;
                    break;
                }
            }
        }
        if (total > account.Balance)
        {
            throw new MempoolRejectedException(MempoolError.InsufficientFunds,
                $"balance {account.Balance}, queued transactions of {tx.From} with this one need up to {total}", TransferError.InsufficientBalance);
        }

        var pooled = entry with { Sequence = ++_sequence };
        if (queue is null)
        {
            queue = new SortedList<ulong, PooledTransfer>();
            _senders[tx.From] = queue;
        }
        if (replaced is not null)
        {
            _byHash.Remove(replaced.Hash);
            _drops.Add(new DroppedTransaction(replaced.Hash, MempoolError.Replaced, $"replaced by {pooled.Hash}"));
        }
        queue[tx.Nonce] = pooled;
        _byHash[pooled.Hash] = pooled;
        _drops.Forget(pooled.Hash);
        _bytes = newBytes;
        return new SubmitResult(pooled.Hash, replaced?.Hash);
    }

    /// <summary>geth's rule: both caps at least old * (100 + bump) / 100.</summary>
    private static bool OutbidsBy(Transfer candidate, Transfer existing) =>
        candidate.MaxFeePerGas >= Bumped(existing.MaxFeePerGas) && candidate.MaxPriorityFeePerGas >= Bumped(existing.MaxPriorityFeePerGas);

    private static UInt128 Bumped(UInt128 price) =>
        price > UInt128.MaxValue / (100 + PriceBumpPercent) ? UInt128.MaxValue : price * (100 + PriceBumpPercent) / 100;

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

    public bool TryGet(Hash32 hash, out PooledTransfer entry)
    {
        lock (_lock)
        {
            return _byHash.TryGetValue(hash, out entry!);
        }
    }

    public bool TryGetDropped(Hash32 hash, out DroppedTransaction dropped)
    {
        lock (_lock)
        {
            return _drops.TryGet(hash, out dropped);
        }
    }

    /// <summary>
    /// The nonce for <c>eth_getTransactionCount(address, "pending")</c>: the committed nonce plus the
    /// sender's queued transactions contiguous from it.
    /// </summary>
    public ulong PendingNonce(Address sender)
    {
        lock (_lock)
        {
            var nonce = _committed.GetAccount(sender).Nonce;
            if (_senders.TryGetValue(sender, out var queue))
            {
                while (queue.ContainsKey(nonce))
                {
                    nonce++;
                }
            }
            return nonce;
        }
    }

    /// <summary>Each sender's queued transactions in nonce order (a copy, for the block builder).</summary>
    public IReadOnlyList<IReadOnlyList<PooledTransfer>> SnapshotQueues()
    {
        lock (_lock)
        {
            var result = new List<IReadOnlyList<PooledTransfer>>(_senders.Count);
            foreach (var queue in _senders.Values)
            {
                result.Add([.. queue.Values]);
            }
            return result;
        }
    }

    /// <summary>
    /// After a block is committed (and the committed state updated): removes the included
    /// transactions and re-checks the queues of the accounts the block touched.
    /// </summary>
    public IReadOnlyList<DroppedTransaction> OnCommitted(IEnumerable<Hash32> included, IEnumerable<Address> touched)
    {
        var dropped = new List<DroppedTransaction>();
        lock (_lock)
        {
            foreach (var hash in included)
            {
                if (_byHash.Remove(hash, out var entry))
                {
                    _bytes -= entry.Raw.Length;
                    var queue = _senders[entry.Transfer.From];
                    queue.Remove(entry.Transfer.Nonce);
                    if (queue.Count == 0)
                    {
                        _senders.Remove(entry.Transfer.From);
                    }
                }
            }
            foreach (var address in touched)
            {
                if (_senders.TryGetValue(address, out var queue))
                {
                    Revalidate(address, queue, dropped);
                }
            }
            foreach (var d in dropped)
            {
                _drops.Add(d);
            }
        }
        return dropped;
    }

    private void Revalidate(Address sender, SortedList<ulong, PooledTransfer> queue, List<DroppedTransaction> dropped)
    {
        var account = _committed.GetAccount(sender);
        UInt128 total = 0;
        var overdrawn = false;
        foreach (var entry in queue.Values.ToList())
        {
            DroppedTransaction? drop = null;
            if (entry.Transfer.Nonce < account.Nonce)
            {
                drop = new DroppedTransaction(entry.Hash, MempoolError.NonceUsed, $"nonce {entry.Transfer.Nonce} was used by another committed transaction");
            }
            else if (overdrawn || !TransferRules.TryAdd(total, entry.MaxCost, out total) || total > account.Balance)
            {
                overdrawn = true;
                drop = new DroppedTransaction(entry.Hash, MempoolError.InsufficientFunds, $"committed balance {account.Balance} no longer covers nonce {entry.Transfer.Nonce} and the queue before it");
            }
            if (drop is not null)
            {
                queue.Remove(entry.Transfer.Nonce);
                _byHash.Remove(entry.Hash);
                _bytes -= entry.Raw.Length;
                dropped.Add(drop);
            }
        }
        if (queue.Count == 0)
        {
            _senders.Remove(sender);
        }
    }
}
