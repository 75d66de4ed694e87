using System.Buffers.Binary;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Prover.Crypto;

/// <summary>
/// Keccak-256 Merkle tree over the rows of a matrix of 64-bit words. A leaf is keccak of
/// <see cref="RowsPerLeaf"/> consecutive rows' words, 8 bytes little-endian each (narrow rows are
/// grouped so that one Keccak block carries a leaf: 8 rows of 2 words hash as fast as one); a node
/// is keccak(left || right). To bound memory the tree
/// keeps only the levels from <see cref="StoredFromLevel"/> up (2^23 leaves would otherwise cost
/// 512 MiB); nodes below are recomputed from the rows when an opening needs them.
/// </summary>
public sealed class MerkleTree
{
    public const int HashSize = Keccak256.HashSize;

    /// <summary>Leaves per stored bottom node: 8, i.e. three levels are recomputed on demand.</summary>
    public const int DefaultStoredFromLevel = 3;

    /// <summary>Leaf hashing is split into work items of this many stored-level nodes.</summary>
    private const int NodesPerWorkItem = 256;

    private readonly IRowSource _rows;
    private readonly byte[][] _levels; // _levels[l - StoredFromLevel] holds 2^(depth - l) nodes

    /// <summary>Rows grouped into one leaf are at most this many bytes: the Keccak-256 rate, one permutation.</summary>
    public const int MaxLeafBytes = Keccak256.RateBytes;

    /// <summary>At most this many rows per leaf (an opening reveals the whole group).</summary>
    public const int MaxRowsPerLeaf = 8;

    /// <summary>Rows per leaf for rows of <paramref name="rowWords"/> words: the largest power of two fitting one Keccak block.</summary>
    public static int RowsPerLeafFor(int rowWords)
    {
        var g = 1;
        while (g < MaxRowsPerLeaf && 2 * g * rowWords * 8 <= MaxLeafBytes)
        {
            g *= 2;
        }
        return g;
    }

