using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Validation;
using Keel.Sequencer.Availability;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Mempool;
using Keel.Sequencer.Merkle;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Application;

/// <summary>What a sequencer application is built from.</summary>
public sealed record SequencerOptions
{
    public required NamespaceSet Namespaces { get; init; }

    /// <summary>The consensus genesis block (leaf 0 of the headers accumulator).</summary>
    public required Block Genesis { get; init; }

    /// <summary>Committed blocks; on start the application replays what it holds to rebuild its state.</summary>
    public required IBlockStore BlockStore { get; init; }

    /// <summary>Initial accounts per transfer namespace (chain id); a namespace not listed starts from the devnet genesis.</summary>
    public IReadOnlyDictionary<ulong, RollupGenesis> GenesisAccounts { get; init; } = new Dictionary<ulong, RollupGenesis>();

    public ICommitSink? CommitSink { get; init; }

    /// <summary>
    /// Finds a block consensus knows (the node passes its consensus store's GetBlock), so that a
    /// proposal on top of blocks this node never evaluated (received by sync) can still be checked.
    /// </summary>
    public Func<Hash32, Block?>? BlockLookup { get; init; }
}

/// <summary>
/// The sequencer's side of consensus (<see cref="IApplication"/>): builds block payloads from the
/// mempools, checks proposals before the node votes, and hands committed batches on.
/// <list type="bullet">
/// <item>Pending state: every evaluated uncommitted block keeps its account changes as a delta over
/// its parent, so a proposal is checked against exactly its parent's pending state, on any fork.</item>
/// <item>The critical path stays light: plain account maps and one Poseidon2 sponge per transfer
/// namespace (the batch commitment); the state tree is the rollup executor's work after commit.</item>
/// <item>Commits are applied in height order; a repeat of the last committed block (after a crash)
/// is accepted and ignored. On construction the application replays the block store, so its state
/// survives restarts.</item>
/// </list>
/// The IApplication methods run on the consensus thread; mempools and queries may be used from any thread.
/// </summary>
public sealed class SequencerApplication : IApplication
{
    /// <summary>Prepared payloads remembered so the leader's own proposal is not evaluated twice.</summary>
    private const int MaxPreparedDrafts = 8;

    /// <summary>Below this many transfers a block's senders are recovered on the calling thread.</summary>
    private const int ParallelDecodeMinTxs = 64;

    private readonly NamespaceSet _namespaces;
    private readonly IBlockStore _store;
    private readonly ICommitSink? _sink;
    private readonly Func<Hash32, Block?>? _lookup;
    private readonly CommittedAccounts?[] _committed;
    private readonly TransferValidator?[] _validators;
    private readonly INamespaceMempool[] _mempools;
    private readonly Dictionary<ulong, INamespaceMempool> _mempoolById = [];
    private readonly Dictionary<Hash32, PendingBlock> _pending = [];
    private readonly List<(Hash32 ParentHash, Hash32 PayloadHash, BlockBody Body)> _prepared = [];
    private readonly object _accumulatorLock = new();
    private readonly HeaderAccumulator _accumulator = new();
    private AccumulatorFrontier _committedFrontier;

    public SequencerApplication(SequencerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _namespaces = options.Namespaces;
        _store = options.BlockStore;
        _sink = options.CommitSink;
        _lookup = options.BlockLookup;
        _committed = new CommittedAccounts?[_namespaces.Count];
        _validators = new TransferValidator?[_namespaces.Count];
        _mempools = new INamespaceMempool[_namespaces.Count];
        foreach (var id in options.GenesisAccounts.Keys)
        {
            if (!_namespaces.TryGet(id, out var ns) || ns.Profile != ValidationProfile.Transfer)
            {
                throw new SequencerConfigException($"genesis accounts given for {id}, which is not a configured transfer namespace");
            }
        }
        for (var i = 0; i < _namespaces.Count; i++)
        {
            var ns = _namespaces[i];
            if (ns.Profile == ValidationProfile.Transfer)
            {
                var genesis = options.GenesisAccounts.GetValueOrDefault(ns.ChainId) ?? RollupGenesis.Devnet();
                var accounts = new CommittedAccounts(genesis.Allocations.Select(a => KeyValuePair.Create(a.Key, new Account(a.Value, 0))));
                _committed[i] = accounts;
                _validators[i] = new TransferValidator(ns.RollupParameters);
                _mempools[i] = new TransferMempool(ns, accounts);
            }
            else
            {
                _mempools[i] = new OpaqueMempool(ns);
            }
            _mempoolById[ns.ChainId] = _mempools[i];
        }
        Genesis = options.Genesis;
        CommittedHash = Genesis.Hash;
        _accumulator.Append(Genesis.Hash);
        _committedFrontier = _accumulator.Frontier;
        Replay();
    }

