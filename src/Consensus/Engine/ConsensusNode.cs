using Keel.Consensus.Crypto;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;

namespace Keel.Consensus.Engine;

/// <summary>
/// One validator's consensus state machine (chained HotStuff-2 / Jolteon: rotating leaders, QCs, TCs,
/// 2-chain commit). It does no I/O of its own: every input arrives through <see cref="Handle"/>, every
/// output leaves through the ports, and time and randomness are injected, so a simulator can run a
/// whole cluster deterministically in one thread. Not thread-safe: a host calls Handle from one loop.
/// </summary>
public sealed class ConsensusNode
{
    private readonly ConsensusConfig _config;
    private readonly IMembership _membership;
    private readonly IConsensusSigner _signer;
    private readonly ISignatureVerifier _verifier;
    private readonly IConsensusNetwork _network;
    private readonly IConsensusStore _store;
    private readonly IApplication _app;
    private readonly IClock _clock;
    private readonly IRandomSource _random;
    private readonly IConsensusObserver? _observer;
    private readonly Block _genesis;
    private readonly CertificateVerifier _certificates;
    private readonly VoteAggregator _votes;
    private readonly TimeoutAggregator _timeouts;
    private readonly EvidenceLog _evidence;

    private readonly Queue<ConsensusEvent> _queue = new();
    private readonly Dictionary<Hash32, Block> _blocks = [];
    private readonly Dictionary<Hash32, QuorumCertificate> _certs = [];
    private readonly SortedDictionary<long, (int From, ProposalMessage Proposal)> _buffered = [];
    private readonly Dictionary<Hash32, long> _fetchesInFlight = [];
    private readonly Dictionary<int, long> _lastServedMs = [];
    private readonly Dictionary<int, long> _syncInfoSentRound = [];

    private SafetyData _safety = null!;
    private bool _started;
    private bool _handling;
    private long _roundDeadlineMs;
    private int _roundTimeouts;
    private bool _proposedThisRound;
    private long? _proposeAtMs;
    private long _nextRetryMs;
    private long _requestedWakeMs = long.MaxValue;
    private long _lastVoteSentRound = -1;
    private long _joinedRound = -1;

    public ConsensusNode(
        ConsensusConfig config,
        IMembership membership,
        IConsensusSigner signer,
        ISignatureVerifier verifier,
        IConsensusNetwork network,
        IConsensusStore store,
        IApplication application,
        IClock clock,
        IRandomSource random,
        Block genesis,
        IConsensusObserver? observer = null)
    {
        config.Validate();
        if ((uint)signer.ValidatorIndex >= (uint)membership.Count)
        {
            throw new ConsensusConfigException($"signer index {signer.ValidatorIndex} is outside the committee of {membership.Count}");
        }
        if (genesis.Height != 0 || genesis.Round != 0)
        {
            throw new ConsensusConfigException("the genesis block must have height 0 and round 0");
        }
        _config = config;
        _membership = membership;
        _signer = signer;
        _verifier = verifier;
        _network = network;
        _store = store;
        _app = application;
        _clock = clock;
        _random = random;
        _observer = observer;
        _genesis = genesis;
        _certificates = new CertificateVerifier(membership, verifier, genesis.Hash);
        _votes = new VoteAggregator(membership);
        _timeouts = new TimeoutAggregator(membership);
        _evidence = new EvidenceLog(membership);
        HighQc = QuorumCertificate.ForGenesis(genesis.Hash);
        CommittedHash = genesis.Hash;
    }

    public int Index => _signer.ValidatorIndex;
    public long CurrentRound { get; private set; }
    public QuorumCertificate HighQc { get; private set; }
    public TimeoutCertificate? HighTc { get; private set; }
    public long CommittedHeight { get; private set; }
    public Hash32 CommittedHash { get; private set; }
    public long CommittedRound { get; private set; }
    public SafetyData Safety => _safety;

    /// <summary>Equivocations this node has seen (also handed to the store and raised as events).</summary>
    public IReadOnlyList<EquivocationEvidence> Evidence => _evidence.Evidence;

    /// <summary>Messages dropped as invalid or out of bounds, for metrics.</summary>
    public long RejectedMessages { get; private set; }

