using Keel.Core;
using Keel.Rollup.Execution;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Validation;
using Keel.Sequencer.Blocks;

namespace Keel.Node.Chain;

/// <summary>A committed transaction as the RPC layer reports it.</summary>
public sealed record IndexedTransaction(
    Transfer Transfer,
    byte[] Raw,
    long BlockHeight,
    Hash32 BlockHash,
    int Index,
    TransferStatus Status,
    ulong GasUsed,
    ulong CumulativeGasUsed,
    UInt128 EffectiveGasPrice,
    long CommittedAtMs);

/// <summary>A committed block of one chain (every consensus block is a block of every chain, possibly empty).</summary>
public sealed record IndexedBlock(
    long Height,
    Hash32 Hash,
    Hash32 ParentHash,
    long TimestampMs,
    Address Proposer,
    Hash32 PayloadHash,
    Hash32 NamespaceTableRoot,
    IReadOnlyList<Hash32> Transactions,
    ulong GasUsed);

/// <summary>
/// The committed history of one transfer chain: blocks by height and hash, transactions and their
/// receipts, and the balances and nonces after the last committed block. Receipts are made at commit
/// (soft finality) with the rollup's own rules (<see cref="TransferRules"/> through
/// <see cref="TransferValidator"/>) on a plain account map, the same rules the executor applies to
/// the state tree, so a receipt never waits for Poseidon2 hashing.
/// Written by one thread (the commit path), read by any.
/// </summary>
public sealed class ChainIndex : IAccountReader
{
    /// <summary>Blocks kept for RPC; older ones (and their transactions) are forgotten, oldest first.</summary>
    public const int MaxIndexedBlocks = 1_000_000;

    /// <summary>Transactions kept for RPC lookups.</summary>
    public const int MaxIndexedTransactions = 5_000_000;

    private readonly ReaderWriterLockSlim _lock = new();
    private readonly List<IndexedBlock> _blocks = [];
    private readonly Dictionary<Hash32, long> _heightByHash = [];
    private readonly Dictionary<Hash32, IndexedTransaction> _transactions = [];
    private readonly Queue<Hash32> _transactionOrder = new();
    private readonly Dictionary<Address, Account> _accounts = [];
    private readonly TransferValidator _validator;
    private long _firstHeight;

    public ChainIndex(RollupParameters parameters, IEnumerable<KeyValuePair<Address, UInt128>> genesis, IndexedBlock genesisBlock)
    {
        Parameters = parameters;
        _validator = new TransferValidator(parameters);
        foreach (var (address, balance) in genesis)
        {
            _accounts[address] = new Account(balance, 0);
        }
        _blocks.Add(genesisBlock);
        _heightByHash[genesisBlock.Hash] = 0;
    }

    public RollupParameters Parameters { get; }

    public ulong ChainId => Parameters.ChainId;

    /// <summary>Raised after a block was indexed (on the commit thread).</summary>
    public event Action<IndexedBlock>? BlockIndexed;

    public long Head
    {
        get
        {
            _lock.EnterReadLock();
            try { return _firstHeight + _blocks.Count - 1; }
            finally { _lock.ExitReadLock(); }
        }
    }

    public Account GetAccount(Address address)
    {
        _lock.EnterReadLock();
        try { return _accounts.TryGetValue(address, out var a) ? a : Account.Empty; }
        finally { _lock.ExitReadLock(); }
    }

    public IndexedBlock? GetBlock(long height)
    {
        _lock.EnterReadLock();
        try
        {
            var i = height - _firstHeight;
            return i >= 0 && i < _blocks.Count ? _blocks[(int)i] : null;
        }
        finally { _lock.ExitReadLock(); }
    }

    public IndexedBlock? GetBlock(Hash32 hash)
    {
        _lock.EnterReadLock();
        try
        {
            return _heightByHash.TryGetValue(hash, out var h) ? _blocks[(int)(h - _firstHeight)] : null;
        }
        finally { _lock.ExitReadLock(); }
    }

    public IndexedTransaction? GetTransaction(Hash32 hash)
    {
        _lock.EnterReadLock();
        try { return _transactions.GetValueOrDefault(hash); }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// Indexes the next committed block: receipts by the rollup rules, balances, lookups.
    /// Blocks at or below the head are ignored (a replay after restart may repeat the last one).
    /// </summary>
    public IndexedBlock? Apply(SequencerHeader header, IReadOnlyList<Transfer> transfers, IReadOnlyList<byte[]> raws, long committedAtMs)
    {
        if (header.Height <= Head)
        {
            return null;
        }
        if (header.Height != Head + 1)
        {
            throw new InvalidOperationException($"chain {ChainId}: block {header.Height} does not follow the indexed head {Head}");
        }
        var pending = new PendingAccounts(this);
        var touched = new HashSet<Address> { Parameters.FeeRecipient };
        var indexed = new IndexedTransaction[transfers.Count];
        ulong cumulative = 0;
        for (var i = 0; i < transfers.Count; i++)
        {
            var tx = transfers[i];
            var outcome = TransferRules.Evaluate(pending.GetAccount(tx.From), tx, Parameters.BaseFeePerGas);
            if (outcome.Applied)
            {
                _validator.ValidateAndApply(tx, pending);
                touched.Add(tx.From);
                touched.Add(tx.To);
            }
            cumulative += outcome.GasUsed;
            indexed[i] = new IndexedTransaction(tx, raws[i], header.Height, header.Hash, i, outcome.Status, outcome.GasUsed, cumulative,
                outcome.Applied ? outcome.EffectiveGasPrice : TransferRules.EffectiveGasPrice(tx, Parameters.BaseFeePerGas), committedAtMs);
        }
        _validator.CloseBatch(pending);
        var block = new IndexedBlock(header.Height, header.Hash, header.ParentHash, header.TimestampMs, header.Proposer, header.PayloadHash,
            header.NamespaceTableRoot, [.. transfers.Select(t => t.Hash)], cumulative);
        _lock.EnterWriteLock();
        try
        {
            foreach (var address in touched)
            {
                _accounts[address] = pending.GetAccount(address);
            }
            _blocks.Add(block);
            _heightByHash[block.Hash] = block.Height;
            foreach (var tx in indexed)
            {
                if (_transactions.TryAdd(tx.Transfer.Hash, tx))
                {
                    _transactionOrder.Enqueue(tx.Transfer.Hash);
                }
            }
            while (_transactionOrder.Count > MaxIndexedTransactions)
            {
                _transactions.Remove(_transactionOrder.Dequeue());
            }
            if (_blocks.Count > MaxIndexedBlocks)
            {
                _heightByHash.Remove(_blocks[0].Hash);
                _blocks.RemoveAt(0);
                _firstHeight++;
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        BlockIndexed?.Invoke(block);
        return block;
    }
}
