using System.CommandLine;
using Keel.Core.Crypto;
using Keel.Node.Cli;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench secp256k1`: libsecp256k1 (through Keel.Core's binding) sign, recover and verify
/// rates, with BouncyCastle's ECDSA sign and verify in the same run for comparison. One thread.
/// </summary>
internal static class Secp256k1Bench
{
    /// <summary>Distinct messages cycled through, so that no result is reused by accident.</summary>
    private const int MessageCount = 256;

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds")
        {
            Description = "measuring time per row in seconds",
            DefaultValueFactory = _ => 1.0,
        };
        var command = new Command("secp256k1", "secp256k1 sign / recover / verify per second (libsecp256k1, BouncyCastle for comparison).");
        command.Options.Add(seconds);
        command.SetAction(parse =>
        {
            var budget = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(seconds), 0.05, 60));
            var key = Secp256k1.CreatePrivateKey();
            var publicKey = Secp256k1.GetPublicKey(key);
            var hashes = Enumerable.Range(0, MessageCount).Select(i => Keccak256.Hash(BitConverter.GetBytes(i))).ToArray();
            var signatures = hashes.Select(h => Secp256k1.SignRecoverable(h, key)).ToArray();
            var recovered = new byte[Secp256k1.UncompressedPublicKeySize];
            var signature = new byte[Secp256k1.RecoverableSignatureSize];

            var n = 0;
            var sign = KeccakBench.Measure(budget, () => Secp256k1.SignRecoverable(hashes[n++ % MessageCount], key, signature));
            n = 0;
            var recover = KeccakBench.Measure(budget, () =>
            {
                var i = n++ % MessageCount;
                if (!Secp256k1.TryRecoverPublicKey(hashes[i], signatures[i], recovered))
                {
                    throw new InvalidOperationException("recovery failed during the benchmark");
                }
            });
            n = 0;
            var verify = KeccakBench.Measure(budget, () =>
            {
                var i = n++ % MessageCount;
                if (!Secp256k1.Verify(hashes[i], signatures[i].AsSpan(0, 64), publicKey))
                {
                    throw new InvalidOperationException("verification failed during the benchmark");
                }
            });

            // BouncyCastle: deterministic (RFC 6979) ECDSA on the same curve and messages.
            var curve = SecNamedCurves.GetByName("secp256k1");
            var domain = new ECDomainParameters(curve.Curve, curve.G, curve.N, curve.H);
            var privateParameters = new ECPrivateKeyParameters(new BigInteger(1, key), domain);
            var publicParameters = new ECPublicKeyParameters(curve.Curve.DecodePoint(publicKey), domain);
            var bcSigner = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
            bcSigner.Init(true, privateParameters);
            var bcVerifier = new ECDsaSigner();
            bcVerifier.Init(false, publicParameters);
            var bcSignatures = hashes.Select(h => bcSigner.GenerateSignature(h)).ToArray();
            n = 0;
            var bcSign = KeccakBench.Measure(budget, () => bcSigner.GenerateSignature(hashes[n++ % MessageCount]));
            n = 0;
            var bcVerify = KeccakBench.Measure(budget, () =>
            {
                var i = n++ % MessageCount;
                if (!bcVerifier.VerifySignature(hashes[i], bcSignatures[i][0], bcSignatures[i][1]))
                {
                    throw new InvalidOperationException("BouncyCastle verification failed during the benchmark");
                }
            });

            var report = new BenchReport("secp256k1");
            var table = report.AddTable("secp256k1 ECDSA, one thread", "implementation", "operation", "ops/s", "us/op", "ops/cpu-s", "vs BouncyCastle", "cpu");
            table.AddRow("libsecp256k1", "sign (recoverable)", sign.PerSecond, 1e6 / sign, sign.PerCpuSecond, $"{sign / bcSign:F2}x", sign.CpuText);
            table.AddRow("libsecp256k1", "recover", recover.PerSecond, 1e6 / recover, recover.PerCpuSecond, "-", recover.CpuText);
            table.AddRow("libsecp256k1", "verify", verify.PerSecond, 1e6 / verify, verify.PerCpuSecond, $"{verify / bcVerify:F2}x", verify.CpuText);
            table.AddRow("BouncyCastle", "sign", bcSign.PerSecond, 1e6 / bcSign, bcSign.PerCpuSecond, "1.00x", bcSign.CpuText);
            table.AddRow("BouncyCastle", "verify", bcVerify.PerSecond, 1e6 / bcVerify, bcVerify.PerCpuSecond, "1.00x", bcVerify.CpuText);
            report.Notes.Add($"each row runs for about {budget.TotalSeconds:F2} s after a warm-up over {MessageCount} distinct 32-byte message hashes; BouncyCastle has no public-key recovery, so recover has no comparison; cpu = process CPU time / wall time while measuring (well under 100% means the machine was busy); ops/cpu-s divides by CPU time instead, an estimate for an idle core");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }
}
