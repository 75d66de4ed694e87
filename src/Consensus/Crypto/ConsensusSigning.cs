using System.Buffers.Binary;
using System.Text;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Crypto;

/// <summary>What a consensus signature is about; the value is the abi-encoded uint8 `kind`.</summary>
public enum SignedKind : byte
{
    Vote = 1,
    Timeout = 2,
    Proposal = 3,
}

/// <summary>
/// The one message format every consensus signature covers:
/// keccak256(abi.encode(bytes32 domain, uint256 networkId, uint8 kind, uint256 round, bytes32 subject)).
/// For votes and proposals the subject is the block hash; for timeouts it is the signer's highest QC
/// round as a uint256 (a timeout is about a round, not a block, and the QC round is what a TC must prove).
/// An L1 contract computes the same digest and checks signatures with ecrecover.
/// </summary>
public static class ConsensusSigning
{
    public const int EncodedBytes = 5 * 32;

    /// <summary>keccak256("keel.consensus.v1"): separates these signatures from any other use of a validator key.</summary>
    public static readonly Hash32 Domain = Keccak256.HashToHash32(Encoding.ASCII.GetBytes("keel.consensus.v1"));

    /// <summary>The 160-byte abi.encode of the signed fields.</summary>
    public static void Encode(ulong networkId, SignedKind kind, long round, ReadOnlySpan<byte> subject32, Span<byte> output160)
    {
        if (subject32.Length != 32 || output160.Length < EncodedBytes)
        {
            throw new ArgumentException("subject must be 32 bytes and output at least 160");
        }
        var o = output160[..EncodedBytes];
        o.Clear();
        Domain.Bytes.CopyTo(o[0..32]);
        BinaryPrimitives.WriteUInt64BigEndian(o[56..64], networkId);
        o[95] = (byte)kind;
        BinaryPrimitives.WriteUInt64BigEndian(o[120..128], (ulong)round);
        subject32.CopyTo(o[128..160]);
    }

    public static void Digest(ulong networkId, SignedKind kind, long round, Hash32 subject, Span<byte> digest32)
    {
        Span<byte> encoded = stackalloc byte[EncodedBytes];
        Encode(networkId, kind, round, subject.Bytes, encoded);
        Keccak256.Hash(encoded, digest32);
    }

    /// <summary>The subject a timeout signs: its highest QC round as a big-endian uint256.</summary>
    public static Hash32 TimeoutSubject(long highQcRound)
    {
        Span<byte> word = stackalloc byte[32];
        word.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(word[24..], (ulong)highQcRound);
        return Hash32.FromBytes(word);
    }
}

/// <summary>A validator's signing key, behind a port so the simulator can use a fast scheme.</summary>
public interface IConsensusSigner
{
    int ValidatorIndex { get; }

    byte[] Sign(SignedKind kind, long round, Hash32 subject);
}

/// <summary>Checks that a validator signed (kind, round, subject).</summary>
public interface ISignatureVerifier
{
    bool Verify(int validatorIndex, SignedKind kind, long round, Hash32 subject, ReadOnlySpan<byte> signature);
}
