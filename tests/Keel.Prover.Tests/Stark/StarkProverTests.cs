using Keel.Core;
using Keel.Prover.Examples;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Verification;

namespace Keel.Prover.Tests.Stark;

public class StarkProverTests
{
    private static readonly Address Prover = Address.FromBytes(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());

    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(1024)]
    public void Fibonacci_proof_verifies(int rows)
    {
        var (trace, result) = FibonacciAir.BuildTrace(rows);
        var air = new FibonacciAir(rows, result);
        var proof = new StarkProver().Prove(air, trace, Prover);
        var bytes = proof.ToBytes();
        StarkVerifier.Verify(new FibonacciAir(rows, result), bytes, Prover);
    }
}
