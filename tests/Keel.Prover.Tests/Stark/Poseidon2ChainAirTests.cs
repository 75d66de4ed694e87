using Keel.Core;
using Keel.Core.Hashing;
using Keel.Prover.Examples;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Verification;

namespace Keel.Prover.Tests.Stark;

public class Poseidon2ChainAirTests
{
    private static readonly Address Prover = Address.Parse("0x1111111111111111111111111111111111111111");

    [Fact]
    public void Trace_output_equals_the_reference_permutation_chain()
    {
        ulong[] input = [1, 2, 3, 4, 5, 6, 7, 8];
        var (_, output) = Poseidon2ChainAir.BuildTrace(4, input);
        var state = (ulong[])input.Clone();
        for (var i = 0; i < 4; i++)
        {
            Poseidon2.Width8.Permute(state);
        }
        Assert.Equal(state, output);
    }

    [Fact]
    public void Hash_chain_proof_verifies_and_a_wrong_output_is_rejected()
    {
        ulong[] input = [0, 1, 2, 3, 4, 5, 6, 7];
        var (trace, output) = Poseidon2ChainAir.BuildTrace(4, input);
        var air = new Poseidon2ChainAir(4, input, output);
        var ctx = new AirContext(air, ProofOptions.Default);
        Assert.Equal(7, ctx.CompositionColumns); // degree-8 constraints (x^7 times a selector)
        var proof = new StarkProver().Prove(air, trace, Prover).ToBytes();
        StarkVerifier.Verify(air, proof, Prover);

        var wrong = (ulong[])output.Clone();
        wrong[3] ^= 1;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new Poseidon2ChainAir(4, input, wrong), proof, Prover));
    }

    [Fact]
    public void Blowup_too_small_for_the_constraint_degree_is_refused()
    {
        ulong[] input = [0, 1, 2, 3, 4, 5, 6, 7];
        var (trace, output) = Poseidon2ChainAir.BuildTrace(2, input);
        var air = new Poseidon2ChainAir(2, input, output);
        Assert.Throws<Keel.Prover.Air.AirDefinitionException>(() => new StarkProver().Prove(air, trace, Prover, new ProofOptions(LogBlowup: 2)));
    }
}