    public Block Genesis { get; }

    public NamespaceSet Namespaces => _namespaces;

    /// <summary>Highest committed height this application applied (0 = genesis only).</summary>
    public long CommittedHeight { get; private set; }

    public Hash32 CommittedHash { get; private set; }

    /// <summary>Proposals refused since start, and the last reason (for metrics and logs).</summary>
    public long RejectedProposals { get; private set; }

    public InvalidPayloadException? LastRejection { get; private set; }

    /// <summary>Uncommitted blocks whose pending state is held.</summary>
    public int PendingBlocks => _pending.Count;

    public IReadOnlyList<INamespaceMempool> Mempools => _mempools;

    /// <exception cref="MempoolRejectedException">the chain id is not a configured namespace</exception>
    public INamespaceMempool Mempool(ulong chainId) =>
        _mempoolById.TryGetValue(chainId, out var pool) ? pool : throw new MempoolRejectedException(MempoolError.UnknownNamespace, $"chain {chainId} is not sequenced here");

    /// <summary>Submits a raw transaction to a namespace's mempool (eth_sendRawTransaction).</summary>
    public SubmitResult Submit(ulong chainId, ReadOnlySpan<byte> raw) => Mempool(chainId).Submit(raw);

    /// <summary>The committed accounts of a transfer namespace (plain map; balances and nonces as ordered, before execution).</summary>
    public IAccountReader CommittedAccounts(ulong chainId)
    {
        var i = _namespaces.IndexOf(chainId);
        return i >= 0 && _committed[i] is { } accounts ? accounts : throw new SequencerConfigException($"chain {chainId} is not a transfer namespace here");
    }

    /// <summary>eth_getTransactionCount(address, "pending") for a transfer namespace.</summary>
    public ulong PendingNonce(ulong chainId, Address address) =>
        Mempool(chainId) is TransferMempool pool ? pool.PendingNonce(address) : throw new SequencerConfigException($"chain {chainId} is not a transfer namespace here");

    // ------------------------------------------------------------------ IApplication

    public bool HasPendingPayload
    {
        get
        {
            foreach (var pool in _mempools)
            {
                if (pool.HasReady)
                {
                    return true;
                }
            }
            return false;
        }
    }

    public ProposalContent PrepareProposal(ProposalContext context)
    {
        PendingBlock? parent;
        try
        {
            parent = ResolveParent(context.Parent.Hash, context.Height - 1);
        }
        catch (InvalidPayloadException e)
        {
            // Without the parent's state no valid payload can be built; an empty proposal is refused by
            // peers and the round times out, which is the protocol's way to move on.
            LastRejection = e;
            return ProposalContent.Empty;
        }
        var parentAccumulator = parent?.AccumulatorAfter ?? _committedFrontier;
        var budget = SequencerLimits.MaxPayloadBytes - BlockPayloadCodec.HeaderBytes - _namespaces.Count * BlockPayloadCodec.NamespaceHeaderBytes;
        var sections = new (ulong, IReadOnlyList<byte[]>)[_namespaces.Count];
        for (var i = 0; i < _namespaces.Count; i++)
        {
            var txs = _mempools[i] is TransferMempool transfers
                ? SelectTransfers(i, transfers, parent, ref budget)
                : SelectOpaque(i, (OpaqueMempool)_mempools[i], parent, ref budget);
            sections[i] = (_namespaces[i].ChainId, txs);
        }
        var payload = BlockPayloadCodec.Encode(sections);
        var decoded = BlockPayloadCodec.Decode(payload, _namespaces);
        BlockBody body;
        try
        {
            // The same checks a validator runs: a leader never proposes what it would refuse.
            body = EvaluateBody(decoded, parent, context.Parent.Hash, context.Height, parentAccumulator, null, strict: true);
        }
        catch (InvalidPayloadException e)
        {
            throw new SequencerInvariantException($"a payload built from the mempool failed its own checks: {e.Message}");
        }
        var payloadHash = Keccak256.HashToHash32(payload);
        if (_prepared.Count >= MaxPreparedDrafts)
        {
            _prepared.RemoveAt(0);
        }
        _prepared.Add((context.Parent.Hash, payloadHash, body));
        return new ProposalContent(body.AppHeader.Encode(), payload);
    }

