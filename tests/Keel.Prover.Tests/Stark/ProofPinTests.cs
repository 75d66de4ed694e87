using Keel.Core;
using Keel.Core.Crypto;
using Keel.Prover.Air;
using Keel.Prover.Examples;
using Keel.Prover.Proving;
using Keel.Prover.Verification;

namespace Keel.Prover.Tests.Stark;

/// <summary>
/// Pins the exact bytes of small proofs: the Keccak-256 of each proof was taken from the prover
/// before its engine was optimized. Any change to the transcript, the proof format or the
/// arithmetic's results changes a hash; a faster engine must leave them all as they are.
/// </summary>
public class ProofPinTests
{
    private static readonly Address Prover = Address.FromBytes(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());

    private static string ProofHash(IAir air, ulong[][] trace, int parallelism)
    {
        var bytes = new StarkProver(new CpuBackend(parallelism)).Prove(air, trace, Prover).ToBytes();
        StarkVerifier.Verify(air, bytes, Prover);
        return Convert.ToHexString(Keccak256.Hash(bytes)).ToLowerInvariant();
    }

    [Theory]
    [InlineData(1, "ed536b2a0ea06fdf0eedb6b0c2d1f4357a1d137c3544af2415e8c3a36187ede8")]
    [InlineData(2, "ed536b2a0ea06fdf0eedb6b0c2d1f4357a1d137c3544af2415e8c3a36187ede8")]
    public void Fibonacci_1024_proof_bytes_are_pinned(int parallelism, string expected)
    {
        var (trace, result) = FibonacciAir.BuildTrace(1024);
        Assert.Equal(expected, ProofHash(new FibonacciAir(1024, result), trace, parallelism));
    }

    [Theory]
    [InlineData(1, "90ef97470737de6c3834afc46a9cd0f38c59c9e06e2dc8ea157c907a29f74f67")]
    [InlineData(2, "90ef97470737de6c3834afc46a9cd0f38c59c9e06e2dc8ea157c907a29f74f67")]
    public void Poseidon2_chain_proof_bytes_are_pinned(int parallelism, string expected)
    {
        ulong[] input = [0, 1, 2, 3, 4, 5, 6, 7];
        var (trace, output) = Poseidon2ChainAir.BuildTrace(32, input);
        Assert.Equal(expected, ProofHash(new Poseidon2ChainAir(32, input, output), trace, parallelism));
    }

    [Theory]
    [InlineData(1, "938b927056eb709cdb34a675b0ae176f519bb0cd1cf9e282160c5e4e0eb432b2")]
    [InlineData(2, "938b927056eb709cdb34a675b0ae176f519bb0cd1cf9e282160c5e4e0eb432b2")]
    public void Wide_synthetic_proof_bytes_are_pinned(int parallelism, string expected)
    {
        // 2^11 rows so that every parallel path (NTT blocks, composition blocks, Merkle work items) runs.
        const int rows = 1 << 11, width = 40;
        Assert.Equal(expected, ProofHash(new WideSyntheticAir(rows, width), WideSyntheticAir.BuildTrace(rows, width), parallelism));
    }

    [Fact]
    public void A_reused_backend_recycles_its_buffers_without_changing_proofs()
    {
        // The second and third proofs run on arrays recycled from earlier ones (stale contents).
        var backend = new CpuBackend(2);
        const int rows = 1 << 11, width = 40;
        var wide = new WideSyntheticAir(rows, width);
        var wideTrace = WideSyntheticAir.BuildTrace(rows, width);
        var (fibTrace, result) = FibonacciAir.BuildTrace(1024);
        var fib = new FibonacciAir(1024, result);
        string Hash(IAir air, ulong[][] trace) => Convert.ToHexString(Keccak256.Hash(new StarkProver(backend).Prove(air, trace, Prover).ToBytes())).ToLowerInvariant();
        for (var round = 0; round < 2; round++)
        {
            Assert.Equal("938b927056eb709cdb34a675b0ae176f519bb0cd1cf9e282160c5e4e0eb432b2", Hash(wide, wideTrace));
            Assert.Equal("ed536b2a0ea06fdf0eedb6b0c2d1f4357a1d137c3544af2415e8c3a36187ede8", Hash(fib, fibTrace));
        }
        Assert.True(backend.Buffers.RetainedBytes > 0);
        Assert.True(backend.Buffers.RetainedBytes <= backend.Buffers.MaxRetainedBytes);
    }
}
