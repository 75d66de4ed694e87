using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Availability;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Namespaces;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Chain;

/// <summary>
/// Runs the rollup's executor (<see cref="BatchExecutor"/>: Poseidon2 state tree, receipts, witness)
/// over committed blocks, off the consensus path: it reads the block store at its own pace on its
/// own thread, so soft finality never waits for tree hashing, and a node that restarts simply
/// executes from genesis again. It records each block's post-state root per chain and checks every
/// receipt status against the one the chain index gave at commit (the two must agree: same rules).
/// </summary>
public sealed class ChainExecutor : IDisposable
{
    /// <summary>State roots kept per chain (older heights are forgotten).</summary>
    public const int MaxStateRoots = 100_000;

    /// <summary>How long the executor sleeps when it has caught up and no commit woke it.</summary>
    public const int IdleWaitMs = 200;

    private readonly NamespaceSet _namespaces;
    private readonly IBlockStore _store;
    private readonly IReadOnlyDictionary<ulong, ChainIndex> _indexes;
    private readonly ILogger _logger;
    private readonly Dictionary<ulong, (AccountState State, BatchExecutor Executor)> _chains = [];
    private readonly Dictionary<ulong, Dictionary<long, Digest>> _roots = [];
    private readonly object _lock = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _executedHeight;
    private long _mismatches;

    public ChainExecutor(NamespaceSet namespaces, IBlockStore store, IReadOnlyDictionary<ulong, ChainIndex> indexes, ILogger logger)
    {
        _namespaces = namespaces;
        _store = store;
        _indexes = indexes;
        _logger = logger;
        foreach (var ns in namespaces.All.Where(n => n.Profile == ValidationProfile.Transfer))
        {
            var state = RollupGenesis.Devnet().CreateState();
            _chains[ns.ChainId] = (state, new BatchExecutor(state));
            _roots[ns.ChainId] = [];
        }
        _thread = new Thread(Loop) { IsBackground = true, Name = "rollup-executor", Priority = ThreadPriority.BelowNormal };
        _thread.Start();
    }

    /// <summary>Highest height whose batches were executed.</summary>
    public long ExecutedHeight => Interlocked.Read(ref _executedHeight);

    /// <summary>Receipts whose status differed from the chain index's (0 unless the two rule paths disagree).</summary>
    public long ReceiptMismatches => Interlocked.Read(ref _mismatches);

    /// <summary>Wakes the executor after a commit.</summary>
    public void Notify() => _wake.Set();

    /// <summary>The Poseidon2 state root of a chain after the block at <paramref name="height"/>, once executed.</summary>
    public Digest? StateRoot(ulong chainId, long height)
    {
        lock (_lock)
        {
            return _roots.TryGetValue(chainId, out var roots) && roots.TryGetValue(height, out var root) ? root : null;
        }
    }

    /// <summary>An account in the executed state tree (as of <see cref="ExecutedHeight"/>).</summary>
    public Account GetAccount(ulong chainId, Address address)
    {
        lock (_lock)
        {
            return _chains[chainId].State.GetAccount(address);
        }
    }

    private void Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            var next = ExecutedHeight + 1;
            if (next > _store.Height)
            {
                _wake.WaitOne(IdleWaitMs);
                continue;
            }
            try
            {
                Execute(_store.GetByHeight(next) ?? throw new InvalidOperationException($"block store lacks height {next}"));
                Interlocked.Exchange(ref _executedHeight, next);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A block the executor cannot run is a bug somewhere upstream: stop here, loudly, rather than skip it.
                _logger.LogCritical(e, "rollup execution stopped at height {Height}", next);
                return;
            }
        }
    }

    private void Execute(StoredBlock stored)
    {
        var sections = BlockPayloadCodec.Decode(stored.Block.Payload.ToArray(), _namespaces);
        for (var i = 0; i < sections.Count; i++)
        {
            var ns = _namespaces[i];
            if (!_chains.TryGetValue(ns.ChainId, out var chain))
            {
                continue;
            }
            var transfers = Transfers(sections[i], ns.ChainId, stored.Block.Height);
            BatchResult result;
            lock (_lock)
            {
                result = chain.Executor.Execute(ns.RollupParameters, transfers);
                var roots = _roots[ns.ChainId];
                roots[stored.Block.Height] = result.PostStateRoot;
                roots.Remove(stored.Block.Height - MaxStateRoots);
            }
            if (_indexes.TryGetValue(ns.ChainId, out var index))
            {
                foreach (var receipt in result.Receipts)
                {
                    if (index.GetTransaction(receipt.TransactionHash) is { } indexed && indexed.Status != receipt.Outcome)
                    {
                        Interlocked.Increment(ref _mismatches);
                        _logger.LogError("chain {Chain}: receipt of {Tx} is {Executed} by the executor but {Indexed} in the index", ns.ChainId, receipt.TransactionHash, receipt.Outcome, indexed.Status);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The section's transfers. The chain index already holds each one as decoded when the block
    /// committed (sender recovered, ~30 us of secp256k1 per transfer): the same bytes (same Keccak
    /// hash) decode to the same transfer, so it is reused; a transaction not indexed (yet) at this
    /// height is decoded here.
    /// </summary>
    private List<Transfer> Transfers(NamespacePayload section, ulong chainId, long height)
    {
        _indexes.TryGetValue(chainId, out var index);
        var transfers = new List<Transfer>(section.Transactions.Count);
        foreach (var raw in section.Transactions)
        {
            var span = raw.Span;
            transfers.Add(index?.GetTransaction(Keccak256.HashToHash32(span)) is { } indexed && indexed.BlockHeight == height && indexed.Raw.AsSpan().SequenceEqual(span)
                ? indexed.Transfer
                : TransferDecoder.Decode(span, chainId));
        }
        return transfers;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _wake.Set();
        _thread.Join(TimeSpan.FromSeconds(10));
        _wake.Dispose();
        _stop.Dispose();
    }
}