    /// <summary>
    /// Loads the persisted safety data and committed tip and enters the first round it may act in.
    /// </summary>
    /// <exception cref="ConsensusStoreException">the store's committed tip has no block</exception>
    public void Start()
    {
        if (_started)
        {
            return;
        }
        _started = true;
        var genesisQc = QuorumCertificate.ForGenesis(_genesis.Hash);
        _blocks[_genesis.Hash] = _genesis;
        _certs[_genesis.Hash] = genesisQc;
        _safety = (_config.BrokenRule == SafetyRuleBreak.VolatileSafetyData ? null : _store.ReadSafetyData()) ?? SafetyData.Initial(genesisQc);
        if (_store.ReadCommittedTip() is { } tip && tip.Height > 0)
        {
            var block = _store.GetBlock(tip.Hash) ?? throw new ConsensusStoreException($"committed block {tip.Hash} at height {tip.Height} is missing from the store");
            var cert = _store.GetCertificate(tip.Hash) ?? throw new ConsensusStoreException($"committed block {tip.Hash} has no certificate in the store");
            _blocks[block.Hash] = block;
            _certs[block.Hash] = cert;
            CommittedHeight = block.Height;
            CommittedHash = block.Hash;
            CommittedRound = block.Round;
            HighQc = cert;
        }
        if (_safety.OneChainQc.Round > HighQc.Round)
        {
            HighQc = _safety.OneChainQc;
        }
        HighTc = _safety.HighTc;
        _lastVoteSentRound = -1;
        var round = Math.Max(Math.Max(HighQc.Round, HighTc?.Round ?? 0) + 1, _safety.LastVotedRound);
        EnterRound(round);
        Drain();
    }

    /// <summary>The single entry point: messages, timer ticks and internal events.</summary>
    public void Handle(ConsensusEvent e)
    {
        if (!_started)
        {
            throw new InvalidOperationException("Start the node before handling events");
        }
        _queue.Enqueue(e);
        if (!_handling)
        {
            Drain();
        }
    }

    private void Drain()
    {
        if (_handling)
        {
            return;
        }
        _handling = true;
        try
        {
            var processed = 0;
            while (_queue.TryDequeue(out var next))
            {
                if (++processed > ConsensusLimits.MaxEventsPerHandle)
                {
                    throw new ConsensusSafetyException($"more than {ConsensusLimits.MaxEventsPerHandle} events in one Handle: an event loop");
                }
                Dispatch(next);
                _observer?.OnEvent(Index, next);
            }
        }
        finally
        {
            _handling = false;
        }
        ScheduleWakeup();
    }

    private void Raise(ConsensusEvent e) => _queue.Enqueue(e);

    private void Dispatch(ConsensusEvent e)
    {
        switch (e)
        {
            case ProposalReceived p: OnProposal(p.From, p.Proposal); break;
            case VoteReceived v: OnVote(v.From, v.Vote); break;
            case TimeoutReceived t: OnTimeout(t.From, t.Timeout); break;
            case SyncInfoReceived s: OnSyncInfo(s.From, s.Info); break;
            case BlocksRequested r: OnBlocksRequested(r.From, r.Request); break;
            case BlocksReceived r: OnBlocksReceived(r.From, r.Response); break;
            case TimerFired: OnTimer(); break;
            case PayloadAvailable: TryPropose(); break;
            case QcFormed q: ProcessQc(q.Qc); break;
            case TcFormed t: ProcessTc(t.Tc); break;
            case RoundTimedOut t: OnRoundTimedOut(t.Round); break;
            default: break; // notifications
        }
    }

    private void Reject(int from, MessageType type, string reason)
    {
        RejectedMessages++;
        Raise(new MessageRejected(from, type, reason));
    }

    // ---------------------------------------------------------------- proposals and votes

