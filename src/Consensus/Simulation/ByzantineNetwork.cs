using Keel.Consensus.Crypto;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;

namespace Keel.Consensus.Simulation;

/// <summary>
/// Turns an honest node into a Byzantine one by rewriting what it sends. It signs with its own key
/// only (the only key it holds), so everything it forges for another key fails verification.
/// </summary>
internal sealed class ByzantineNetwork(
    ByzantineBehavior behavior,
    IConsensusNetwork inner,
    IConsensusSigner signer,
    IMembership membership,
    QuorumCertificate genesisQc,
    DeterministicRandom random) : IConsensusNetwork, IConsensusObserver
{
    /// <summary>Blocks and QCs remembered for stale proposals and junk.</summary>
    private const int HistoryLimit = 64;

    /// <summary>Junk messages sent alongside each real one by a spammer.</summary>
    private const int SpamPerMessage = 4;

    private readonly Dictionary<Hash32, Block> _blocks = [];
    private readonly Queue<Hash32> _blockOrder = new();
    private readonly List<QuorumCertificate> _qcs = [];
    private long _round;

    public void OnEvent(int validatorIndex, ConsensusEvent e)
    {
        switch (e)
        {
            case RoundEntered r:
                _round = r.Round;
                break;
            case ProposalReceived p:
                Remember(p.Proposal.Block);
                if (_qcs.Count == 0 || _qcs[^1].Round < p.Proposal.HighQc.Round)
                {
                    _qcs.Add(p.Proposal.HighQc);
                    if (_qcs.Count > HistoryLimit)
                    {
                        _qcs.RemoveAt(0);
                    }
                }
                break;
        }
    }

    public void Broadcast(ConsensusMessage message)
    {
        switch (behavior)
        {
            case ByzantineBehavior.Silent:
                return;
            case ByzantineBehavior.Equivocate when message is ProposalMessage p:
            {
                var alternative = Reproposal(p.Block.Height, p.Block.ParentHash, p.HighQc, p.LastRoundTc, p.Block);
                for (var v = 0; v < membership.Count; v++)
                {
                    if (v != signer.ValidatorIndex)
                    {
                        inner.Send(v, random.Chance(0.5) ? p : alternative);
                    }
                }
                break;
            }
            case ByzantineBehavior.Equivocate when message is TimeoutMessage t:
                inner.Broadcast(t);
                if (t.HighQc.Round > 0)
                {
                    var subject = ConsensusSigning.TimeoutSubject(genesisQc.Round);
                    inner.Broadcast(new TimeoutMessage(t.Round, genesisQc, null, signer.ValidatorIndex, signer.Sign(SignedKind.Timeout, t.Round, subject)));
                }
                break;
            case ByzantineBehavior.StaleQc when message is ProposalMessage p:
            {
                var stale = _qcs.Where(q => q.Round < p.HighQc.Round && _blocks.ContainsKey(q.BlockHash)).ToList();
                if (stale.Count == 0)
                {
                    inner.Broadcast(p);
                    break;
                }
                var qc = stale[random.Next(stale.Count)];
                var parent = _blocks[qc.BlockHash];
                inner.Broadcast(Reproposal(parent.Height + 1, parent.Hash, qc, p.LastRoundTc, p.Block));
                break;
            }
            default:
                inner.Broadcast(message);
                break;
        }
        Extras();
    }

    public void Send(int validatorIndex, ConsensusMessage message)
    {
        switch (behavior)
        {
            case ByzantineBehavior.Silent:
                return;
            case ByzantineBehavior.Equivocate when message is VoteMessage vote:
            {
                inner.Send(validatorIndex, vote);
                var other = RandomHash();
                inner.Send(validatorIndex, new VoteMessage(vote.Round, other, signer.ValidatorIndex, signer.Sign(SignedKind.Vote, vote.Round, other)));
                break;
            }
            default:
                inner.Send(validatorIndex, message);
                break;
        }
        Extras();
    }

    private ProposalMessage Reproposal(long height, Hash32 parent, QuorumCertificate qc, TimeoutCertificate? tc, Block original)
    {
        var payload = new byte[8 + random.Next(24)];
        random.NextBytes(payload);
        if (random.Chance(0.25))
        {
            payload[0] = SimApplication.InvalidPayloadMarker;
        }
        else if (payload[0] == SimApplication.InvalidPayloadMarker)
        {
            payload[0] = 0;
        }
        var block = new Block(height, original.Round, parent, original.TimestampMs, original.Proposer, [], payload);
        Remember(block);
        return new ProposalMessage(block, qc, tc, signer.Sign(SignedKind.Proposal, block.Round, block.Hash));
    }

    private void Extras()
    {
        if (behavior == ByzantineBehavior.FutureVotes)
        {
            var round = _round + 1 + random.Next(2 * ConsensusLimits.MaxFutureRounds);
            var hash = RandomHash();
            inner.Send(membership.LeaderOf(round + 1), new VoteMessage(round, hash, signer.ValidatorIndex, signer.Sign(SignedKind.Vote, round, hash)));
            var qc = _qcs.Count > 0 ? _qcs[^1] : genesisQc;
            var timeoutRound = Math.Max(qc.Round + 1, _round + 1 + random.Next(2 * ConsensusLimits.MaxFutureRounds));
            var subject = ConsensusSigning.TimeoutSubject(qc.Round);
            inner.Broadcast(new TimeoutMessage(timeoutRound, qc, null, signer.ValidatorIndex, signer.Sign(SignedKind.Timeout, timeoutRound, subject)));
        }
        else if (behavior == ByzantineBehavior.Spam)
        {
            for (var i = 0; i < SpamPerMessage; i++)
            {
                inner.Send(random.Next(membership.Count), Junk());
            }
        }
    }

    private ConsensusMessage Junk()
    {
        var round = Math.Max(1, _round + random.Next(8) - 4);
        var qc = _qcs.Count > 0 ? _qcs[^1] : genesisQc;
        switch (random.Next(7))
        {
            case 0:
                return new VoteMessage(round, RandomHash(), random.Next(membership.Count), RandomBytes(32));
            case 1:
            {
                var block = new Block(1 + random.Next(100), round, qc.BlockHash, 1, membership.AddressOf(membership.LeaderOf(round)), [], RandomBytes(16));
                return new ProposalMessage(block, qc, null, RandomBytes(32));
            }
            case 2:
                return new BlockRequestMessage(random.Chance(0.5) ? Hash32.Zero : RandomHash(), 0, int.MaxValue);
            case 3:
                return new SyncInfoMessage(ForgedQc(round + 1_000), null);
            case 4:
            {
                var block = new Block(1 + random.Next(100), round, RandomHash(), 1, Address.Zero, [], RandomBytes(8));
                return new BlockResponseMessage([new CertifiedBlock(block, ForgedQc(round))]);
            }
            case 5:
                return new TimeoutMessage(round, qc.Round < round ? qc : genesisQc, null, random.Next(membership.Count), RandomBytes(32));
            default:
            {
                // A forged TC claiming the whole committee timed out far ahead.
                var bitmap = new byte[SignerBitmap.ByteLength(membership.Count)];
                var sigs = new List<byte[]>();
                var rounds = new List<long>();
                for (var v = 0; v < membership.Count; v++)
                {
                    SignerBitmap.Set(bitmap, v);
                    sigs.Add(RandomBytes(32));
                    rounds.Add(0);
                }
                return new SyncInfoMessage(genesisQc, new TimeoutCertificate(round + 500, bitmap, rounds, sigs));
            }
        }
    }

    private QuorumCertificate ForgedQc(long round)
    {
        var bitmap = new byte[SignerBitmap.ByteLength(membership.Count)];
        var sigs = new List<byte[]>();
        for (var v = 0; v < membership.Count; v++)
        {
            SignerBitmap.Set(bitmap, v);
            sigs.Add(RandomBytes(32));
        }
        return new QuorumCertificate(round, RandomHash(), bitmap, sigs);
    }

    private void Remember(Block block)
    {
        if (_blocks.TryAdd(block.Hash, block))
        {
            _blockOrder.Enqueue(block.Hash);
            if (_blockOrder.Count > HistoryLimit)
            {
                _blocks.Remove(_blockOrder.Dequeue());
            }
        }
    }

    private Hash32 RandomHash() => Hash32.FromBytes(RandomBytes(32));

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
