using Keel.Core;
using Keel.Prover.Examples;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Verification;

namespace Keel.Prover.Tests.Stark;

public class StarkSoundnessTests
{
    private const int Rows = 64;
    private static readonly Address Prover = Address.Parse("0x00000000000000000000000000000000000000aa");

    private static readonly Lazy<(byte[] Bytes, ulong Result)> Valid = new(() =>
    {
        var (trace, result) = FibonacciAir.BuildTrace(Rows);
        var proof = new StarkProver().Prove(new FibonacciAir(Rows, result), trace, Prover);
        return (proof.ToBytes(), result);
    });

    private static void AssertRejected(Action verify)
    {
        var e = Record.Exception(verify);
        Assert.NotNull(e);
        Assert.True(e is ProofFormatException or ProofRejectedException, $"unexpected {e.GetType().Name}: {e.Message}");
    }

    [Fact]
    public void Valid_proof_verifies_and_round_trips_byte_for_byte()
    {
        var (bytes, result) = Valid.Value;
        StarkVerifier.Verify(new FibonacciAir(Rows, result), bytes, Prover);
        Assert.Equal(bytes, StarkProof.FromBytes(bytes).ToBytes());
    }

    [Fact]
    public void Single_byte_mutations_at_sampled_positions_are_rejected()
    {
        var (bytes, result) = Valid.Value;
        var air = new FibonacciAir(Rows, result);
        var rng = new Random(1234);
        // Every header byte, then a spread over the rest (roots, OOD frame, openings, nodes).
        var positions = Enumerable.Range(0, 120).Concat(Enumerable.Range(0, 250).Select(_ => rng.Next(120, bytes.Length))).Distinct();
        var count = 0;
        foreach (var position in positions)
        {
            var mutated = (byte[])bytes.Clone();
            mutated[position] ^= (byte)(1 << rng.Next(8));
            AssertRejected(() => StarkVerifier.Verify(air, mutated, Prover));
            count++;
        }
        Assert.True(count > 300);
    }

    [Fact]
    public void Wrong_public_input_or_prover_address_is_rejected()
    {
        var (bytes, result) = Valid.Value;
        var e = Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new FibonacciAir(Rows, result + 1), bytes, Prover));
        Assert.Equal(RejectionReason.CompositionMismatch, e.Reason);
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new FibonacciAir(Rows, result), bytes, Address.Parse("0x00000000000000000000000000000000000000ab")));
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new FibonacciAir(Rows * 2, result), bytes, Prover));
    }

    [Fact]
    public void Truncated_extended_and_oversized_proofs_are_format_errors()
    {
        var (bytes, result) = Valid.Value;
        var air = new FibonacciAir(Rows, result);
        Assert.Throws<ProofFormatException>(() => StarkVerifier.Verify(air, bytes.AsSpan(0, bytes.Length - 1), Prover));
        Assert.Throws<ProofFormatException>(() => StarkVerifier.Verify(air, bytes.AsSpan(0, 10), Prover));
        Assert.Throws<ProofFormatException>(() => StarkVerifier.Verify(air, [.. bytes, 0], Prover));
        Assert.Throws<ProofFormatException>(() => StarkVerifier.Verify(air, new byte[StarkProof.MaxProofBytes + 1], Prover));
        Assert.Throws<ProofFormatException>(() => StarkVerifier.Verify(air, Array.Empty<byte>(), Prover));
        var wrongVersion = (byte[])bytes.Clone();
        wrongVersion[4] = 2;
        Assert.Contains("version", Assert.Throws<ProofFormatException>(() => StarkProof.FromBytes(wrongVersion)).Message);
    }

    [Fact]
    public void Forged_proof_of_a_false_statement_is_rejected()
    {
        // An honest trace, but the AIR claims a different result: the prover is forced past its own checks.
        var (trace, result) = FibonacciAir.BuildTrace(Rows);
        var lie = new FibonacciAir(Rows, result + 1);
        var forged = new StarkProver { ForgeForTests = true }.Prove(lie, trace, Prover);
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(lie, forged, Prover));

        // A trace that breaks a transition in the middle, claimed with its own (consistent) end value.
        trace[0][20] ^= 1;
        var forged2 = new StarkProver { ForgeForTests = true }.Prove(new FibonacciAir(Rows, trace[1][Rows - 1]), trace, Prover);
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new FibonacciAir(Rows, trace[1][Rows - 1]), forged2, Prover));
    }

    [Fact]
    public void Prover_refuses_a_trace_that_breaks_the_air()
    {
        var (trace, result) = FibonacciAir.BuildTrace(Rows);
        trace[1][10] = 5;
        var e = Assert.Throws<TraceException>(() => new StarkProver().Prove(new FibonacciAir(Rows, result), trace, Prover));
        Assert.Contains("row 9", e.Message);
        Assert.Throws<TraceException>(() => new StarkProver().Prove(new FibonacciAir(Rows, result + 1), FibonacciAir.BuildTrace(Rows).Trace, Prover));
    }

    [Fact]
    public void Security_is_computed_from_the_options_and_enforced()
    {
        // 2^6 rows * 8 = 2^9 LDE points: min(128 - 9, 128, 3 * 30 + 16) - 1 = 105.
        Assert.Equal(105, new AirContext(new FibonacciAir(Rows, 1), ProofOptions.Default).SecurityBits);
        // 2^20 rows: the field part 128 - 23 = 105 is now below the query part (106).
        Assert.Equal(104, Security.ConjecturedBits(ProofOptions.Default, 23));
        // Below 80 query bits grinding does not count (Winterfell's floor).
        Assert.Equal(59, Security.ConjecturedBits(new ProofOptions(Queries: 20, GrindingBits: 16), 13));

        var weak = new ProofOptions(Queries: 8, GrindingBits: 4);
        var (trace, result) = FibonacciAir.BuildTrace(Rows);
        var air = new FibonacciAir(Rows, result);
        var proof = new StarkProver().Prove(air, trace, Prover, weak).ToBytes();
        var e = Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(air, proof, Prover));
        Assert.Equal(RejectionReason.InsufficientSecurity, e.Reason);
        StarkVerifier.Verify(air, proof, Prover, minSecurityBits: 20);
    }

    [Fact]
    public void Garbage_truncations_and_multi_byte_damage_give_typed_errors_only()
    {
        var (bytes, result) = Valid.Value;
        var air = new FibonacciAir(Rows, result);
        var rng = new Random(99);
        for (var i = 0; i < 200; i++)
        {
            var cut = rng.Next(bytes.Length);
            AssertRejected(() => StarkVerifier.Verify(air, bytes.AsSpan(0, cut), Prover));
            var garbage = new byte[rng.Next(0, 4096)];
            rng.NextBytes(garbage);
            AssertRejected(() => StarkVerifier.Verify(air, garbage, Prover));
            var damaged = (byte[])bytes.Clone();
            for (var k = 0; k < 1 + rng.Next(16); k++)
            {
                damaged[rng.Next(damaged.Length)] = (byte)rng.Next(256);
            }
            if (!damaged.AsSpan().SequenceEqual(bytes))
            {
                AssertRejected(() => StarkVerifier.Verify(air, damaged, Prover));
            }
        }
    }
}
