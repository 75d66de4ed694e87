using FsCheck;
using FsCheck.Fluent;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Sequencer.Merkle;

namespace Keel.Sequencer.Tests.Merkle;

public class KeccakMerkleTests
{
    internal static Hash32 Leaf(int i) => Keccak256.HashToHash32(BitConverter.GetBytes(i));

    [Fact]
    public void Zero_hashes_are_keccak_of_two_lower_zeros()
    {
        Assert.Equal(Hash32.Zero, KeccakMerkle.Zero(0));
        Assert.Equal(Keccak256.HashToHash32(new byte[64]), KeccakMerkle.Zero(1));
        var concat = new byte[64];
        KeccakMerkle.Zero(1).Bytes.CopyTo(concat);
        KeccakMerkle.Zero(1).Bytes.CopyTo(concat.AsSpan(32));
        Assert.Equal(Keccak256.HashToHash32(concat), KeccakMerkle.Zero(2));
    }

    [Fact]
    public void Count_is_mixed_in_as_an_abi_uint256_word()
    {
        var root = Leaf(1);
        var expected = new byte[64];
        root.Bytes.CopyTo(expected);
        expected[63] = 5;
        Assert.Equal(Keccak256.HashToHash32(expected), KeccakMerkle.MixInCount(root, 5));
    }

    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(1UL, 0)]
    [InlineData(2UL, 1)]
    [InlineData(3UL, 2)]
    [InlineData(4UL, 2)]
    [InlineData(5UL, 3)]
    [InlineData(64UL, 6)]
    public void Depth_is_the_ceiling_log2(ulong count, int depth) => Assert.Equal(depth, KeccakMerkle.DepthFor(count));

    [Fact]
    public void Three_leaf_root_by_hand()
    {
        var leaves = new[] { Leaf(0), Leaf(1), Leaf(2) };
        var expected = KeccakMerkle.HashPair(KeccakMerkle.HashPair(leaves[0], leaves[1]), KeccakMerkle.HashPair(leaves[2], Hash32.Zero));
        Assert.Equal(expected, KeccakMerkle.TreeRoot(leaves, 2));
    }

    [Fact]
    public void Every_path_of_a_random_tree_verifies_and_a_wrong_leaf_or_index_does_not()
    {
        Prop.ForAll(Gen.Choose(1, 70).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), (count, salt) =>
        {
            var leaves = Enumerable.Range(salt, count).Select(Leaf).ToList();
            var depth = KeccakMerkle.DepthFor((ulong)count);
            var root = KeccakMerkle.MixInCount(KeccakMerkle.TreeRoot(leaves, depth), (ulong)count);
            for (var i = 0; i < count; i++)
            {
                var proof = new MerkleProof((ulong)i, (ulong)count, KeccakMerkle.TreePath(leaves, i, depth));
                if (!KeccakMerkle.Verify(root, leaves[i], proof, depth))
                {
                    return false;
                }
                if (KeccakMerkle.Verify(root, Leaf(-1), proof, depth))
                {
                    return false;
                }
                if (count > 1 && KeccakMerkle.Verify(root, leaves[i], proof with { Index = (ulong)((i + 1) % count) }, depth))
                {
                    return false;
                }
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_padding_slot_cannot_be_proven_because_the_count_bounds_the_index()
    {
        var leaves = new[] { Leaf(0), Leaf(1), Leaf(2) };
        var root = KeccakMerkle.MixInCount(KeccakMerkle.TreeRoot(leaves, 2), 3);
        var padPath = KeccakMerkle.TreePath(leaves, 3, 2);
        Assert.False(KeccakMerkle.Verify(root, Hash32.Zero, new MerkleProof(3, 3, padPath), 2));
        // Claiming a larger count changes the root.
        Assert.False(KeccakMerkle.Verify(root, Hash32.Zero, new MerkleProof(3, 4, padPath), 2));
    }
}
