using Keel.Consensus.Crypto;
using Keel.Consensus.Simulation;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Tests.Crypto;

public sealed class ConsensusSigningTests
{
    [Fact]
    public void The_signed_message_is_the_abi_encoding_of_domain_network_kind_round_subject()
    {
        var subject = Keccak256.HashToHash32("x"u8);
        var encoded = new byte[160];
        ConsensusSigning.Encode(0x0102030405060708, SignedKind.Timeout, 0x1122334455667788, subject.Bytes, encoded);
        Assert.Equal(Keccak256.Hash("keel.consensus.v1"u8), encoded[..32]);
        Assert.Equal(new byte[24], encoded[32..56]);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, encoded[56..64]);
        Assert.Equal(new byte[31], encoded[64..95]);
        Assert.Equal(2, encoded[95]);
        Assert.Equal(new byte[] { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 }, encoded[120..128]);
        Assert.Equal(subject.ToArray(), encoded[128..]);

        Span<byte> digest = stackalloc byte[32];
        ConsensusSigning.Digest(0x0102030405060708, SignedKind.Timeout, 0x1122334455667788, subject, digest);
        Assert.Equal(Keccak256.Hash(encoded), digest.ToArray());
    }

    [Fact]
    public void A_timeout_subject_is_the_qc_round_as_uint256()
    {
        var subject = ConsensusSigning.TimeoutSubject(258);
        var expected = new byte[32];
        expected[30] = 1;
        expected[31] = 2;
        Assert.Equal(expected, subject.ToArray());
    }

    [Fact]
    public void Sim_signatures_verify_only_for_their_signer_and_content()
    {
        var scheme = new SimSignatureScheme(7, 4, 1);
        var hash = Keccak256.HashToHash32("b"u8);
        var sig = scheme.SignerFor(2).Sign(SignedKind.Vote, 9, hash);
        Assert.True(scheme.Verify(2, SignedKind.Vote, 9, hash, sig));
        Assert.False(scheme.Verify(1, SignedKind.Vote, 9, hash, sig));
        Assert.False(scheme.Verify(2, SignedKind.Vote, 10, hash, sig));
        Assert.False(scheme.Verify(2, SignedKind.Proposal, 9, hash, sig));
        Assert.False(scheme.Verify(2, SignedKind.Vote, 9, Hash32.Zero, sig));
        Assert.False(scheme.Verify(9, SignedKind.Vote, 9, hash, sig));
        // Another simulation seed gives other secrets.
        Assert.False(new SimSignatureScheme(8, 4, 1).Verify(2, SignedKind.Vote, 9, hash, sig));
    }
}
