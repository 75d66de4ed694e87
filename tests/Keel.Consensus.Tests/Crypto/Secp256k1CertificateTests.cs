using Keel.Consensus.Crypto;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Tests.Crypto;

/// <summary>Certificates with real secp256k1 keys, checked the way an L1 contract would (ecrecover).</summary>
public sealed class Secp256k1CertificateTests
{
    private const ulong NetworkId = 901;

    private static (byte[][] Keys, StaticMembership Membership, Secp256k1SignatureVerifier Verifier) Committee(int n)
    {
        // Fixed keys so the test is deterministic: keccak(i) is a valid secp256k1 scalar for these i.
        var keys = Enumerable.Range(1, n).Select(i => Keccak256.Hash(BitConverter.GetBytes(i))).ToArray();
        Assert.All(keys, k => Assert.True(Secp256k1.IsValidPrivateKey(k)));
        var membership = StaticMembership.EqualStake(keys.Select(k => Address.FromPublicKey(Secp256k1.GetPublicKey(k))));
        return (keys, membership, new Secp256k1SignatureVerifier(membership, NetworkId));
    }

    /// <summary>What Solidity's ecrecover(digest, v, r, s) returns, with v = 27 or 28.</summary>
    private static Address? EcRecover(ReadOnlySpan<byte> digest, byte v, ReadOnlySpan<byte> r, ReadOnlySpan<byte> s)
    {
        if (v != 27 && v != 28)
        {
            return null;
        }
        Span<byte> signature = stackalloc byte[65];
        r.CopyTo(signature);
        s.CopyTo(signature[32..]);
        signature[64] = (byte)(v - 27);
        return Secp256k1.TryRecoverAddress(digest, signature, out var address) ? address : null;
    }

    private static QuorumCertificate BuildQc(byte[][] keys, StaticMembership membership, long round, Hash32 blockHash, int[] signers)
    {
        var bitmap = new byte[SignerBitmap.ByteLength(membership.Count)];
        var sigs = new List<byte[]>();
        foreach (var i in signers.Order())
        {
            SignerBitmap.Set(bitmap, i);
            sigs.Add(new Secp256k1ConsensusSigner(keys[i], i, NetworkId).Sign(SignedKind.Vote, round, blockHash));
        }
        return new QuorumCertificate(round, blockHash, bitmap, sigs);
    }

    [Fact]
    public void A_quorum_certificate_verifies_and_every_signature_ecrecovers_to_its_signer()
    {
        var (keys, membership, verifier) = Committee(4);
        var blockHash = Keccak256.HashToHash32("block"u8);
        var qc = BuildQc(keys, membership, 12, blockHash, [0, 2, 3]);
        Assert.True(new CertificateVerifier(membership, verifier, Hash32.Zero).VerifyQc(qc));

        // The digest an L1 contract computes: keccak256(abi.encode(domain, networkId, uint8(1), round, blockHash)).
        var encoded = new byte[160];
        ConsensusSigning.Domain.Bytes.CopyTo(encoded);
        encoded[63] = (byte)(NetworkId & 0xff);
        encoded[62] = (byte)(NetworkId >> 8);
        encoded[95] = 1;
        encoded[127] = 12;
        blockHash.Bytes.CopyTo(encoded.AsSpan(128));
        var digest = Keccak256.Hash(encoded);
        var signers = SignerBitmap.Indices(qc.SignerBitmap).ToArray();
        Assert.Equal([0, 2, 3], signers);
        for (var i = 0; i < signers.Length; i++)
        {
            var sig = qc.Signatures[i];
            Assert.Equal(65, sig.Length);
            var v = (byte)(sig[64] + 27);
            Assert.Equal(membership.AddressOf(signers[i]), EcRecover(digest, v, sig.AsSpan(0, 32), sig.AsSpan(32, 32)));
        }
    }

