using System.Security.Cryptography;
using Keel.Consensus.Crypto;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Simulation;

/// <summary>
/// A fast stand-in for secp256k1 inside the simulator: a signature is keccak256(secret_i ‖ message),
/// where message is the same 160-byte abi encoding real signatures cover. Thousands of seeds sign and
/// verify millions of times; libsecp256k1 (about 40k operations a second here) would use the whole CI
/// budget on that alone. Forgery stays impossible inside the simulation: only the instance given a
/// validator's signer holds its secret (a Byzantine node gets its own signer and nothing else), and
/// the verifier, which holds every secret, is never handed to node code as a signer.
/// </summary>
public sealed class SimSignatureScheme : ISignatureVerifier
{
    public const int SignatureBytes = 32;

    private readonly byte[][] _secrets;
    private readonly ulong _networkId;

    public SimSignatureScheme(ulong seed, int validators, ulong networkId)
    {
        _networkId = networkId;
        _secrets = new byte[validators][];
        Span<byte> input = stackalloc byte[16];
        for (var i = 0; i < validators; i++)
        {
            BitConverter.TryWriteBytes(input[..8], seed);
            BitConverter.TryWriteBytes(input[8..], (ulong)i);
            _secrets[i] = Keccak256.Hash(input);
        }
    }

    public IConsensusSigner SignerFor(int validatorIndex) => new Signer(this, validatorIndex);

    public bool Verify(int validatorIndex, SignedKind kind, long round, Hash32 subject, ReadOnlySpan<byte> signature)
    {
        if ((uint)validatorIndex >= (uint)_secrets.Length || signature.Length != SignatureBytes)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[SignatureBytes];
        Compute(validatorIndex, kind, round, subject, expected);
        return CryptographicOperations.FixedTimeEquals(expected, signature);
    }

    private void Compute(int validatorIndex, SignedKind kind, long round, Hash32 subject, Span<byte> output)
    {
        Span<byte> input = stackalloc byte[32 + ConsensusSigning.EncodedBytes];
        _secrets[validatorIndex].CopyTo(input);
        ConsensusSigning.Encode(_networkId, kind, round, subject.Bytes, input[32..]);
        Keccak256.Hash(input, output);
    }

    private sealed class Signer(SimSignatureScheme scheme, int index) : IConsensusSigner
    {
        public int ValidatorIndex => index;

        public byte[] Sign(SignedKind kind, long round, Hash32 subject)
        {
            var signature = new byte[SignatureBytes];
            scheme.Compute(index, kind, round, subject, signature);
            return signature;
        }
    }
}