    private void OnProposal(int from, ProposalMessage p)
    {
        var block = p.Block;
        if (block.Round <= 0 || block.Round > CurrentRound + ConsensusLimits.MaxFutureRounds)
        {
            Reject(from, MessageType.Proposal, "round out of window");
            return;
        }
        if (block.Round + ConsensusLimits.EvidenceWindowRounds < CurrentRound)
        {
            return; // too old to matter, even as evidence
        }
        var proposer = _membership.LeaderOf(block.Round);
        if (_membership.AddressOf(proposer) != block.Proposer)
        {
            Reject(from, MessageType.Proposal, "proposer is not the round's leader");
            return;
        }
        if (p.HighQc.BlockHash != block.ParentHash || p.HighQc.Round >= block.Round)
        {
            Reject(from, MessageType.Proposal, "block does not extend the QC it carries");
            return;
        }
        if (!_verifier.Verify(proposer, SignedKind.Proposal, block.Round, block.Hash, p.Signature))
        {
            Reject(from, MessageType.Proposal, "bad proposer signature");
            return;
        }
        if (_evidence.Observe(SignedKind.Proposal, block.Round, proposer, block.Hash, p.Signature) is { } evidence)
        {
            RecordEvidence(evidence);
        }
        if (_evidence.Conflicts(SignedKind.Proposal, block.Round, proposer, block.Hash)
            && _config.BrokenRule != SafetyRuleBreak.SkipLastVotedRoundCheck)
        {
            return; // the second of two proposals: the first is the one this node may vote for
        }
        if (!_certificates.VerifyQc(p.HighQc))
        {
            Reject(from, MessageType.Proposal, "invalid QC");
            return;
        }
        if (p.LastRoundTc is { } tc && (tc.Round != block.Round - 1 || !_certificates.VerifyTc(tc)))
        {
            Reject(from, MessageType.Proposal, "invalid TC");
            return;
        }
        ProcessQc(p.HighQc);
        if (p.LastRoundTc is { } lastTc)
        {
            ProcessTc(lastTc);
        }
        if (block.Round != CurrentRound)
        {
            if (block.Round < CurrentRound)
            {
                KeepLateCertifiedBlock(block);
                SendSyncInfo(from);
            }
            return; // stale, or its certificates did not justify its round
        }
        if (GetBlock(block.ParentHash) is null)
        {
            if (_buffered.Count >= ConsensusLimits.MaxBufferedProposals)
            {
                _buffered.Remove(_buffered.Keys.First());
            }
            _buffered[block.Round] = (from, p);
            RequestBlocks(from, block.ParentHash);
            return;
        }
        TryVote(from, p);
    }

    /// <summary>
    /// Votes go straight to the next leader while the proposal travels by broadcast, so the votes can
    /// overtake it: the next leader then forms the certificate of a block it has not seen, moves to its
    /// own round and cannot propose on a parent it lacks. No peer can serve that block yet (the fetch
    /// answers certified chains, and the certificate exists only here), so waiting for the fetch costs a
    /// retry interval. When the proposal arrives after all, its block is the certified one: it is kept
    /// as a fetched block would be, and whatever waited on it goes on at once.
    /// </summary>
    private void KeepLateCertifiedBlock(Block block)
    {
        if (GetBlock(block.Hash) is not null || !_certs.TryGetValue(block.Hash, out var cert) || cert.Round != block.Round
            || block.Height <= CommittedHeight || block.Height > CommittedHeight + ConsensusLimits.MaxUncommittedBlocks)
        {
            return;
        }
        PutBlock(block);
        _fetchesInFlight.Remove(block.Hash);
        ResumeBuffered();
        TryCommit(HighQc);
        TryPropose();
    }

    private void TryVote(int from, ProposalMessage p)
    {
        var block = p.Block;
        var parent = GetBlock(block.ParentHash)!;
        if (block.Height != parent.Height + 1 || block.Round <= parent.Round)
        {
            Reject(from, MessageType.Proposal, "height or round does not follow the parent");
            return;
        }
        if (block.TimestampMs <= parent.TimestampMs || block.TimestampMs > _clock.NowMs + _config.MaxClockDriftMs)
        {
            Reject(from, MessageType.Proposal, "timestamp not after the parent or too far ahead");
            return;
        }
        if (parent.Height < CommittedHeight || (parent.Height == CommittedHeight && parent.Hash != CommittedHash))
        {
            Reject(from, MessageType.Proposal, "extends a block that conflicts with the committed chain");
            return;
        }
        if (block.Height - CommittedHeight > ConsensusLimits.MaxUncommittedBlocks)
        {
            Reject(from, MessageType.Proposal, "too many uncommitted blocks");
            return;
        }
        PutBlock(block);

        var round = block.Round;
        if (round <= _safety.LastVotedRound && _config.BrokenRule != SafetyRuleBreak.SkipLastVotedRoundCheck)
        {
            // A repeated request for the round voted in gets the stored vote back, never a new one.
            if (_safety.LastVote is { } stored && stored.Round == round && stored.BlockHash == block.Hash && _lastVoteSentRound < round)
            {
                SendVote(stored);
            }
            return;
        }
        var tc = p.LastRoundTc;
        var safe = round == p.HighQc.Round + 1
            || (tc is not null && round == tc.Round + 1 && p.HighQc.Round >= tc.HighestQcRound);
        if (!safe)
        {
            Reject(from, MessageType.Proposal, "voting rule: neither QC nor TC of the previous round justifies it");
            return;
        }
        if (!_app.ProcessProposal(block))
        {
            Reject(from, MessageType.Proposal, "application rejected the payload");
            return;
        }
        var vote = new VoteMessage(round, block.Hash, Index, _signer.Sign(SignedKind.Vote, round, block.Hash));
        var oneChain = p.HighQc.Round > _safety.OneChainQc.Round ? p.HighQc : _safety.OneChainQc;
        PersistSafety(_safety with
        {
            LastVotedRound = Math.Max(round, _safety.LastVotedRound),
            OneChainQc = oneChain,
            LastVote = vote,
            HighTc = HighTc,
        });
        SendVote(vote);
    }

