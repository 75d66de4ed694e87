using Keel.Consensus.Model;
using Keel.Core;

namespace Keel.Consensus.Ports;

/// <summary>
/// What consensus persists. Methods ending in Sync must be durable when they return (fsync); the
/// others may be buffered and lost in a crash, which the protocol tolerates because blocks and
/// certificates can be fetched again from peers.
/// </summary>
public interface IConsensusStore
{
    SafetyData? ReadSafetyData();

    /// <summary>Durable before return: the node sends the vote or timeout right after.</summary>
    void WriteSafetyDataSync(SafetyData data);

    void PutBlock(Block block);

    Block? GetBlock(Hash32 hash);

    void PutCertificate(QuorumCertificate certificate);

    /// <summary>The QC certifying the block with this hash, if known.</summary>
    QuorumCertificate? GetCertificate(Hash32 blockHash);

    /// <summary>Durable before return: the block, its certificate and the new committed tip.</summary>
    void WriteCommittedSync(Block block, QuorumCertificate certificate);

    /// <summary>The highest committed block, or null before the first commit.</summary>
    (long Height, Hash32 Hash)? ReadCommittedTip();

    /// <summary>The committed block hash at a height, if committed.</summary>
    Hash32? GetCommittedHash(long height);

    void PutEvidence(EquivocationEvidence evidence);
}
