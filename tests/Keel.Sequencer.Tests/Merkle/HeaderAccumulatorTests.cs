using FsCheck;
using FsCheck.Fluent;
using Keel.Core;
using Keel.Sequencer.Merkle;

namespace Keel.Sequencer.Tests.Merkle;

public class HeaderAccumulatorTests
{
    private static Hash32 Leaf(int i) => KeccakMerkleTests.Leaf(i);

    [Fact]
    public void Empty_root_is_the_depth_32_zero_with_count_0()
    {
        Assert.Equal(KeccakMerkle.MixInCount(KeccakMerkle.Zero(32), 0), AccumulatorFrontier.Empty.Root);
        Assert.Equal(0UL, AccumulatorFrontier.Empty.Count);
    }

    [Fact]
    public void Frontier_root_equals_the_full_tree_root_at_every_size()
    {
        var frontier = AccumulatorFrontier.Empty;
        var leaves = new List<Hash32>();
        for (var i = 0; i < 40; i++)
        {
            frontier = frontier.Append(Leaf(i));
            leaves.Add(Leaf(i));
            var full = KeccakMerkle.MixInCount(KeccakMerkle.TreeRoot(leaves, 32), (ulong)leaves.Count);
            Assert.Equal(full, frontier.Root);
        }
    }

    [Fact]
    public void Frontier_is_immutable_so_forks_share_a_prefix()
    {
        var a = AccumulatorFrontier.Empty.Append(Leaf(0));
        var b1 = a.Append(Leaf(1));
        var b2 = a.Append(Leaf(2));
        Assert.Equal(1UL, a.Count);
        Assert.NotEqual(b1.Root, b2.Root);
        Assert.Equal(AccumulatorFrontier.Empty.Append(Leaf(0)).Root, a.Root);
    }

    [Fact]
    public void Proofs_against_any_earlier_size_verify_against_that_sizes_root()
    {
        Prop.ForAll(Gen.Choose(1, 300).ToArbitrary(), Gen.Choose(0, 10_000).ToArbitrary(), (total, seed) =>
        {
            var acc = new HeaderAccumulator();
            var roots = new List<Hash32> { acc.Root };
            for (var i = 0; i < total; i++)
            {
                acc.Append(Leaf(seed + i));
                roots.Add(acc.Root);
            }
            var rng = new Random(seed);
            for (var trial = 0; trial < 8; trial++)
            {
                var size = (ulong)rng.Next(1, total + 1);
                var index = (ulong)rng.Next(0, (int)size);
                if (acc.RootAt(size) != roots[(int)size])
                {
                    return false;
                }
                var proof = acc.Prove(index, size);
                if (!AccumulatorFrontier.Verify(roots[(int)size], Leaf(seed + (int)index), proof))
                {
                    return false;
                }
                if (AccumulatorFrontier.Verify(roots[(int)size], Leaf(seed + (int)index + 1), proof))
                {
                    return false;
                }
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_proof_with_a_forged_count_or_short_path_fails()
    {
        var acc = new HeaderAccumulator();
        for (var i = 0; i < 5; i++)
        {
            acc.Append(Leaf(i));
        }
        var proof = acc.Prove(2, 5);
        Assert.True(AccumulatorFrontier.Verify(acc.Root, Leaf(2), proof));
        Assert.False(AccumulatorFrontier.Verify(acc.Root, Leaf(2), proof with { Count = 6 }));
        Assert.False(AccumulatorFrontier.Verify(acc.Root, Leaf(2), proof with { Siblings = proof.Siblings.Take(31).ToArray() }));
        Assert.False(AccumulatorFrontier.Verify(acc.Root, Leaf(2), proof with { Index = 7, Count = 5 }));
    }

    [Fact]
    public void Out_of_range_requests_are_refused()
    {
        var acc = new HeaderAccumulator();
        acc.Append(Leaf(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => acc.Prove(1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => acc.Prove(0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => acc.LeafAt(1));
        Assert.Equal(Leaf(0), acc.LeafAt(0));
    }
}
