using Keel.Core;

namespace Keel.Consensus.Model;

/// <summary>Everything validators send each other. Immutable once built.</summary>
public abstract class ConsensusMessage
{
    public abstract MessageType Type { get; }
}

public enum MessageType : byte
{
    Proposal = 1,
    Vote = 2,
    Timeout = 3,
    SyncInfo = 4,
    BlockRequest = 5,
    BlockResponse = 6,
}

/// <summary>A leader's block for its round, with the highest QC it knows (which certifies the parent) and the TC of the previous round when that round timed out.</summary>
public sealed class ProposalMessage(Block block, QuorumCertificate highQc, TimeoutCertificate? lastRoundTc, byte[] signature) : ConsensusMessage
{
    public override MessageType Type => MessageType.Proposal;
    public Block Block { get; } = block;
    public QuorumCertificate HighQc { get; } = highQc;
    public TimeoutCertificate? LastRoundTc { get; } = lastRoundTc;
    public byte[] Signature { get; } = signature;
}

/// <summary>A vote for a block in a round; sent to the leader of the next round.</summary>
public sealed class VoteMessage(long round, Hash32 blockHash, int voter, byte[] signature) : ConsensusMessage
{
    public override MessageType Type => MessageType.Vote;
    public long Round { get; } = round;
    public Hash32 BlockHash { get; } = blockHash;
    public int Voter { get; } = voter;
    public byte[] Signature { get; } = signature;
}

/// <summary>A signed statement that the signer gave up on a round, carrying its highest QC (and the TC that let it enter the round, if any).</summary>
public sealed class TimeoutMessage(long round, QuorumCertificate highQc, TimeoutCertificate? lastRoundTc, int signer, byte[] signature) : ConsensusMessage
{
    public override MessageType Type => MessageType.Timeout;
    public long Round { get; } = round;
    public QuorumCertificate HighQc { get; } = highQc;
    public TimeoutCertificate? LastRoundTc { get; } = lastRoundTc;
    public int Signer { get; } = signer;
    public byte[] Signature { get; } = signature;
}

/// <summary>Certificates that let a lagging peer move to the sender's round.</summary>
public sealed class SyncInfoMessage(QuorumCertificate highQc, TimeoutCertificate? highTc) : ConsensusMessage
{
    public override MessageType Type => MessageType.SyncInfo;
    public QuorumCertificate HighQc { get; } = highQc;
    public TimeoutCertificate? HighTc { get; } = highTc;
}

/// <summary>Asks for <see cref="Target"/> and its ancestors down to (not including) <see cref="KnownHeight"/>.</summary>
public sealed class BlockRequestMessage(Hash32 target, long knownHeight, int maxBlocks) : ConsensusMessage
{
    public override MessageType Type => MessageType.BlockRequest;
    public Hash32 Target { get; } = target;
    public long KnownHeight { get; } = knownHeight;
    public int MaxBlocks { get; } = maxBlocks;
}

/// <summary>Certified blocks, highest first, each the parent of the one before.</summary>
public sealed class BlockResponseMessage(IReadOnlyList<CertifiedBlock> blocks) : ConsensusMessage
{
    public override MessageType Type => MessageType.BlockResponse;
    public IReadOnlyList<CertifiedBlock> Blocks { get; } = blocks;
}