    public MerkleTree(IRowSource rows, int parallelism = 0)
    {
        _rows = rows;
        RowsPerLeaf = RowsPerLeafFor(rows.RowWords);
        LeafCount = rows.RowCount / RowsPerLeaf;
        if (LeafCount < 2 || (LeafCount & (LeafCount - 1)) != 0)
        {
            throw new ArgumentException("a Merkle tree needs a power-of-two number of leaves, at least 2");
        }
        Depth = System.Numerics.BitOperations.Log2((uint)LeafCount);
        StoredFromLevel = Math.Min(DefaultStoredFromLevel, Depth);
        _levels = new byte[Depth - StoredFromLevel + 1][];

        var bottomCount = LeafCount >> StoredFromLevel;
        var bottom = new byte[bottomCount * HashSize];
        var items = (bottomCount + NodesPerWorkItem - 1) / NodesPerWorkItem;
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism <= 0 ? Environment.ProcessorCount : parallelism };
        if (KeccakX8.IsSupported && LeafCount >= KeccakX8.Lanes && rows is ColumnRows columnRows)
        {
            BuildBottomVectorized(columnRows, bottom, items, options);
        }
        else
        {
            BuildBottomScalar(rows, bottom, items, options);
        }
        _levels[0] = bottom;
        for (var l = 1; l < _levels.Length; l++)
        {
            var below = _levels[l - 1];
            var count = below.Length / HashSize / 2;
            var level = new byte[count * HashSize];
            HashPairs(below, level, count);
            _levels[l] = level;
        }
        Root = Hash32.FromBytes(_levels[^1]);
    }

    /// <summary>output[i] = keccak(input[2i] || input[2i+1]) for i &lt; count; output may be input itself (each pair is read before its slot is written).</summary>
    private static unsafe void HashPairs(Span<byte> input, Span<byte> output, int count)
    {
        var i = 0;
        if (KeccakX8.IsSupported)
        {
            fixed (byte* pi = input)
            fixed (byte* po = output)
            {
                for (; i + KeccakX8.Lanes <= count; i += KeccakX8.Lanes)
                {
                    KeccakX8.HashPairs(pi + 2 * i * HashSize, po + i * HashSize);
                }
            }
        }
        for (; i < count; i++)
        {
            HashPair(input.Slice(2 * i * HashSize, HashSize), input.Slice((2 * i + 1) * HashSize, HashSize), output.Slice(i * HashSize, HashSize));
        }
    }

    /// <summary>Stored bottom nodes from leaves hashed eight rows at a time, straight from the pinned columns.</summary>
    private unsafe void BuildBottomVectorized(ColumnRows rows, byte[] bottom, int items, ParallelOptions options)
    {
        var columns = rows.Columns;
        var words = columns.Count;
        var handles = new System.Runtime.InteropServices.GCHandle[words];
        var pointers = new nint[words];
        var bottomCount = bottom.Length / HashSize;
        var leavesPerNode = 1 << StoredFromLevel;
        try
        {
            for (var c = 0; c < words; c++)
            {
                handles[c] = System.Runtime.InteropServices.GCHandle.Alloc(columns[c], System.Runtime.InteropServices.GCHandleType.Pinned);
                pointers[c] = handles[c].AddrOfPinnedObject();
            }
            Parallel.For(0, items, options,
                () => new byte[NodesPerWorkItem * leavesPerNode * HashSize],
                (item, _, scratch) =>
                {
                    var firstNode = item * NodesPerWorkItem;
                    var nodes = Math.Min(bottomCount, firstNode + NodesPerWorkItem) - firstNode;
                    var leaves = nodes * leavesPerNode;
                    fixed (nint* cols = pointers)
                    fixed (byte* hashes = scratch)
                    {
                        for (var leaf = 0; leaf < leaves; leaf += KeccakX8.Lanes)
                        {
                            if (RowsPerLeaf == 1)
                            {
                                KeccakX8.HashColumnRows((ulong**)cols, words, firstNode * leavesPerNode + leaf, hashes + leaf * HashSize);
                            }
                            else
                            {
                                KeccakX8.HashGroupedRows((ulong**)cols, words, RowsPerLeaf, firstNode * leavesPerNode + leaf, hashes + leaf * HashSize);
                            }
                        }
                    }
                    for (var count = leaves / 2; count >= nodes; count /= 2)
                    {
                        HashPairs(scratch, scratch, count);
                    }
                    scratch.AsSpan(0, nodes * HashSize).CopyTo(bottom.AsSpan(firstNode * HashSize));
                    return scratch;
                },
                _ => { });
        }
        finally
        {
            foreach (var h in handles)
            {
                if (h.IsAllocated)
                {
                    h.Free();
                }
            }
        }
    }

    private void BuildBottomScalar(IRowSource rows, byte[] bottom, int items, ParallelOptions options)
    {
        var bottomCount = bottom.Length / HashSize;
        Parallel.For(0, items, options,
            () => new byte[RowsPerLeaf * rows.RowWords * 8],
            (item, _, scratch) =>
            {
                var end = Math.Min(bottomCount, (item + 1) * NodesPerWorkItem);
                for (var node = item * NodesPerWorkItem; node < end; node++)
                {
                    ComputeNode(StoredFromLevel, node, bottom.AsSpan(node * HashSize, HashSize), scratch);
                }
                return scratch;
            },
            _ => { });
    }

    public int LeafCount { get; }
    public int RowsPerLeaf { get; }
    public int Depth { get; }
    public int StoredFromLevel { get; }
    public Hash32 Root { get; }

    public static void HashLeaf(ReadOnlySpan<ulong> row, Span<byte> scratch, Span<byte> output)
    {
        var bytes = scratch[..(row.Length * 8)];
        for (var i = 0; i < row.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[(i * 8)..], row[i]);
        }
        Keccak256.Hash(bytes, output);
    }

    public static void HashPair(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> output)
    {
        Span<byte> both = stackalloc byte[2 * HashSize];
        left.CopyTo(both);
        right.CopyTo(both[HashSize..]);
        Keccak256.Hash(both, output);
    }

    /// <summary>The node at (level, index), level 0 being the leaves.</summary>
    public void GetNode(int level, int index, Span<byte> output)
    {
        if (level >= StoredFromLevel)
        {
            _levels[level - StoredFromLevel].AsSpan(index * HashSize, HashSize).CopyTo(output);
            return;
        }
        ComputeNode(level, index, output, new byte[RowsPerLeaf * _rows.RowWords * 8]);
    }

    private void ComputeNode(int level, int index, Span<byte> output, byte[] scratch)
    {
        if (level == 0)
        {
            var count = RowsPerLeaf * _rows.RowWords;
            var words = count <= 256 ? stackalloc ulong[count] : new ulong[count];
            for (var g = 0; g < RowsPerLeaf; g++)
            {
                _rows.ReadRow(index * RowsPerLeaf + g, words.Slice(g * _rows.RowWords, _rows.RowWords));
            }
            HashLeaf(words, scratch, output);
            return;
        }
        Span<byte> left = stackalloc byte[HashSize];
        Span<byte> right = stackalloc byte[HashSize];
        ComputeNode(level - 1, 2 * index, left, scratch);
        ComputeNode(level - 1, 2 * index + 1, right, scratch);
        HashPair(left, right, output);
    }

    /// <summary>
    /// A batched opening of the leaves at <paramref name="sortedIndices"/> (ascending, distinct):
    /// the sibling nodes a verifier cannot compute itself, bottom level first, left to right. The
    /// verifier consumes them in the same order (<see cref="MerkleMultiProof.ComputeRoot"/>).
    /// </summary>
    public byte[][] Open(ReadOnlySpan<int> sortedIndices)
    {
        var nodes = new List<byte[]>();
        var known = new List<int>(sortedIndices.ToArray());
        for (var level = 0; level < Depth; level++)
        {
            var next = new List<int>(known.Count);
            for (var i = 0; i < known.Count; i++)
            {
                var idx = known[i];
                if (i + 1 < known.Count && known[i + 1] == (idx ^ 1))
                {
                    i++;
                }
                else
                {
                    var sibling = new byte[HashSize];
                    GetNode(level, idx ^ 1, sibling);
                    nodes.Add(sibling);
                }
                next.Add(idx >> 1);
            }
            known = next;
        }
        return [.. nodes];
    }
}