    private void SendVote(VoteMessage vote)
    {
        _lastVoteSentRound = vote.Round;
        var next = _membership.LeaderOf(vote.Round + 1);
        if (next == Index)
        {
            Raise(new VoteReceived(Index, vote));
        }
        else
        {
            _network.Send(next, vote);
        }
        Raise(new VoteSent(vote, next));
    }

    private void OnVote(int from, VoteMessage vote)
    {
        if ((uint)vote.Voter >= (uint)_membership.Count)
        {
            Reject(from, MessageType.Vote, "unknown voter");
            return;
        }
        if (vote.Round < CurrentRound - 1 || vote.Round > CurrentRound + ConsensusLimits.MaxFutureRounds || vote.Round <= 0)
        {
            return; // a QC for it could no longer (or not yet) move this node
        }
        if (_membership.LeaderOf(vote.Round + 1) != Index)
        {
            Reject(from, MessageType.Vote, "vote sent to a node that does not lead the next round");
            return;
        }
        if (!_verifier.Verify(vote.Voter, SignedKind.Vote, vote.Round, vote.BlockHash, vote.Signature))
        {
            Reject(from, MessageType.Vote, "bad vote signature");
            return;
        }
        if (_evidence.Observe(SignedKind.Vote, vote.Round, vote.Voter, vote.BlockHash, vote.Signature) is { } evidence)
        {
            RecordEvidence(evidence);
            return;
        }
        if (_votes.Add(vote) is { } qc)
        {
            Raise(new QcFormed(qc));
        }
    }

    // ---------------------------------------------------------------- timeouts

    private void OnTimeout(int from, TimeoutMessage t)
    {
        if ((uint)t.Signer >= (uint)_membership.Count || t.Round <= 0 || t.HighQc.Round >= t.Round)
        {
            Reject(from, MessageType.Timeout, "malformed timeout");
            return;
        }
        if (t.Round > CurrentRound + ConsensusLimits.MaxFutureRounds)
        {
            return;
        }
        if (t.Round < CurrentRound)
        {
            // The sender is behind: give it what moved this node on (at most once per round per peer).
            SendSyncInfo(from);
            return;
        }
        var subject = ConsensusSigning.TimeoutSubject(t.HighQc.Round);
        if (!_verifier.Verify(t.Signer, SignedKind.Timeout, t.Round, subject, t.Signature))
        {
            Reject(from, MessageType.Timeout, "bad timeout signature");
            return;
        }
        if (!_certificates.VerifyQc(t.HighQc) || (t.LastRoundTc is { } tc && (tc.Round != t.Round - 1 || !_certificates.VerifyTc(tc))))
        {
            Reject(from, MessageType.Timeout, "invalid certificate in timeout");
            return;
        }
        if (_evidence.Observe(SignedKind.Timeout, t.Round, t.Signer, subject, t.Signature) is { } evidence)
        {
            RecordEvidence(evidence);
            return;
        }
        ProcessQc(t.HighQc);
        if (t.LastRoundTc is { } lastTc)
        {
            ProcessTc(lastTc);
        }
        if (t.Round < CurrentRound)
        {
            return;
        }
        var (stake, formed) = _timeouts.Add(t);
        if (formed is not null)
        {
            Raise(new TcFormed(formed));
        }
        else if (t.Round == CurrentRound && stake >= _membership.ValidityStake && _safety.LastTimeout?.Round != CurrentRound && _joinedRound != CurrentRound)
        {
            _joinedRound = CurrentRound;
            // More than 1/3 gave up on this round, so at least one honest node did: join rather than wait.
            Raise(new RoundTimedOut(CurrentRound));
        }
    }

