using Keel.Consensus;
using Keel.Consensus.Crypto;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Core.Storage;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Host;
using Keel.Libp2p;
using Keel.Node.Chain;
using Keel.Node.Sequencing;
using Keel.Node.Storage;
using Keel.Rollup.Genesis;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Application;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Mempool;
using Keel.Sequencer.Namespaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Node.Service;

/// <summary>
/// One validator: consensus (its own event loop), the sequencer application, the chain indexes that
/// answer RPC, libp2p (gossip and request/response) and RocksDB, composed in one place.
/// <see cref="StartAsync"/> resumes from the data directory: the block store is replayed into the
/// sequencer and the indexes, and consensus restarts from its persisted safety data.
/// </summary>
public sealed class SequencerNode : ICommitSink, IConsensusObserver, IAsyncDisposable
{
    /// <summary>The consensus genesis all validators share (its timestamp is fixed so every node derives the same hash).</summary>
    public static readonly Block Genesis = Block.CreateGenesis(0);

    public const string VoteLogFile = "votes.log";

    private readonly NodeConfig _config;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Dictionary<ulong, ChainIndex> _indexes = [];
    private readonly object _voteLogLock = new();

    /// <summary>Submission times of transactions this node accepted, for the soft-finality histogram (bounded).</summary>
    public const int MaxTrackedSubmissions = 200_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Hash32, long> _submittedAtMs = new();
    private IKeyValueStore? _store;
    private KvConsensusStore? _consensusStore;
    private KvBlockStore? _blockStore;
    private SequencerApplication? _app;
    private ConsensusDriver? _driver;
    private ConsensusNode? _consensus;
    private Libp2pHost? _host;
    private P2pSequencerNetwork? _network;
    private StreamWriter? _voteLog;
    private StaticMembership? _membership;
    private ChainExecutor? _executor;
    private readonly CancellationTokenSource _stop = new();
    private Task? _follower;

    /// <summary>How often a full node asks a validator for new committed blocks when it has nothing new.</summary>
    public const int FollowPollMs = 100;

    /// <summary>Fetched, verified blocks a full node holds while waiting for the 2-chain evidence that commits them.</summary>
    public const int MaxFollowerPendingBlocks = 4 * P2pSequencerNetwork.MaxBlocksPerFetch;
    private long _commits;
    private long _roundsEntered;
    private long _timeoutsSent;
    private long _votesSent;
    private long _equivocations;

    public SequencerNode(NodeConfig config, ILoggerFactory? loggers = null)
    {
        config.Validate();
        _config = config;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger("Keel.Node");
        Namespaces = new NamespaceSet(config.Chains.Select(c => NamespaceConfig.Transfer(c, Address.Zero) with { MaxTxsPerBlock = config.MaxTxsPerBlock }));
    }

    public NodeConfig Config => _config;

    public NamespaceSet Namespaces { get; }

    public int ValidatorIndex { get; private set; } = -1;

    /// <summary>False for a full node: it follows committed blocks from validators and serves RPC.</summary>
    public bool IsValidator => ValidatorIndex >= 0;

    public Address Address { get; private set; }

    public PeerId? PeerId => _host?.PeerId;

    public IReadOnlyList<Multiaddr> ListenAddresses => _host?.ListenAddresses ?? [];

    public SequencerApplication Application => _app ?? throw new InvalidOperationException("the node is not started");

    public ConsensusNode? Consensus => _consensus;

    /// <summary>The background rollup executor (state roots), when the config runs it.</summary>
    public ChainExecutor? Executor => _executor;

    public ConsensusDriver? Driver => _driver;

    public P2pSequencerNetwork? Network => _network;

    public long Commits => Interlocked.Read(ref _commits);

    public long RoundsEntered => Interlocked.Read(ref _roundsEntered);

    public long TimeoutsSent => Interlocked.Read(ref _timeoutsSent);

    public long VotesSent => Interlocked.Read(ref _votesSent);

    public long Equivocations => Interlocked.Read(ref _equivocations);

    /// <summary>Equivocations kept for RPC (the most recent ones).</summary>
    public const int MaxKeptEvidence = 256;

    private readonly System.Collections.Concurrent.ConcurrentQueue<EquivocationEvidence> _evidence = new();

