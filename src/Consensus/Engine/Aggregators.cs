using Keel.Consensus.Crypto;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;

namespace Keel.Consensus.Engine;

/// <summary>
/// Collects votes per (round, block) until their stake reaches a quorum, then builds the QC once.
/// Holds one vote per voter per round, for rounds inside the node's window only.
/// </summary>
internal sealed class VoteAggregator(IMembership membership)
{
    private readonly Dictionary<long, RoundVotes> _rounds = [];

    /// <summary>Adds a verified vote; returns the QC when this vote completed one.</summary>
    public QuorumCertificate? Add(VoteMessage vote)
    {
        if (!_rounds.TryGetValue(vote.Round, out var round))
        {
            round = new RoundVotes();
            _rounds[vote.Round] = round;
        }
        if (!round.Voters.Add(vote.Voter))
        {
            return null;
        }
        if (!round.Tallies.TryGetValue(vote.BlockHash, out var tally))
        {
            tally = new Tally(membership.Count);
            round.Tallies[vote.BlockHash] = tally;
        }
        tally.Signatures[vote.Voter] = vote.Signature;
        tally.Stake += membership.StakeOf(vote.Voter);
        if (tally.Formed || tally.Stake < membership.QuorumStake)
        {
            return null;
        }
        tally.Formed = true;
        var bitmap = new byte[SignerBitmap.ByteLength(membership.Count)];
        var signatures = new List<byte[]>();
        for (var i = 0; i < tally.Signatures.Length; i++)
        {
            if (tally.Signatures[i] is { } s)
            {
                SignerBitmap.Set(bitmap, i);
                signatures.Add(s);
            }
        }
        return new QuorumCertificate(vote.Round, vote.BlockHash, bitmap, signatures);
    }

    public void PruneBelow(long round)
    {
        foreach (var r in _rounds.Keys.Where(r => r < round).ToList())
        {
            _rounds.Remove(r);
        }
    }

    private sealed class RoundVotes
    {
        public HashSet<int> Voters { get; } = [];
        public Dictionary<Hash32, Tally> Tallies { get; } = [];
    }

    private sealed class Tally(int validators)
    {
        public byte[]?[] Signatures { get; } = new byte[]?[validators];
        public long Stake { get; set; }
        public bool Formed { get; set; }
    }
}

/// <summary>Collects timeouts per round; builds the TC once their stake reaches a quorum.</summary>
internal sealed class TimeoutAggregator(IMembership membership)
{
    private readonly Dictionary<long, RoundTimeouts> _rounds = [];

    /// <summary>Adds a verified timeout; returns the stake that timed out in its round and the TC when this one completed it.</summary>
    public (long Stake, TimeoutCertificate? Tc) Add(TimeoutMessage timeout)
    {
        if (!_rounds.TryGetValue(timeout.Round, out var round))
        {
            round = new RoundTimeouts(membership.Count);
            _rounds[timeout.Round] = round;
        }
        if (round.Signatures[timeout.Signer] is not null)
        {
            return (round.Stake, null);
        }
        round.Signatures[timeout.Signer] = timeout.Signature;
        round.QcRounds[timeout.Signer] = timeout.HighQc.Round;
        round.Stake += membership.StakeOf(timeout.Signer);
        if (round.Formed || round.Stake < membership.QuorumStake)
        {
            return (round.Stake, null);
        }
        round.Formed = true;
        var bitmap = new byte[SignerBitmap.ByteLength(membership.Count)];
        var signatures = new List<byte[]>();
        var qcRounds = new List<long>();
        for (var i = 0; i < round.Signatures.Length; i++)
        {
            if (round.Signatures[i] is { } s)
            {
                SignerBitmap.Set(bitmap, i);
                signatures.Add(s);
                qcRounds.Add(round.QcRounds[i]);
            }
        }
        return (round.Stake, new TimeoutCertificate(timeout.Round, bitmap, qcRounds, signatures));
    }

    public void PruneBelow(long round)
    {
        foreach (var r in _rounds.Keys.Where(r => r < round).ToList())
        {
            _rounds.Remove(r);
        }
    }

    private sealed class RoundTimeouts(int validators)
    {
        public byte[]?[] Signatures { get; } = new byte[]?[validators];
        public long[] QcRounds { get; } = new long[validators];
        public long Stake { get; set; }
        public bool Formed { get; set; }
    }
}

/// <summary>
/// First signed subject per (kind, round, signer) inside a sliding window of rounds; a second,
/// different one is equivocation evidence. Evidence is kept (bounded) and handed to the store.
/// </summary>
internal sealed class EvidenceLog(IMembership membership)
{
    private readonly Dictionary<(SignedKind Kind, long Round, int Signer), (Hash32 Subject, byte[] Signature)> _firstSeen = [];
    private readonly HashSet<(SignedKind, long, int)> _reported = [];
    private readonly List<EquivocationEvidence> _evidence = [];

    public IReadOnlyList<EquivocationEvidence> Evidence => _evidence;

    /// <summary>Records a verified signature; returns evidence the first time the signer contradicts itself.</summary>
    public EquivocationEvidence? Observe(SignedKind kind, long round, int signer, Hash32 subject, byte[] signature)
    {
        var key = (kind, round, signer);
        if (!_firstSeen.TryGetValue(key, out var first))
        {
            _firstSeen[key] = (subject, signature);
            return null;
        }
        if (first.Subject == subject || !_reported.Add(key))
        {
            return null;
        }
        var evidence = new EquivocationEvidence(kind, round, signer, membership.AddressOf(signer), first.Subject, first.Signature, subject, signature);
        if (_evidence.Count >= ConsensusLimits.MaxEvidenceRecords)
        {
            _evidence.RemoveAt(0);
        }
        _evidence.Add(evidence);
        return evidence;
    }

    /// <summary>True when the signer already signed a different subject for this kind and round.</summary>
    public bool Conflicts(SignedKind kind, long round, int signer, Hash32 subject) =>
        _firstSeen.TryGetValue((kind, round, signer), out var first) && first.Subject != subject;

    public void PruneBelow(long round)
    {
        if (_firstSeen.Count == 0)
        {
            return;
        }
        foreach (var key in _firstSeen.Keys.Where(k => k.Round < round).ToList())
        {
            _firstSeen.Remove(key);
            _reported.Remove(key);
        }
    }
}