    private void OnRoundTimedOut(long round)
    {
        if (round != CurrentRound)
        {
            return;
        }
        _roundTimeouts++;
        _roundDeadlineMs = _clock.NowMs + RoundTimeoutMs(_roundTimeouts);
        if (_safety.LastTimeout is { } stored && stored.Round == round)
        {
            BroadcastTimeout(stored); // retransmit the same signed timeout
            return;
        }
        // Timeout rule: never for a round below one already voted in, and only with a QC at least as
        // high as the lock (a TC must never hide a QC an honest node voted on).
        if (round < _safety.LastVotedRound || HighQc.Round < _safety.OneChainRound)
        {
            return;
        }
        var lastTc = HighTc is { } tc && tc.Round == round - 1 ? tc : null;
        var subject = ConsensusSigning.TimeoutSubject(HighQc.Round);
        var timeout = new TimeoutMessage(round, HighQc, lastTc, Index, _signer.Sign(SignedKind.Timeout, round, subject));
        PersistSafety(_safety with
        {
            LastVotedRound = Math.Max(round, _safety.LastVotedRound),
            LastTimeout = timeout,
            HighTc = HighTc,
        });
        BroadcastTimeout(timeout);
    }

    private void BroadcastTimeout(TimeoutMessage timeout)
    {
        _network.Broadcast(timeout);
        Raise(new TimeoutSent(timeout));
        Raise(new TimeoutReceived(Index, timeout));
    }

    private long RoundTimeoutMs(int retransmissions)
    {
        // Back off with the number of rounds since the last QC (a struggling network gets longer rounds)
        // and with retransmissions inside a round.
        var exponent = Math.Clamp(CurrentRound - HighQc.Round - 1 + retransmissions, 0, ConsensusLimits.MaxBackoffExponent);
        return Math.Min(_config.RoundTimeoutMs << (int)exponent, _config.MaxRoundTimeoutMs);
    }

    // ---------------------------------------------------------------- certificates and rounds

    private void ProcessQc(QuorumCertificate qc)
    {
        if (!_certs.ContainsKey(qc.BlockHash))
        {
            _certs[qc.BlockHash] = qc;
            _store.PutCertificate(qc);
        }
        if (qc.Round > HighQc.Round)
        {
            HighQc = qc;
        }
        TryCommit(qc);
        AdvanceRound();
        TryPropose();
    }

    private void ProcessTc(TimeoutCertificate tc)
    {
        if (tc.Round > (HighTc?.Round ?? 0))
        {
            HighTc = tc;
        }
        AdvanceRound();
        TryPropose();
    }

    private void AdvanceRound()
    {
        var target = Math.Max(HighQc.Round, HighTc?.Round ?? 0) + 1;
        if (target > CurrentRound)
        {
            EnterRound(target);
        }
    }

    private void EnterRound(long round)
    {
        CurrentRound = round;
        _roundTimeouts = 0;
        _proposedThisRound = false;
        _proposeAtMs = null;
        _roundDeadlineMs = _clock.NowMs + RoundTimeoutMs(0);
        _votes.PruneBelow(round - 1);
        _timeouts.PruneBelow(round);
        _evidence.PruneBelow(round - ConsensusLimits.EvidenceWindowRounds);
        foreach (var stale in _buffered.Keys.Where(r => r < round).ToList())
        {
            _buffered.Remove(stale);
        }
        Raise(new RoundEntered(round, _membership.LeaderOf(round)));
        TryPropose();
    }

    private void SendSyncInfo(int peer)
    {
        if (peer == Index || (uint)peer >= (uint)_membership.Count || (_syncInfoSentRound.TryGetValue(peer, out var sent) && sent >= CurrentRound))
        {
            return;
        }
        _syncInfoSentRound[peer] = CurrentRound;
        _network.Send(peer, new SyncInfoMessage(HighQc, HighTc));
    }