    [Fact]
    public void Too_few_signers_a_wrong_round_or_a_tampered_signature_fail()
    {
        var (keys, membership, verifier) = Committee(4);
        var hash = Keccak256.HashToHash32("b"u8);
        Assert.False(new CertificateVerifier(membership, verifier, Hash32.Zero).VerifyQc(BuildQc(keys, membership, 3, hash, [0, 1])));

        var good = BuildQc(keys, membership, 3, hash, [0, 1, 2]);
        var otherRound = new QuorumCertificate(4, hash, good.SignerBitmap, good.Signatures);
        Assert.False(new CertificateVerifier(membership, verifier, Hash32.Zero).VerifyQc(otherRound));

        var tampered = good.Signatures.Select(s => s.ToArray()).ToList();
        tampered[1][10] ^= 1;
        Assert.False(new CertificateVerifier(membership, verifier, Hash32.Zero).VerifyQc(new QuorumCertificate(3, hash, good.SignerBitmap, tampered)));

        // A signature from a key outside the committee, placed under a member's bit.
        var outsider = new Secp256k1ConsensusSigner(Keccak256.Hash("outsider"u8), 1, NetworkId).Sign(SignedKind.Vote, 3, hash);
        var forged = good.Signatures.ToList();
        forged[1] = outsider;
        Assert.False(new CertificateVerifier(membership, verifier, Hash32.Zero).VerifyQc(new QuorumCertificate(3, hash, good.SignerBitmap, forged)));

        // Another network id never verifies.
        Assert.False(new CertificateVerifier(membership, new Secp256k1SignatureVerifier(membership, NetworkId + 1), Hash32.Zero).VerifyQc(good));
    }

    [Fact]
    public void A_timeout_certificate_with_real_keys_verifies()
    {
        var (keys, membership, verifier) = Committee(4);
        var bitmap = new byte[1];
        var sigs = new List<byte[]>();
        var rounds = new List<long>();
        foreach (var (i, qcRound) in new[] { (0, 5L), (1, 7L), (3, 6L) })
        {
            SignerBitmap.Set(bitmap, i);
            sigs.Add(new Secp256k1ConsensusSigner(keys[i], i, NetworkId).Sign(SignedKind.Timeout, 8, ConsensusSigning.TimeoutSubject(qcRound)));
            rounds.Add(qcRound);
        }
        var tc = new TimeoutCertificate(8, bitmap, rounds, sigs);
        Assert.Equal(7, tc.HighestQcRound);
        Assert.True(new CertificateVerifier(membership, verifier, Hash32.Zero).VerifyTc(tc));
        var lying = new TimeoutCertificate(8, bitmap, [5, 7, 9], sigs);
        Assert.False(new CertificateVerifier(membership, verifier, Hash32.Zero).VerifyTc(lying));
    }

    [Fact]
    public void Four_validators_with_real_signatures_commit()
    {
        var (keys, membership, verifier) = Committee(4);
        var genesis = Block.CreateGenesis(1_000);
        var clock = new ManualClock(10_000);
        var networks = Enumerable.Range(0, 4).Select(_ => new CapturingNetwork()).ToArray();
        var apps = Enumerable.Range(0, 4).Select(_ => new TestApplication()).ToArray();
        var config = new ConsensusConfig { NetworkId = NetworkId, MinBlockIntervalMs = 0 };
        var nodes = Enumerable.Range(0, 4).Select(i => new ConsensusNode(config, membership, new Secp256k1ConsensusSigner(keys[i], i, NetworkId), verifier,
            networks[i], new Storage.InMemoryConsensusStore(), apps[i], clock, new DeterministicRandom((ulong)i), genesis)).ToArray();
        foreach (var node in nodes)
        {
            node.Start();
        }
        for (var step = 0; step < 200 && apps.Any(a => a.Committed.Count < 5); step++)
        {
            clock.NowMs += 1;
            for (var from = 0; from < 4; from++)
            {
                var sent = networks[from].Sent.ToList();
                networks[from].Sent.Clear();
                foreach (var (to, message) in sent)
                {
                    for (var target = 0; target < 4; target++)
                    {
                        if (target != from && (to is null || to == target))
                        {
                            nodes[target].Handle(ConsensusEvent.FromMessage(from, message));
                        }
                    }
                }
                nodes[from].Handle(TimerFired.Instance);
            }
        }
        Assert.All(apps, a => Assert.True(a.Committed.Count >= 5));
        var cert = apps[0].Committed[0].Cert;
        Assert.True(new CertificateVerifier(membership, verifier, genesis.Hash).VerifyQc(cert));
        Assert.All(cert.Signatures, s => Assert.Equal(65, s.Length));
    }
}
