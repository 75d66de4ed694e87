using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Crypto;

/// <summary>
/// The production signer: recoverable secp256k1 ECDSA (r‖s‖recId, low-s) over the consensus digest,
/// exactly what an L1 contract checks with ecrecover(digest, recId + 27, r, s).
/// </summary>
public sealed class Secp256k1ConsensusSigner : IConsensusSigner
{
    private readonly byte[] _privateKey;
    private readonly ulong _networkId;

    /// <exception cref="ConsensusConfigException">the key is not a valid secp256k1 private key</exception>
    public Secp256k1ConsensusSigner(ReadOnlySpan<byte> privateKey32, int validatorIndex, ulong networkId)
    {
        if (!Secp256k1.IsValidPrivateKey(privateKey32))
        {
            throw new ConsensusConfigException("not a valid secp256k1 private key");
        }
        _privateKey = privateKey32.ToArray();
        ValidatorIndex = validatorIndex;
        _networkId = networkId;
        Address = Address.FromPublicKey(Secp256k1.GetPublicKey(_privateKey));
    }

    public int ValidatorIndex { get; }

    public Address Address { get; }

    public byte[] Sign(SignedKind kind, long round, Hash32 subject)
    {
        Span<byte> digest = stackalloc byte[32];
        ConsensusSigning.Digest(_networkId, kind, round, subject, digest);
        return Secp256k1.SignRecoverable(digest, _privateKey);
    }
}

/// <summary>Verifies by recovering the signer's address (as ecrecover does) and comparing it with the membership's.</summary>
public sealed class Secp256k1SignatureVerifier(IMembership membership, ulong networkId) : ISignatureVerifier
{
    public bool Verify(int validatorIndex, SignedKind kind, long round, Hash32 subject, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != Secp256k1.RecoverableSignatureSize || (uint)validatorIndex >= (uint)membership.Count)
        {
            return false;
        }
        Span<byte> digest = stackalloc byte[32];
        ConsensusSigning.Digest(networkId, kind, round, subject, digest);
        return Secp256k1.TryRecoverAddress(digest, signature, out var recovered) && recovered == membership.AddressOf(validatorIndex);
    }
}