    private void OnSyncInfo(int from, SyncInfoMessage info)
    {
        if (!_certificates.VerifyQc(info.HighQc) || (info.HighTc is { } tc && !_certificates.VerifyTc(tc)))
        {
            Reject(from, MessageType.SyncInfo, "invalid certificate");
            return;
        }
        if (info.HighQc.Round > CurrentRound + ConsensusLimits.MaxFutureRounds * 1024L)
        {
            Reject(from, MessageType.SyncInfo, "round implausibly far ahead");
            return;
        }
        ProcessQc(info.HighQc);
        if (info.HighTc is { } highTc)
        {
            ProcessTc(highTc);
        }
        if (GetBlock(info.HighQc.BlockHash) is null)
        {
            RequestBlocks(from, info.HighQc.BlockHash);
        }
    }

    // ---------------------------------------------------------------- proposing

    private void TryPropose()
    {
        var round = CurrentRound;
        if (_proposedThisRound || _membership.LeaderOf(round) != Index || _safety.LastVotedRound >= round)
        {
            return;
        }
        var lastTc = HighTc is { } tc && tc.Round == round - 1 ? tc : null;
        if (HighQc.Round != round - 1 && lastTc is null)
        {
            return; // not entered through a certificate of the previous round
        }
        var parent = GetBlock(HighQc.BlockHash);
        if (parent is null)
        {
            RequestBlocks(RandomPeer(), HighQc.BlockHash);
            return;
        }
        var now = _clock.NowMs;
        var earliest = parent.TimestampMs + _config.MinBlockIntervalMs;
        if (now < earliest)
        {
            _proposeAtMs = earliest;
            return;
        }
        var emptyDeadline = parent.TimestampMs + _config.MaxEmptyIntervalMs;
        if (now < emptyDeadline && !_app.HasPendingPayload)
        {
            _proposeAtMs = Math.Min(emptyDeadline, now + _config.PayloadPollIntervalMs);
            return;
        }
        var timestamp = Math.Max(now, parent.TimestampMs + 1);
        var content = _app.PrepareProposal(new ProposalContext(parent, round, parent.Height + 1, timestamp));
        Block block;
        try
        {
            block = new Block(parent.Height + 1, round, parent.Hash, timestamp, _membership.AddressOf(Index), content.AppHeader, content.Payload);
        }
        catch (InvalidConsensusMessageException e)
        {
            throw new ConsensusApplicationException($"PrepareProposal returned an invalid block: {e.Message}");
        }
        _proposedThisRound = true;
        _proposeAtMs = null;
        var proposal = new ProposalMessage(block, HighQc, lastTc, _signer.Sign(SignedKind.Proposal, round, block.Hash));
        PutBlock(block);
        _network.Broadcast(proposal);
        Raise(new ProposalSent(proposal));
        Raise(new ProposalReceived(Index, proposal));
    }

    // ---------------------------------------------------------------- commit

    private void TryCommit(QuorumCertificate qc)
    {
        var certified = GetBlock(qc.BlockHash);
        if (certified is null || certified.Height == 0)
        {
            return;
        }
        Block target;
        if (_config.BrokenRule == SafetyRuleBreak.CommitOnOneChain)
        {
            target = certified;
        }
        else
        {
            var parent = GetBlock(certified.ParentHash);
            // 2-chain rule: B commits once its child B' in the very next round is certified.
            if (parent is null || certified.Round != parent.Round + 1)
            {
                return;
            }
            target = parent;
        }
        if (target.Height <= CommittedHeight)
        {
            return;
        }
        CommitChain(target);
    }

    private void CommitChain(Block target)
    {
        var chain = new List<Block>();
        var cursor = target;
        while (cursor.Height > CommittedHeight)
        {
            chain.Add(cursor);
            var parent = GetBlock(cursor.ParentHash);
            if (parent is null)
            {
                RequestBlocks(RandomPeer(), cursor.ParentHash);
                return; // retried once the fetch lands
            }
            cursor = parent;
        }
        if (cursor.Hash != CommittedHash)
        {
            throw new ConsensusSafetyException($"validator {Index}: block {target.Hash} at height {target.Height} does not extend the committed block {CommittedHash} at height {CommittedHeight}");
        }
        for (var i = chain.Count - 1; i >= 0; i--)
        {
            var block = chain[i];
            if (GetCertificate(block.Hash) is not { } cert)
            {
                RequestBlocks(RandomPeer(), block.Hash);
                return;
            }
            _app.Commit(block, cert);
            _store.WriteCommittedSync(block, cert);
            CommittedHeight = block.Height;
            CommittedHash = block.Hash;
            CommittedRound = block.Round;
            Raise(new BlockCommitted(block, cert));
        }
        PruneCommitted();
    }

