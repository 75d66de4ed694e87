using Keel.Core.Hashing;
using Keel.Rollup.Hashing;

namespace Keel.Rollup.Tests.Hashing;

public class RollupHasherTests
{
    private static ulong[] Elements(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (ulong)rng.NextInt64() % Digest.FieldModulus).ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(37)]
    [InlineData(14 + 23 * 5)]
    public void Incremental_sponge_equals_core_Poseidon2_hash(int n)
    {
        var input = Elements(n, n);
        var expected = Digest.FromSpan(Poseidon2.Hash(input));
        var hasher = new RollupHasher();
        var sponge = hasher.CreateSponge(n);
        // Feed in uneven pieces so block boundaries fall inside pieces.
        int offset = 0, piece = 1;
        while (offset < n)
        {
            int take = Math.Min(piece, n - offset);
            sponge.Absorb(input.AsSpan(offset, take));
            offset += take;
            piece = piece * 2 % 11 + 1;
        }
        Assert.Equal(expected, sponge.Squeeze());
        Assert.Equal(Math.Max(1, (n + 7) / 8), hasher.Permutations);
    }

    [Fact]
    public void Sponge_refuses_wrong_lengths_and_non_canonical_input()
    {
        var hasher = new RollupHasher();
        var short1 = hasher.CreateSponge(3);
        short1.Absorb([1, 2]);
        Assert.Throws<InvalidOperationException>(() => short1.Squeeze());
        var over = hasher.CreateSponge(1);
        Assert.Throws<InvalidOperationException>(() => over.Absorb([1, 2]));
        var bad = hasher.CreateSponge(1);
        Assert.Throws<Keel.Core.Field.NonCanonicalFieldElementException>(() => bad.Absorb([Digest.FieldModulus]));
    }

    [Fact]
    public void Leaf_is_the_core_hash_of_tag_balance_limbs_and_nonce()
    {
        UInt128 balance = ((UInt128)0x0123_4567_89ab_cdefUL << 64) | 0xfedc_ba98_7654_3210UL;
        var expected = Poseidon2.Hash([1, 0x7654_3210, 0xfedc_ba98, 0x89ab_cdef, 0x0123_4567, 42]);
        Assert.Equal(Digest.FromSpan(expected), new RollupHasher().HashLeaf(balance, 42));
    }

    [Fact]
    public void Compression_is_core_Poseidon2_compress_and_empty_subtrees_chain()
    {
        var h = new RollupHasher();
        var a = new Digest(1, 2, 3, 4);
        var b = new Digest(5, 6, 7, 8);
        var expected = new ulong[4];
        Poseidon2.Compress([1, 2, 3, 4], [5, 6, 7, 8], expected);
        Assert.Equal(Digest.FromSpan(expected), h.Compress(a, b));
        Assert.Equal(h.HashLeaf(0, 0), h.EmptySubtree(0));
        for (int level = 0; level < RollupHasher.TreeDepth; level++)
            Assert.Equal(h.Compress(h.EmptySubtree(level), h.EmptySubtree(level)), h.EmptySubtree(level + 1));
    }

    [Fact]
    public void Digest_text_round_trips_and_rejects_non_canonical_elements()
    {
        var d = new Digest(0, 1, Digest.FieldModulus - 1, 0xdead_beef);
        string text = d.ToString();
        Assert.Equal(Digest.TextLength, text.Length);
        Assert.True(Digest.TryParse(text, out var back));
        Assert.Equal(d, back);
        Assert.False(Digest.TryParse("0x" + "ffffffff00000001" + new string('0', 48), out _));
        Assert.False(Digest.TryParse(text[..^1], out _));
        Assert.False(Digest.TryParse("1x" + text[2..], out _));
        Assert.False(Digest.TryParse(null, out _));
        Assert.False(Digest.TryParse("0x" + new string('g', 64), out _));
    }
}
