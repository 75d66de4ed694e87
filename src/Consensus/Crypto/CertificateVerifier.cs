using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;

namespace Keel.Consensus.Crypto;

/// <summary>
/// Checks QCs and TCs: a well-formed bitmap, one valid signature per signer, and signers holding a
/// quorum of stake. Remembers what it verified so that a certificate carried by many messages is
/// checked once; the cache key is the content a certificate proves (round and block hash for a QC,
/// round and highest QC round for a TC), so another certificate with the same key proves the same thing.
/// </summary>
public sealed class CertificateVerifier(IMembership membership, ISignatureVerifier verifier, Hash32 genesisHash)
{
    private readonly HashSet<(long Round, Hash32 Hash)> _verifiedQcs = [];
    private readonly HashSet<(long Round, long HighQcRound)> _verifiedTcs = [];

    public bool VerifyQc(QuorumCertificate qc)
    {
        if (qc.IsGenesis)
        {
            return qc.BlockHash == genesisHash && qc.Signatures.Count == 0;
        }
        if (qc.Round < 0 || _verifiedQcs.Contains((qc.Round, qc.BlockHash)))
        {
            return qc.Round >= 0;
        }
        if (!CheckSigners(qc.SignerBitmap, qc.Signatures.Count, out var signers))
        {
            return false;
        }
        for (var i = 0; i < signers.Length; i++)
        {
            if (!verifier.Verify(signers[i], SignedKind.Vote, qc.Round, qc.BlockHash, qc.Signatures[i]))
            {
                return false;
            }
        }
        Remember(_verifiedQcs, (qc.Round, qc.BlockHash));
        return true;
    }

    public bool VerifyTc(TimeoutCertificate tc)
    {
        if (tc.Round <= 0 || tc.HighQcRounds.Count != tc.Signatures.Count)
        {
            return false;
        }
        if (_verifiedTcs.Contains((tc.Round, tc.HighestQcRound)))
        {
            return true;
        }
        if (!CheckSigners(tc.SignerBitmap, tc.Signatures.Count, out var signers))
        {
            return false;
        }
        for (var i = 0; i < signers.Length; i++)
        {
            var qcRound = tc.HighQcRounds[i];
            // A timeout can only carry a QC from an earlier round.
            if (qcRound < 0 || qcRound >= tc.Round
                || !verifier.Verify(signers[i], SignedKind.Timeout, tc.Round, ConsensusSigning.TimeoutSubject(qcRound), tc.Signatures[i]))
            {
                return false;
            }
        }
        Remember(_verifiedTcs, (tc.Round, tc.HighestQcRound));
        return true;
    }

    private bool CheckSigners(byte[] bitmap, int signatureCount, out int[] signers)
    {
        signers = [];
        if (bitmap.Length != SignerBitmap.ByteLength(membership.Count))
        {
            return false;
        }
        // Bits past the committee size must be clear so that one set has one encoding.
        for (var i = membership.Count; i < bitmap.Length * 8; i++)
        {
            if (SignerBitmap.IsSet(bitmap, i))
            {
                return false;
            }
        }
        if (SignerBitmap.Count(bitmap) != signatureCount)
        {
            return false;
        }
        signers = [.. SignerBitmap.Indices(bitmap)];
        long stake = 0;
        foreach (var s in signers)
        {
            stake += membership.StakeOf(s);
        }
        return stake >= membership.QuorumStake;
    }

    private static void Remember<T>(HashSet<T> set, T key)
    {
        if (set.Count >= ConsensusLimits.MaxVerifiedCertificateCache)
        {
            set.Clear();
        }
        set.Add(key);
    }
}