    private void PruneCommitted()
    {
        // Keep the committed tip; everything at or below it lives in the store.
        foreach (var (hash, block) in _blocks.Where(kv => kv.Value.Height < CommittedHeight).ToList())
        {
            _blocks.Remove(hash);
            _certs.Remove(block.Hash);
        }
    }

    // ---------------------------------------------------------------- block sync

    private void RequestBlocks(int peer, Hash32 target)
    {
        var now = _clock.NowMs;
        if (peer == Index || (_fetchesInFlight.TryGetValue(target, out var until) && until > now))
        {
            return;
        }
        if (_fetchesInFlight.Count >= ConsensusLimits.MaxInflightSyncRequests)
        {
            foreach (var expired in _fetchesInFlight.Where(kv => kv.Value <= now).Select(kv => kv.Key).ToList())
            {
                _fetchesInFlight.Remove(expired);
            }
            if (_fetchesInFlight.Count >= ConsensusLimits.MaxInflightSyncRequests)
            {
                return;
            }
        }
        _fetchesInFlight[target] = now + _config.SyncRetryMs;
        _nextRetryMs = Math.Min(_nextRetryMs == 0 ? long.MaxValue : _nextRetryMs, now + _config.SyncRetryMs);
        _network.Send(peer, new BlockRequestMessage(target, CommittedHeight, ConsensusLimits.MaxSyncBlocks));
        Raise(new BlocksFetchRequested(peer, target));
    }

    private void OnBlocksRequested(int from, BlockRequestMessage request)
    {
        if (from == Index || (uint)from >= (uint)_membership.Count)
        {
            return;
        }
        var now = _clock.NowMs;
        if (_lastServedMs.TryGetValue(from, out var last) && now - last < _config.SyncServeIntervalMs)
        {
            Reject(from, MessageType.BlockRequest, "fetches too frequent");
            return;
        }
        _lastServedMs[from] = now;
        var max = Math.Clamp(request.MaxBlocks, 1, ConsensusLimits.MaxSyncBlocks);
        var blocks = new List<CertifiedBlock>();
        long bytes = 0;
        var hash = request.Target;
        if (hash.IsZero)
        {
            // Forward fetch for a peer far behind: committed blocks just above its committed height.
            var tip = _store.ReadCommittedTip()?.Height ?? 0;
            var top = Math.Min(tip, request.KnownHeight + max);
            if (top <= request.KnownHeight || _store.GetCommittedHash(top) is not { } topHash)
            {
                return;
            }
            hash = topHash;
        }
        while (blocks.Count < max)
        {
            var block = GetBlock(hash);
            if (block is null || block.Height == 0 || block.Height <= request.KnownHeight)
            {
                break;
            }
            var cert = GetCertificate(hash);
            if (cert is null)
            {
                break;
            }
            bytes += block.Payload.Length;
            if (blocks.Count > 0 && bytes > ConsensusLimits.MaxSyncResponseBytes)
            {
                break;
            }
            blocks.Add(new CertifiedBlock(block, cert));
            hash = block.ParentHash;
        }
        if (blocks.Count > 0)
        {
            _network.Send(from, new BlockResponseMessage(blocks));
        }
    }