    /// <summary>Equivocations this node detected since start (most recent <see cref="MaxKeptEvidence"/>); also in the safety column family.</summary>
    public IReadOnlyList<EquivocationEvidence> Evidence => [.. _evidence];

    public IReadOnlyDictionary<ulong, ChainIndex> Chains => _indexes;

    public ChainIndex Chain(ulong chainId) =>
        _indexes.TryGetValue(chainId, out var index) ? index : throw new NodeConfigException($"chain {chainId} is not served by this node");

    public async Task StartAsync(CancellationToken ct = default)
    {
        var key = Keys.KeyFile.Load(_config.KeyFile);
        var nodeKey = Cli.P2pNodeKey.Read(key) ?? throw new NodeConfigException($"key file {_config.KeyFile} has no ed25519 node key (run `keel keys new` or `keel p2p listen --key` once)");
        Address = key.Address;
        var membership = new StaticMembership([.. _config.Validators.Select(v => (v.Address, v.Stake))]);
        ValidatorIndex = membership.IndexOf(Address);
        _membership = membership;
        if (ValidatorIndex >= 0 && _config.Validators[ValidatorIndex].PeerId != nodeKey.PeerId)
        {
            throw new NodeConfigException($"the validator set lists peer id {_config.Validators[ValidatorIndex].PeerId} for {Address}, but the key file's node key is {nodeKey.PeerId}");
        }

        Directory.CreateDirectory(_config.DataDir);
        _store = NodeDatabase.Open(_config.DataDir);
        _consensusStore = new KvConsensusStore(_store);
        _blockStore = new KvBlockStore(_store);
        foreach (var ns in Namespaces.All)
        {
            var genesisBlock = new IndexedBlock(0, Genesis.Hash, Hash32.Zero, Genesis.TimestampMs, Address.Zero, Genesis.PayloadHash, Hash32.Zero, [], 0);
            _indexes[ns.ChainId] = new ChainIndex(ns.RollupParameters, RollupGenesis.Devnet().Allocations, genesisBlock);
        }
        ReplayIndexes();
        if (_config.Execute)
        {
            _executor = new ChainExecutor(Namespaces, _blockStore, _indexes, _loggers.CreateLogger("Keel.Rollup"));
        }
        _app = new SequencerApplication(new SequencerOptions
        {
            Namespaces = Namespaces,
            Genesis = Genesis,
            BlockStore = _blockStore,
            CommitSink = this,
            BlockLookup = _consensusStore.GetBlock,
        });
        _voteLog = new StreamWriter(new FileStream(Path.Combine(_config.DataDir, VoteLogFile), FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };

        _driver = IsValidator ? new ConsensusDriver(_loggers.CreateLogger("Keel.Consensus")) : null;
        var listen = Multiaddr.FromEndPoint(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(_config.P2pHost), _config.P2pPort));
        var peers = _config.Validators.Where((_, i) => i != ValidatorIndex).Select(v => v.P2pAddress).ToList();
        _host = Libp2pHost.Create(new Libp2pHostOptions
        {
            Identity = nodeKey,
            ListenAddresses = [listen],
            StaticPeers = peers,
            Bootnodes = _config.Bootnodes,
            ReconnectInitialBackoffMs = 200,
            ReconnectMaxBackoffMs = 2_000,
        }, _loggers);
        _network = new P2pSequencerNetwork(_host, _config.Network, [.. _config.Validators.Select(v => (PeerId?)v.PeerId)], ValidatorIndex, _driver, _loggers.CreateLogger("Keel.Node.P2p"));
        _network.ServeBlocks(_blockStore);
        await _host.StartAsync(ct).ConfigureAwait(false);
        await _network.StartAsync(_config.Chains, AdmitGossiped, ct).ConfigureAwait(false);
        if (!IsValidator)
        {
            _follower = Task.Run(() => FollowAsync(_stop.Token), CancellationToken.None);
            NodeMetrics.Register(this);
            _logger.LogInformation("full node {Address} started: peer {Peer}, committed height {Height}", Address, _host.PeerId, _app.CommittedHeight);
            return;
        }

        var consensusConfig = new ConsensusConfig
        {
            NetworkId = _config.NetworkId,
            MinBlockIntervalMs = _config.BlockTimeMs,
            MaxEmptyIntervalMs = Math.Max(1_000, _config.BlockTimeMs),
            PayloadPollIntervalMs = Math.Max(5, Math.Min(50, _config.BlockTimeMs / 2)),
            RoundTimeoutMs = Math.Max(2_000, 4 * _config.BlockTimeMs),
            MaxRoundTimeoutMs = Math.Max(8_000, 16 * _config.BlockTimeMs),
        };
        var signer = new Secp256k1ConsensusSigner(key.Secp256k1PrivateKey, ValidatorIndex, _config.NetworkId);
        var verifier = new Secp256k1SignatureVerifier(membership, _config.NetworkId);
        var application = new CommitFlushingApplication(_app, Namespaces.Count);
        _consensus = new ConsensusNode(consensusConfig, membership, signer, verifier, _network, _consensusStore, application, _driver!,
            new DeterministicRandom((ulong)Environment.TickCount64 ^ (ulong)ValidatorIndex), Genesis, this);
        _driver!.Start(_consensus);
        NodeMetrics.Register(this);
        _logger.LogInformation("validator {Index} ({Address}) started: peer {Peer}, committed height {Height}", ValidatorIndex, Address, _host.PeerId, _app.CommittedHeight);
    }