    public bool ProcessProposal(Block block)
    {
        try
        {
            if (block.Height <= CommittedHeight)
            {
                throw new InvalidPayloadException(PayloadError.Stale, $"block at height {block.Height} is at or below the committed height {CommittedHeight}");
            }
            if (_pending.TryGetValue(block.Hash, out var seen) && seen.CheckedStrictly)
            {
                return true;
            }
            if (_pending.Count >= SequencerLimits.MaxPendingBlocks)
            {
                throw new InvalidPayloadException(PayloadError.TooManyPendingBlocks, $"{_pending.Count} uncommitted blocks already held");
            }
            var parent = ResolveParent(block.ParentHash, block.Height - 1);
            var body = TakePrepared(block) ?? Evaluate(block, parent, strict: true);
            _pending[block.Hash] = new PendingBlock(block.Hash, body, parent, checkedStrictly: true);
            return true;
        }
        catch (InvalidPayloadException e)
        {
            RejectedProposals++;
            LastRejection = e;
            return false;
        }
    }

    public void Commit(Block block, QuorumCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(certificate);
        if (block.Height <= CommittedHeight)
        {
            // After a crash consensus may repeat the block committed last: same block, nothing to do.
            Hash32 known;
            lock (_accumulatorLock)
            {
                known = _accumulator.LeafAt((ulong)block.Height);
            }
            if (known == block.Hash)
            {
                return;
            }
            throw new SequencerInvariantException($"commit of {block.Hash} at height {block.Height}, where {known} is committed");
        }
        if (block.Height != CommittedHeight + 1 || block.ParentHash != CommittedHash)
        {
            throw new SequencerInvariantException($"commit of height {block.Height} (parent {block.ParentHash}) does not follow the committed tip {CommittedHeight} ({CommittedHash})");
        }
        if (certificate.BlockHash != block.Hash)
        {
            throw new SequencerInvariantException($"commit of {block.Hash} with a certificate for {certificate.BlockHash}");
        }
        if (!_pending.TryGetValue(block.Hash, out var pending) || pending.Parent is not null)
        {
            pending = new PendingBlock(block.Hash, EvaluateCertified(block), null, checkedStrictly: false);
        }
        _store.PutCommitted(new StoredBlock(block, certificate, pending.Body.Table.Entries));
        var dropped = ApplyCommitted(pending);
        CommittedHeight = block.Height;
        CommittedHash = block.Hash;
        Prune();
        _sink?.OnCommitted(BuildCommitted(block, certificate, pending.Body, dropped));
    }

    // ------------------------------------------------------------------ queries (any thread)

