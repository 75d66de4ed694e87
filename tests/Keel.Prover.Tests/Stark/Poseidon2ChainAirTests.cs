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

    [Fact]
    public void Width_12_chain_proves_the_rollup_leaf_hash()
    {
        // A rollup account leaf is one width-12 permutation: H([1, bal_0..3, nonce]) with the length 6 in state[8].
        var leaf = new Keel.Rollup.Hashing.RollupHasher().HashLeaf(123_456_789, 5);
        ulong[] input = [1, 123_456_789, 0, 0, 0, 5, 0, 0, 6, 0, 0, 0];
        var (trace, output) = Poseidon2ChainAir.BuildTrace(1, input);
        var digest = new ulong[4];
        leaf.CopyTo(digest);
        Assert.Equal(digest, output[..4]);

        var air = new Poseidon2ChainAir(1, input, output);
        Assert.Equal(Poseidon2ChainAir.AirName12, air.Name);
        var proof = new StarkProver().Prove(air, trace, Prover).ToBytes();
        StarkVerifier.Verify(air, proof, Prover);
        var wrong = (ulong[])output.Clone();
        wrong[0] ^= 1;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new Poseidon2ChainAir(1, input, wrong), proof, Prover));

        var (_, four) = Poseidon2ChainAir.BuildTrace(4, input);
        var state = (ulong[])input.Clone();
        for (var i = 0; i < 4; i++)
        {
            Poseidon2.Width12.Permute(state);
        }
        Assert.Equal(state, four);
    }
}