    private void OnBlocksReceived(int from, BlockResponseMessage response)
    {
        if (response.Blocks.Count == 0 || response.Blocks.Count > ConsensusLimits.MaxSyncBlocks)
        {
            Reject(from, MessageType.BlockResponse, "empty or too many blocks");
            return;
        }
        // Highest first, each the parent of the one before: check the links, then the certificates.
        for (var i = 0; i < response.Blocks.Count; i++)
        {
            var (block, cert) = response.Blocks[i];
            if (cert.BlockHash != block.Hash || cert.Round != block.Round || block.Height <= 0
                || (i > 0 && response.Blocks[i - 1].Block.ParentHash != block.Hash)
                || (i > 0 && response.Blocks[i - 1].Block.Height != block.Height + 1))
            {
                Reject(from, MessageType.BlockResponse, "blocks do not form a certified chain");
                return;
            }
        }
        for (var i = 0; i < response.Blocks.Count; i++)
        {
            if (!_certificates.VerifyQc(response.Blocks[i].Certificate))
            {
                Reject(from, MessageType.BlockResponse, "invalid certificate");
                return;
            }
        }
        _fetchesInFlight.Remove(Hash32.Zero);
        for (var i = response.Blocks.Count - 1; i >= 0; i--)
        {
            var (block, cert) = response.Blocks[i];
            _fetchesInFlight.Remove(block.Hash);
            if (block.Height <= CommittedHeight || block.Height > CommittedHeight + ConsensusLimits.MaxUncommittedBlocks)
            {
                continue;
            }
            PutBlock(block);
            if (!_certs.ContainsKey(block.Hash))
            {
                _certs[block.Hash] = cert;
                _store.PutCertificate(cert);
            }
        }
        for (var i = response.Blocks.Count - 1; i >= 0; i--)
        {
            ProcessQc(response.Blocks[i].Certificate);
        }
        var lowest = response.Blocks[^1].Block;
        if (lowest.Height - 1 > CommittedHeight && GetBlock(lowest.ParentHash) is null)
        {
            // Far behind: walk forward from the committed tip instead of backwards from the top.
            RequestBlocks(from, lowest.Height - CommittedHeight > ConsensusLimits.MaxSyncBlocks ? Hash32.Zero : lowest.ParentHash);
        }
        ResumeBuffered();
        TryCommit(HighQc);
    }

    private void ResumeBuffered()
    {
        foreach (var (round, (from, proposal)) in _buffered.ToList())
        {
            if (GetBlock(proposal.Block.ParentHash) is not null)
            {
                _buffered.Remove(round);
                Raise(new ProposalReceived(from, proposal));
            }
        }
    }

    // ---------------------------------------------------------------- time

    private void OnTimer()
    {
        var now = _clock.NowMs;
        if (now >= _roundDeadlineMs)
        {
            Raise(new RoundTimedOut(CurrentRound));
        }
        if (_proposeAtMs is { } at && now >= at)
        {
            _proposeAtMs = null;
            TryPropose();
        }
        if (_nextRetryMs != 0 && now >= _nextRetryMs)
        {
            _nextRetryMs = 0;
            RetryStalled(now);
        }
    }

    private void RetryStalled(long now)
    {
        foreach (var expired in _fetchesInFlight.Where(kv => kv.Value <= now).Select(kv => kv.Key).ToList())
        {
            _fetchesInFlight.Remove(expired);
        }
        foreach (var (_, (_, proposal)) in _buffered.ToList())
        {
            if (GetBlock(proposal.Block.ParentHash) is null)
            {
                RequestBlocks(RandomPeer(), proposal.Block.ParentHash);
            }
        }
        TryCommit(HighQc);
        TryPropose();
        if (GetBlock(HighQc.BlockHash) is null)
        {
            RequestBlocks(RandomPeer(), HighQc.BlockHash);
        }
    }

    private void ScheduleWakeup()
    {
        var next = _roundDeadlineMs;
        if (_proposeAtMs is { } at)
        {
            next = Math.Min(next, at);
        }
        if (_nextRetryMs != 0)
        {
            next = Math.Min(next, _nextRetryMs);
        }
        var now = _clock.NowMs;
        // Ask again only when the wanted time is earlier than the pending request or that one has passed.
        if (next < _requestedWakeMs || _requestedWakeMs <= now)
        {
            _requestedWakeMs = next;
            _clock.WakeAt(next);
        }
    }

    // ---------------------------------------------------------------- helpers

    private int RandomPeer()
    {
        if (_membership.Count == 1)
        {
            return Index;
        }
        var peer = _random.Next(_membership.Count - 1);
        return peer >= Index ? peer + 1 : peer;
    }

    private Block? GetBlock(Hash32 hash)
    {
        if (_blocks.TryGetValue(hash, out var block))
        {
            return block;
        }
        return _store.GetBlock(hash);
    }

    private QuorumCertificate? GetCertificate(Hash32 hash)
    {
        if (_certs.TryGetValue(hash, out var cert))
        {
            return cert;
        }
        return _store.GetCertificate(hash);
    }

    private void PutBlock(Block block)
    {
        if (_blocks.TryAdd(block.Hash, block))
        {
            _store.PutBlock(block);
        }
    }

    private void PersistSafety(SafetyData data)
    {
        _store.WriteSafetyDataSync(data);
        _safety = data;
    }

    private void RecordEvidence(EquivocationEvidence evidence)
    {
        _store.PutEvidence(evidence);
        Raise(new EquivocationDetected(evidence));
    }
}