    /// <summary>The proof that the block at <paramref name="height"/> is leaf <paramref name="height"/> of the
    /// headers accumulator carried by the committed block at <paramref name="atHeight"/> (&gt; height).</summary>
    /// <exception cref="ArgumentOutOfRangeException">heights not committed or not ordered</exception>
    public HeaderProof ProveHeader(long height, long atHeight)
    {
        lock (_accumulatorLock)
        {
            if (height < 0 || atHeight <= height || atHeight > (long)_accumulator.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(atHeight), $"need 0 <= height < atHeight <= {(long)_accumulator.Count - 1} + 1");
            }
            return new HeaderProof(_accumulator.LeafAt((ulong)height), _accumulator.Prove((ulong)height, (ulong)atHeight), _accumulator.RootAt((ulong)atHeight));
        }
    }

    /// <summary>A committed namespace payload with its table entry and the proof against the header's table root.</summary>
    public NamespacePayloadProof? GetNamespacePayload(long height, ulong namespaceId) =>
        _store.GetByHeight(height) is { } stored ? PayloadProofs.Build(stored, _namespaces, namespaceId) : null;

    /// <summary>As <see cref="GetNamespacePayload(long, ulong)"/>, by block hash.</summary>
    public NamespacePayloadProof? GetNamespacePayload(Hash32 blockHash, ulong namespaceId) =>
        _store.GetByHash(blockHash) is { } stored ? PayloadProofs.Build(stored, _namespaces, namespaceId) : null;

    // ------------------------------------------------------------------ building

    private IReadOnlyList<byte[]> SelectTransfers(int index, TransferMempool pool, PendingBlock? parent, ref int budget)
    {
        var config = _namespaces[index];
        var validator = _validators[index]!;
        var scratch = new PendingAccounts(new ChainReader(_committed[index]!, parent, index));
        var queues = pool.SnapshotQueues();
        // Highest tip first (what the fee recipient earns), then arrival; nonce order within a sender.
        var heap = new PriorityQueue<(int Queue, int Position), (UInt128 Tip, long Sequence)>(queues.Count, TipOrder.Instance);
        for (var q = 0; q < queues.Count; q++)
        {
            var queue = queues[q];
            var nonce = scratch.GetAccount(queue[0].Transfer.From).Nonce;
            var position = 0;
            while (position < queue.Count && queue[position].Transfer.Nonce < nonce)
            {
                position++; // already in an uncommitted ancestor
            }
            if (position < queue.Count && queue[position].Transfer.Nonce == nonce)
            {
                heap.Enqueue((q, position), Priority(queue[position], config));
            }
        }
        var selected = new List<byte[]>();
        long bytes = 0;
        while (selected.Count < config.MaxTxsPerBlock && heap.TryDequeue(out var next, out _))
        {
            var queue = queues[next.Queue];
            var entry = queue[next.Position];
            var framed = BlockPayloadCodec.FramedSize(entry.Raw.Length);
            if (bytes + entry.Raw.Length > config.MaxBlockBytes || framed > budget)
            {
                continue;
            }
            try
            {
                validator.ValidateAndApply(entry.Transfer, scratch);
            }
            catch (InvalidTransferException)
            {
                continue; // not valid on this parent (its fate is decided at commit); the sender waits
            }
            selected.Add(entry.Raw);
            bytes += entry.Raw.Length;
            budget -= framed;
            var after = next.Position + 1;
            if (after < queue.Count && queue[after].Transfer.Nonce == entry.Transfer.Nonce + 1)
            {
                heap.Enqueue((next.Queue, after), Priority(queue[after], config));
            }
        }
        return selected;
    }

    private static (UInt128, long) Priority(PooledTransfer entry, NamespaceConfig config)
    {
        var tx = entry.Transfer;
        var tip = UInt128.Min(tx.MaxPriorityFeePerGas, tx.MaxFeePerGas - config.BaseFeePerGas);
        return (tip, entry.Sequence);
    }

    private IReadOnlyList<byte[]> SelectOpaque(int index, OpaqueMempool pool, PendingBlock? parent, ref int budget)
    {
        var config = _namespaces[index];
        var inFlight = new HashSet<Hash32>();
        for (var block = parent; block is not null; block = block.Parent)
        {
            inFlight.UnionWith(block.Body.Namespaces[index].OpaqueHashes!);
        }
        var selected = new List<byte[]>();
        long bytes = 0;
        foreach (var entry in pool.Snapshot(config.MaxTxsPerBlock + inFlight.Count))
        {
            if (selected.Count >= config.MaxTxsPerBlock)
            {
                break;
            }
            var framed = BlockPayloadCodec.FramedSize(entry.Raw.Length);
            if (inFlight.Contains(entry.Hash) || bytes + entry.Raw.Length > config.MaxBlockBytes || framed > budget)
            {
                continue;
            }
            selected.Add(entry.Raw);
            bytes += entry.Raw.Length;
            budget -= framed;
        }
        return selected;
    }

    // ------------------------------------------------------------------ evaluation

    private BlockBody? TakePrepared(Block block)
    {
        for (var i = 0; i < _prepared.Count; i++)
        {
            var (parentHash, payloadHash, body) = _prepared[i];
            if (parentHash == block.ParentHash && payloadHash == block.PayloadHash && block.AppHeader.SequenceEqual(body.AppHeader.Encode()) && body.Height == block.Height)
            {
                _prepared.RemoveAt(i);
                return body;
            }
        }
        return null;
    }

    /// <summary>
    /// The pending block a child at <paramref name="parentHeight"/> + 1 builds on: null for the
    /// committed tip, a held pending block, or one rebuilt from blocks consensus knows.
    /// </summary>
    private PendingBlock? ResolveParent(Hash32 parentHash, long parentHeight)
    {
        if (parentHash == CommittedHash)
        {
            return null;
        }
        if (_pending.TryGetValue(parentHash, out var known))
        {
            return known;
        }
        // Walk back to something known through the blocks consensus holds. They are ancestors of a
        // certified block, so a quorum checked them: evaluate them as commit does.
        var missing = new Stack<Block>();
        var cursor = parentHash;
        while (cursor != CommittedHash && !_pending.ContainsKey(cursor))
        {
            if (missing.Count >= SequencerLimits.MaxPendingBlocks || _lookup?.Invoke(cursor) is not { } block || block.Height <= CommittedHeight)
            {
                throw new InvalidPayloadException(PayloadError.UnknownParent, $"parent {parentHash} at height {parentHeight} is not known above the committed height {CommittedHeight}");
            }
            missing.Push(block);
            cursor = block.ParentHash;
        }
        PendingBlock? parent = cursor == CommittedHash ? null : _pending[cursor];
        while (missing.TryPop(out var block))
        {
            var rebuilt = new PendingBlock(block.Hash, Evaluate(block, parent, strict: false), parent, checkedStrictly: false);
            _pending[block.Hash] = rebuilt;
            parent = rebuilt;
        }
        return parent;
    }

    private BlockBody Evaluate(Block block, PendingBlock? parent, bool strict)
    {
        var header = AppHeader.Decode(block.AppHeader);
        var sections = BlockPayloadCodec.Decode(block.Payload.ToArray(), _namespaces);
        var parentAccumulator = parent?.AccumulatorAfter ?? _committedFrontier;
        return EvaluateBody(sections, parent, block.ParentHash, block.Height, parentAccumulator, header, strict);
    }

    private BlockBody EvaluateCertified(Block block)
    {
        try
        {
            return Evaluate(block, null, strict: false);
        }
        catch (InvalidPayloadException e)
        {
            throw new SequencerInvariantException($"committed block {block.Hash} at height {block.Height} is not a valid sequencer block here ({e.Error}: {e.Message}); is this node's namespace configuration the committee's?");
        }
    }

    /// <summary>
    /// Checks (strict: a validator before voting) or applies (lenient: a certified block, where a
    /// transfer that cannot apply is skipped exactly as the rollup executor skips it) one payload.
    /// With <paramref name="header"/> null the header is computed (the leader's own payload).
    /// </summary>
    private BlockBody EvaluateBody(IReadOnlyList<NamespacePayload> sections, PendingBlock? parent, Hash32 parentHash, long height,
        AccumulatorFrontier parentAccumulator, AppHeader? header, bool strict)
    {
        if (parentAccumulator.Count != (ulong)height)
        {
            throw new InvalidPayloadException(PayloadError.AccumulatorMismatch, $"block at height {height} on a parent chain of {parentAccumulator.Count} headers");
        }
        if (header is { } given && given.HeadersRoot != parentAccumulator.Root)
        {
            throw new InvalidPayloadException(PayloadError.AccumulatorMismatch, $"headers accumulator root {given.HeadersRoot} is not {parentAccumulator.Root}, the root over the parent chain");
        }
        var namespaces = new NamespaceBlock[sections.Count];
        for (var i = 0; i < sections.Count; i++)
        {
            namespaces[i] = _namespaces[i].Profile == ValidationProfile.Transfer
                ? EvaluateTransfers(i, sections[i], parent, strict)
                : EvaluateOpaque(i, sections[i], parent, strict);
        }
        var table = new NamespaceTable([.. namespaces.Select(n => n.Entry)]);
        var appHeader = header ?? new AppHeader(AppHeader.CurrentVersion, table.Root, parentAccumulator.Root);
        if (appHeader.NamespaceTableRoot != table.Root)
        {
            throw new InvalidPayloadException(PayloadError.TableRootMismatch, $"namespace-table root {appHeader.NamespaceTableRoot} does not match the payload's table {table.Root}");
        }
        return new BlockBody
        {
            ParentHash = parentHash,
            Height = height,
            ParentAccumulator = parentAccumulator,
            AppHeader = appHeader,
            Namespaces = namespaces,
            Table = table,
        };
    }

    private NamespaceBlock EvaluateTransfers(int index, NamespacePayload section, PendingBlock? parent, bool strict)
    {
        var config = _namespaces[index];
        var validator = _validators[index]!;
        var pool = (TransferMempool)_mempools[index];
        var pending = new PendingAccounts(new ChainReader(_committed[index]!, parent, index));
        var count = section.Transactions.Count;
        var transfers = new Transfer[count];
        var hashes = new Hash32[count];
        var failures = new InvalidTransferException?[count];
        // Sender recovery is most of the cost when gossip did not bring the transactions first, and it
        // is independent per transaction: spread it over the cores, then validate in order.
        void Decode(int t)
        {
            var raw = section.Transactions[t].Span;
            hashes[t] = Keccak256.HashToHash32(raw);
            if (pool.TryGet(hashes[t], out var pooled))
            {
                transfers[t] = pooled.Transfer; // decoded (signature recovered) on admission
                return;
            }
            try
            {
                transfers[t] = TransferDecoder.Decode(raw, config.ChainId);
            }
            catch (InvalidTransferException e)
            {
                failures[t] = e;
            }
        }
        if (count >= ParallelDecodeMinTxs)
        {
            Parallel.For(0, count, Decode);
        }
        else
        {
            for (var t = 0; t < count; t++)
            {
                Decode(t);
            }
        }
        var touched = new HashSet<Address> { config.FeeRecipient };
        for (var t = 0; t < count; t++)
        {
            var hash = hashes[t];
            if (failures[t] is { } failure)
            {
                throw new InvalidPayloadException(PayloadError.InvalidTransaction, $"namespace {config.ChainId} transaction {t} ({hash}): {failure.Error}: {failure.Message}");
            }
            var tx = transfers[t];
            try
            {
                validator.ValidateAndApply(tx, pending);
            }
            catch (InvalidTransferException e) when (strict)
            {
                throw new InvalidPayloadException(PayloadError.InvalidTransaction, $"namespace {config.ChainId} transaction {t} ({hash}) from {tx.From}: {e.Error}: {e.Message}");
            }
            catch (InvalidTransferException)
            {
                // Certified: the executor skips it with a failed receipt; so does the pending state.
            }
            touched.Add(tx.From);
            touched.Add(tx.To);
        }
        validator.CloseBatch(pending);
        var delta = touched.ToDictionary(a => a, pending.GetAccount);
        var commitment = BatchCommitment.Compute(RollupHasher.Shared, config.RollupParameters, transfers);
        return new NamespaceBlock
        {
            Payload = section,
            Entry = new NamespaceEntry(config.ChainId, (uint)transfers.Length, section.PayloadHash, NamespaceEntry.ToWord(commitment)),
            TxHashes = hashes,
            Transfers = transfers,
            Delta = delta,
        };
    }

    private NamespaceBlock EvaluateOpaque(int index, NamespacePayload section, PendingBlock? parent, bool strict)
    {
        var config = _namespaces[index];
        var hashes = new Hash32[section.Transactions.Count];
        var set = new HashSet<Hash32>();
        for (var t = 0; t < hashes.Length; t++)
        {
            var hash = Keccak256.HashToHash32(section.Transactions[t].Span);
            hashes[t] = hash;
            var repeated = !set.Add(hash);
            for (var block = parent; !repeated && strict && block is not null; block = block.Parent)
            {
                repeated = block.Body.Namespaces[index].OpaqueHashes!.Contains(hash);
            }
            if (repeated && strict)
            {
                throw new InvalidPayloadException(PayloadError.DuplicateTransaction, $"namespace {config.ChainId} transaction {t} ({hash}) is already in the uncommitted chain");
            }
        }
        return new NamespaceBlock
        {
            Payload = section,
            Entry = new NamespaceEntry(config.ChainId, (uint)hashes.Length, section.PayloadHash, Hash32.Zero),
            TxHashes = hashes,
            OpaqueHashes = set,
        };
    }

    // ------------------------------------------------------------------ commit

    private List<(ulong, DroppedTransaction)> ApplyCommitted(PendingBlock block)
    {
        var dropped = new List<(ulong, DroppedTransaction)>();
        lock (_accumulatorLock)
        {
            _accumulator.Append(block.Hash);
            _committedFrontier = _accumulator.Frontier;
        }
        for (var i = 0; i < _namespaces.Count; i++)
        {
            var ns = block.Body.Namespaces[i];
            switch (_mempools[i])
            {
                case TransferMempool transfers:
                    _committed[i]!.Apply(ns.Delta!);
                    foreach (var d in transfers.OnCommitted(ns.TxHashes, ns.Delta!.Keys))
                    {
                        dropped.Add((_namespaces[i].ChainId, d));
                    }
                    break;
                case OpaqueMempool opaque:
                    opaque.OnCommitted(ns.TxHashes);
                    break;
            }
        }
        return dropped;
    }

    /// <summary>Forgets pending blocks at or below the committed height and the forks they started; cuts links to the committed tip.</summary>
    private void Prune()
    {
        _prepared.RemoveAll(p => p.Body.Height <= CommittedHeight);
        foreach (var block in _pending.Values.OrderBy(b => b.Height).ToList())
        {
            if (block.Height <= CommittedHeight)
            {
                _pending.Remove(block.Hash);
            }
            else if (block.Parent is { } parent && !_pending.ContainsKey(parent.Hash))
            {
                if (parent.Hash == CommittedHash)
                {
                    block.Parent = null;
                }
                else
                {
                    _pending.Remove(block.Hash); // on a fork that lost
                }
            }
        }
    }

    private CommittedBlock BuildCommitted(Block block, QuorumCertificate certificate, BlockBody body, IReadOnlyList<(ulong, DroppedTransaction)> dropped)
    {
        var batches = new CommittedBatch[_namespaces.Count];
        for (var i = 0; i < batches.Length; i++)
        {
            var ns = body.Namespaces[i];
            batches[i] = new CommittedBatch(_namespaces[i], ns.Entry, [.. ns.Payload.Transactions.Select(t => t.ToArray())], ns.Transfers);
        }
        return new CommittedBlock(block, certificate, SequencerHeader.FromBlock(block), body.Table, batches, dropped);
    }

    /// <summary>Rebuilds committed accounts and the accumulator from the block store (start-up after a restart).</summary>
    private void Replay()
    {
        for (var height = 1L; height <= _store.Height; height++)
        {
            var stored = _store.GetByHeight(height) ?? throw new SequencerInvariantException($"block store lacks height {height} below its tip {_store.Height}");
            var block = stored.Block;
            if (block.ParentHash != CommittedHash)
            {
                throw new SequencerInvariantException($"stored block at height {height} does not extend the block at height {height - 1}");
            }
            var pending = new PendingBlock(block.Hash, EvaluateCertified(block), null, checkedStrictly: false);
            lock (_accumulatorLock)
            {
                _accumulator.Append(block.Hash);
                _committedFrontier = _accumulator.Frontier;
            }
            for (var i = 0; i < _namespaces.Count; i++)
            {
                if (pending.Body.Namespaces[i].Delta is { } delta)
                {
                    _committed[i]!.Apply(delta);
                }
            }
            CommittedHeight = height;
            CommittedHash = block.Hash;
        }
    }

    private sealed class TipOrder : IComparer<(UInt128 Tip, long Sequence)>
    {
        public static readonly TipOrder Instance = new();

        public int Compare((UInt128 Tip, long Sequence) x, (UInt128 Tip, long Sequence) y)
        {
            var byTip = y.Tip.CompareTo(x.Tip);
            return byTip != 0 ? byTip : x.Sequence.CompareTo(y.Sequence);
        }
    }
}
