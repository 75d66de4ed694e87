using Keel.Core;

namespace Keel.Consensus.Model;

/// <summary>
/// A quorum certificate: validators holding more than 2/3 of the stake voted for <see cref="BlockHash"/>
/// in <see cref="Round"/>. Signatures are in ascending signer order, one per set bit. The genesis QC
/// (round 0) has no signers and is valid by convention.
/// </summary>
public sealed class QuorumCertificate
{
    public QuorumCertificate(long round, Hash32 blockHash, byte[] signerBitmap, IReadOnlyList<byte[]> signatures)
    {
        Round = round;
        BlockHash = blockHash;
        SignerBitmap = signerBitmap;
        Signatures = signatures;
    }

    public long Round { get; }
    public Hash32 BlockHash { get; }
    public byte[] SignerBitmap { get; }
    public IReadOnlyList<byte[]> Signatures { get; }

    public bool IsGenesis => Round == 0;

    public static QuorumCertificate ForGenesis(Hash32 genesisHash) => new(0, genesisHash, [], []);

    public override string ToString() => $"QC(r={Round}, {BlockHash}, signers={Model.SignerBitmap.Count(SignerBitmap)})";
}

/// <summary>
/// A timeout certificate: validators holding more than 2/3 of the stake timed out in <see cref="Round"/>.
/// Each signer signed its own highest QC round; <see cref="HighestQcRound"/> is their maximum, which the
/// voting rule after a timeout compares against.
/// </summary>
public sealed class TimeoutCertificate
{
    public TimeoutCertificate(long round, byte[] signerBitmap, IReadOnlyList<long> highQcRounds, IReadOnlyList<byte[]> signatures)
    {
        Round = round;
        SignerBitmap = signerBitmap;
        HighQcRounds = highQcRounds;
        Signatures = signatures;
        HighestQcRound = highQcRounds.Count == 0 ? 0 : highQcRounds.Max();
    }

    public long Round { get; }
    public byte[] SignerBitmap { get; }
    public IReadOnlyList<long> HighQcRounds { get; }
    public IReadOnlyList<byte[]> Signatures { get; }
    public long HighestQcRound { get; }

    public override string ToString() => $"TC(r={Round}, hqc={HighestQcRound}, signers={Model.SignerBitmap.Count(SignerBitmap)})";
}
