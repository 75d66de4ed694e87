using Keel.Prover.Crypto;

namespace Keel.Prover.Tests.Crypto;

public class MerkleTreeTests
{
    private static ulong[][] Columns(int rows, int width)
    {
        var cols = new ulong[width][];
        for (var c = 0; c < width; c++)
        {
            cols[c] = Enumerable.Range(0, rows).Select(r => (ulong)(r * 31 + c)).ToArray();
        }
        return cols;
    }

    /// <summary>Leaf hashes by hand: leaf i is rows i*g .. i*g+g-1, row-major.</summary>
    private static byte[][] LeafHashes(ulong[][] cols, int[] leafIndices)
    {
        var g = MerkleTree.RowsPerLeafFor(cols.Length);
        var result = new byte[leafIndices.Length][];
        for (var i = 0; i < leafIndices.Length; i++)
        {
            var words = Enumerable.Range(leafIndices[i] * g, g).SelectMany(r => cols.Select(c => c[r])).ToArray();
            result[i] = new byte[32];
            MerkleTree.HashLeaf(words, new byte[words.Length * 8], result[i]);
        }
        return result;
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 8)]
    [InlineData(3, 4)]
    [InlineData(4, 4)]
    [InlineData(8, 2)]
    [InlineData(16, 1)]
    [InlineData(17, 1)]
    [InlineData(100, 1)]
    public void Narrow_rows_are_grouped_into_one_keccak_block(int rowWords, int expected)
    {
        Assert.Equal(expected, MerkleTree.RowsPerLeafFor(rowWords));
        Assert.True(expected == 1 || expected * rowWords * 8 <= MerkleTree.MaxLeafBytes);
    }

    [Theory]
    [InlineData(2, 17, new[] { 0 })]
    [InlineData(8, 17, new[] { 0, 1, 2, 3, 4, 5, 6, 7 })]
    [InlineData(64, 17, new[] { 3, 17, 18, 40, 63 })]
    [InlineData(1024, 17, new[] { 5 })]
    [InlineData(1024, 17, new[] { 0, 511, 512, 1023 })]
    [InlineData(1024, 3, new[] { 0, 1, 100, 255 })]
    [InlineData(64, 2, new[] { 0, 1, 2, 3, 4, 5, 6, 7 })]
    public void Batched_openings_recompute_the_root(int rows, int width, int[] indices)
    {
        var cols = Columns(rows, width);
        var tree = new MerkleTree(new ColumnRows(cols));
        Assert.Equal(rows / MerkleTree.RowsPerLeafFor(width), tree.LeafCount);
        var nodes = tree.Open(indices);
        var root = new byte[32];
        Assert.True(MerkleMultiProof.TryComputeRoot(tree.Depth, indices, LeafHashes(cols, indices), nodes, root));
        Assert.Equal(tree.Root.ToArray(), root);
        // Sharing: opening everything needs no sibling at all.
        if (indices.Length == tree.LeafCount)
        {
            Assert.Empty(nodes);
        }
    }

    [Fact]
    public void Stored_levels_and_recomputed_levels_agree_with_a_plain_tree()
    {
        var cols = Columns(64, 2); // 8 rows per leaf: 8 leaves
        var tree = new MerkleTree(new ColumnRows(cols));
        var level = LeafHashes(cols, [.. Enumerable.Range(0, tree.LeafCount)]);
        while (level.Length > 1)
        {
            var next = new byte[level.Length / 2][];
            for (var i = 0; i < next.Length; i++)
            {
                next[i] = new byte[32];
                MerkleTree.HashPair(level[2 * i], level[2 * i + 1], next[i]);
            }
            level = next;
        }
        Assert.Equal(level[0], tree.Root.ToArray());
    }

    [Fact]
    public void Tampered_extra_or_missing_nodes_are_rejected()
    {
        var cols = Columns(256, 20);
        var tree = new MerkleTree(new ColumnRows(cols));
        int[] indices = [10, 100, 200];
        var nodes = tree.Open(indices);
        var leaves = LeafHashes(cols, indices);
        var root = new byte[32];

        var tampered = nodes.Select(n => (byte[])n.Clone()).ToArray();
        tampered[2][5] ^= 1;
        Assert.True(MerkleMultiProof.TryComputeRoot(tree.Depth, indices, leaves, tampered, root));
        Assert.NotEqual(tree.Root.ToArray(), root);

        Assert.False(MerkleMultiProof.TryComputeRoot(tree.Depth, indices, leaves, [.. nodes, new byte[32]], root));
        Assert.False(MerkleMultiProof.TryComputeRoot(tree.Depth, indices, leaves, nodes[..^1], root));

        var wrongLeaf = LeafHashes(cols, [10, 101, 200]);
        Assert.True(MerkleMultiProof.TryComputeRoot(tree.Depth, indices, wrongLeaf, nodes, root));
        Assert.NotEqual(tree.Root.ToArray(), root);
    }
}