    /// <summary>
    /// eth_sendRawTransaction: admits into this node's mempool, gossips to the other validators and
    /// wakes a waiting leader. Throws <see cref="MempoolRejectedException"/> with the reason.
    /// </summary>
    public Hash32 SubmitTransaction(ulong chainId, byte[] raw)
    {
        var result = Application.Submit(chainId, raw);
        if (_submittedAtMs.Count < MaxTrackedSubmissions)
        {
            _submittedAtMs.TryAdd(result.Hash, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
        _network?.GossipTransaction(chainId, raw);
        _driver?.SignalPayload();
        return result.Hash;
    }

    private bool AdmitGossiped(ulong chainId, byte[] raw)
    {
        if (_app is null)
        {
            return false;
        }
        try
        {
            _app.Submit(chainId, raw);
            _driver?.SignalPayload();
            return true;
        }
        catch (MempoolRejectedException)
        {
            // Already known, or committed meanwhile: normal for gossip.
            return false;
        }
    }

    /// <summary>Rebuilds the chain indexes from the block store (start-up after a restart).</summary>
    private void ReplayIndexes()
    {
        for (var height = 1L; height <= _blockStore!.Height; height++)
        {
            var stored = _blockStore.GetByHeight(height) ?? throw new NodeConfigException($"block store lacks height {height}");
            IndexBlock(stored.Block, stored.Block.TimestampMs, null);
        }
    }

    private void IndexBlock(Block block, long committedAtMs, IReadOnlyList<CommittedBatch>? batches)
    {
        var header = SequencerHeader.FromBlock(block);
        if (batches is null)
        {
            var sections = BlockPayloadCodec.Decode(block.Payload.ToArray(), Namespaces);
            for (var i = 0; i < sections.Count; i++)
            {
                var chainId = Namespaces[i].ChainId;
                var raws = sections[i].Transactions.Select(t => t.ToArray()).ToList();
                var transfers = raws.Select(r => TransferDecoder.Decode(r, chainId)).ToList();
                _indexes[chainId].Apply(header, transfers, raws, committedAtMs);
            }
            return;
        }
        foreach (var batch in batches)
        {
            if (batch.Transfers is { } transfers && _indexes.TryGetValue(batch.Namespace.ChainId, out var index))
            {
                index.Apply(header, transfers, batch.Transactions, committedAtMs);
            }
        }
    }

    // ------------------------------------------------------------------ full node

    /// <summary>
    /// A full node's loop: fetch committed blocks from validators, check each certificate's quorum
    /// signatures and the parent links, and apply a block once a certified child in the next round
    /// proves it committed (the 2-chain rule), so one lying validator cannot make it apply a block
    /// that was certified but never committed.
    /// </summary>
    private async Task FollowAsync(CancellationToken ct)
    {
        var verifier = new Keel.Consensus.Crypto.CertificateVerifier(_membership!, new Secp256k1SignatureVerifier(_membership!, _config.NetworkId), Genesis.Hash);
        var pending = new List<Keel.Sequencer.Availability.StoredBlock>();
        var next = 0;
        while (!ct.IsCancellationRequested)
        {
            var progressed = false;
            var peers = _config.Validators.Select(v => v.PeerId).Where(p => _host!.IsConnected(p)).ToList();
            if (peers.Count > 0)
            {
                var peer = peers[next++ % peers.Count];
                try
                {
                    var blocks = await _network!.FetchBlocksAsync(peer, _app!.CommittedHeight + 1 + pending.Count, ct).ConfigureAwait(false);
                    foreach (var stored in blocks)
                    {
                        var parentHash = pending.Count > 0 ? pending[^1].Block.Hash : _app.CommittedHash;
                        var height = _app.CommittedHeight + 1 + pending.Count;
                        if (stored.Block.Height != height || stored.Block.ParentHash != parentHash
                            || stored.Certificate.BlockHash != stored.Block.Hash || !verifier.VerifyQc(stored.Certificate))
                        {
                            _network.Host.ReportMisbehaviour(peer, $"served block {stored.Block.Height} that does not extend the committed chain with a valid certificate");
                            break;
                        }
                        pending.Add(stored);
                        progressed = true;
                    }
                    var committable = -1;
                    for (var i = 0; i + 1 < pending.Count; i++)
                    {
                        if (pending[i + 1].Block.Round == pending[i].Block.Round + 1)
                        {
                            committable = i;
                        }
                    }
                    for (var i = 0; i <= committable; i++)
                    {
                        _app.Commit(pending[i].Block, pending[i].Certificate);
                    }
                    pending.RemoveRange(0, committable + 1);
                    if (pending.Count > MaxFollowerPendingBlocks)
                    {
                        pending.Clear();
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _logger.LogDebug("block fetch from {Peer} failed: {Reason}", peer, e.Message);
                }
            }
            if (!progressed)
            {
                try
                {
                    await Task.Delay(FollowPollMs, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    // ------------------------------------------------------------------ ICommitSink (consensus thread)

    public void OnCommitted(CommittedBlock block)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        IndexBlock(block.Block, now, block.Batches);
        _executor?.Notify();
        if (!_submittedAtMs.IsEmpty)
        {
            foreach (var batch in block.Batches)
            {
                foreach (var raw in batch.Transfers ?? [])
                {
                    if (_submittedAtMs.TryRemove(raw.Hash, out var submitted))
                    {
                        NodeMetrics.SoftFinality.Record((now - submitted) / 1000.0, new KeyValuePair<string, object?>("chain", batch.Namespace.ChainId));
                    }
                }
            }
        }
        Interlocked.Increment(ref _commits);
    }

    // ------------------------------------------------------------------ IConsensusObserver (consensus thread)

    public void OnEvent(int validatorIndex, ConsensusEvent e)
    {
        switch (e)
        {
            case RoundEntered:
                Interlocked.Increment(ref _roundsEntered);
                break;
            case VoteSent v:
                Interlocked.Increment(ref _votesSent);
                lock (_voteLogLock)
                {
                    // One line per vote that left the node: a restart test checks no round has two different votes.
                    _voteLog?.WriteLine($"{v.Vote.Round} {v.Vote.BlockHash}");
                }
                break;
            case TimeoutSent:
                Interlocked.Increment(ref _timeoutsSent);
                break;
            case EquivocationDetected eq:
                Interlocked.Increment(ref _equivocations);
                _evidence.Enqueue(eq.Evidence);
                while (_evidence.Count > MaxKeptEvidence && _evidence.TryDequeue(out _))
                {
                }
                _logger.LogWarning("equivocation detected: {Evidence}", eq.Evidence);
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        NodeMetrics.Unregister(this);
        _stop.Cancel();
        if (_follower is not null)
        {
            await _follower.ConfigureAwait(false);
        }
        _driver?.Dispose();
        _executor?.Dispose();
        if (_network is not null)
        {
            await _network.DisposeAsync().ConfigureAwait(false);
        }
        if (_host is not null)
        {
            await _host.DisposeAsync().ConfigureAwait(false);
        }
        lock (_voteLogLock)
        {
            _voteLog?.Dispose();
            _voteLog = null;
        }
        _store?.Dispose();
    }
}