/// <summary>The rows a Merkle tree commits to: a column-major matrix read row by row.</summary>
public interface IRowSource
{
    int RowCount { get; }
    int RowWords { get; }
    void ReadRow(int row, Span<ulong> output);
}

/// <summary>Rows made of one word from each column array (trace LDE, composition columns).</summary>
public sealed class ColumnRows(IReadOnlyList<ulong[]> columns) : IRowSource
{
    internal IReadOnlyList<ulong[]> Columns => columns;

    public int RowCount => columns[0].Length;
    public int RowWords => columns.Count;

    public void ReadRow(int row, Span<ulong> output)
    {
        for (var c = 0; c < columns.Count; c++)
        {
            output[c] = columns[c][row];
        }
    }
}

/// <summary>Verification of the batched openings made by <see cref="MerkleTree.Open"/>; used by the verifier.</summary>
public static class MerkleMultiProof
{
    /// <summary>
    /// Recomputes the root from leaf hashes at ascending distinct indices and the proof nodes.
    /// Returns false when the nodes are too few or not all used (so no byte of a proof is ignored).
    /// </summary>
    public static bool TryComputeRoot(int depth, ReadOnlySpan<int> sortedIndices, IReadOnlyList<byte[]> leafHashes, IReadOnlyList<byte[]> proofNodes, Span<byte> root)
    {
        if (sortedIndices.Length == 0 || sortedIndices.Length != leafHashes.Count)
        {
            return false;
        }
        var indices = new List<int>(sortedIndices.ToArray());
        var hashes = new List<byte[]>(leafHashes);
        var used = 0;
        for (var level = 0; level < depth; level++)
        {
            var nextIdx = new List<int>(indices.Count);
            var nextHash = new List<byte[]>(indices.Count);
            for (var i = 0; i < indices.Count; i++)
            {
                var idx = indices[i];
                byte[] left, right;
                if (i + 1 < indices.Count && indices[i + 1] == (idx ^ 1))
                {
                    left = hashes[i];
                    right = hashes[i + 1];
                    i++;
                }
                else
                {
                    if (used >= proofNodes.Count)
                    {
                        return false;
                    }
                    var sibling = proofNodes[used++];
                    (left, right) = (idx & 1) == 0 ? (hashes[i], sibling) : (sibling, hashes[i]);
                }
                var parent = new byte[MerkleTree.HashSize];
                MerkleTree.HashPair(left, right, parent);
                nextIdx.Add(idx >> 1);
                nextHash.Add(parent);
            }
            indices = nextIdx;
            hashes = nextHash;
        }
        if (used != proofNodes.Count || hashes.Count != 1)
        {
            return false;
        }
        hashes[0].CopyTo(root);
        return true;
    }
}
