using Keel.Core;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;

namespace Keel.Rollup.Tests;

/// <summary>
/// The known answers listed in docs/rollup.md ("Known answers"), so that the STARK transfer AIR,
/// the Solidity side and any other implementation can check their encoding against fixed values,
/// and so that the document cannot drift from the code. Poseidon2 itself is pinned by Keel.Core's
/// known-answer tests; these pin the rollup's use of it.
/// </summary>
public class RollupVectorsTests
{
    private static readonly RollupHasher Hasher = RollupHasher.Shared;

    [Fact]
    public void Empty_leaf_empty_root_and_a_leaf()
    {
        Assert.Equal("0xf447679357851938cb84dbdee5b5adc39aac299569d8948c290b650ebfeac8da", Hasher.EmptySubtree(0).ToString());
        Assert.Equal("0xd9619a57b8fce037203ed01337637da13c02d46651ef2305a2259c3dc952a09e", Hasher.EmptySubtree(160).ToString());
        Assert.Equal("0xabea0546703c3b069e853b8abbd5efa623e3b81a182384b42042c332fc7384db", Hasher.HashLeaf(TestData.Ether, 0).ToString());
    }

    [Fact]
    public void Devnet_genesis_root()
    {
        Assert.Equal("0x43fd730da0712c5f8721cde26fff227f2a01a40664847cfbe0039aaa332fe1b6", RollupGenesis.Devnet().CreateState().Root.ToString());
    }

    [Fact]
    public void Empty_batch_commitment_for_chain_901()
    {
        var p = new RollupParameters(901, 1_000_000_000, Address.Parse("0x000000000000000000000000000000000000fee5"));
        Assert.Equal("0x770a016773f891c3067e0e075f32e20e6c33b4786296da85a8fc9d4888eaaf4a", BatchCommitment.Compute(Hasher, p, []).ToString());
    }
}
