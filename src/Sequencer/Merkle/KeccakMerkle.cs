using System.Buffers.Binary;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Sequencer.Merkle;

/// <summary>
/// A Merkle path: the leaf's index, the number of leaves of the tree it was taken from, and one
/// sibling per level from the leaves up. Both trees of the sequencer (namespace table, headers
/// accumulator) commit to the count, so a verifier also checks index &lt; count.
/// </summary>
public sealed record MerkleProof(ulong Index, ulong Count, IReadOnlyList<Hash32> Siblings);

/// <summary>
/// The Keccak Merkle rules shared by the namespace table and the headers accumulator, chosen so
/// that a Solidity contract recomputes them with <c>keccak256(abi.encode(...))</c> alone:
/// <code>
/// node(l+1)  = keccak256(left ‖ right)                     (two 32-byte words)
/// zero(0)    = bytes32(0);  zero(l+1) = keccak256(zero(l) ‖ zero(l))
/// root       = keccak256(abi.encode(bytes32 treeRoot, uint256 count))
/// </code>
/// A tree of depth d holds 2^d leaves; absent leaves are zero(0). Leaves are 32-byte hashes whose
/// preimages are never 64 bytes, and the depth is fixed by the count, so a node cannot pass as a leaf.
/// </summary>
public static class KeccakMerkle
{
    /// <summary>Deepest tree these helpers build (the accumulator's depth).</summary>
    public const int MaxDepth = SequencerLimits.AccumulatorDepth;

    private static readonly Hash32[] Zeros = BuildZeros();

    public static Hash32 Zero(int level) => Zeros[level];

    public static Hash32 HashPair(Hash32 left, Hash32 right)
    {
        Span<byte> buffer = stackalloc byte[64];
        left.Bytes.CopyTo(buffer);
        right.Bytes.CopyTo(buffer[32..]);
        return Keccak256.HashToHash32(buffer);
    }

    /// <summary>keccak256(abi.encode(bytes32 treeRoot, uint256 count)).</summary>
    public static Hash32 MixInCount(Hash32 treeRoot, ulong count)
    {
        Span<byte> buffer = stackalloc byte[64];
        treeRoot.Bytes.CopyTo(buffer);
        buffer[32..56].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(buffer[56..], count);
        return Keccak256.HashToHash32(buffer);
    }

    /// <summary>Smallest depth whose tree holds <paramref name="count"/> leaves (0 for one leaf or none).</summary>
    public static int DepthFor(ulong count)
    {
        var depth = 0;
        while (depth < 64 && (1UL << depth) < count)
        {
            depth++;
        }
        return depth;
    }

    /// <summary>The tree root over a leaf and its path (before the count is mixed in).</summary>
    public static Hash32 RootFromPath(Hash32 leaf, ulong index, IReadOnlyList<Hash32> siblings)
    {
        var node = leaf;
        for (var level = 0; level < siblings.Count; level++)
        {
            node = ((index >> level) & 1) == 0 ? HashPair(node, siblings[level]) : HashPair(siblings[level], node);
        }
        return node;
    }

    /// <summary>
    /// Checks a proof against a root with the count mixed in: index below count, the path as deep as
    /// the tree of <paramref name="expectedDepth"/>, and the recomputed root equal.
    /// </summary>
    public static bool Verify(Hash32 root, Hash32 leaf, MerkleProof proof, int expectedDepth)
    {
        if (proof is null || proof.Index >= proof.Count || proof.Siblings.Count != expectedDepth || expectedDepth > 63 || (expectedDepth < 63 && proof.Index >= 1UL << expectedDepth))
        {
            return false;
        }
        return MixInCount(RootFromPath(leaf, proof.Index, proof.Siblings), proof.Count) == root;
    }

    /// <summary>The root of a small tree (all leaves in memory), before the count is mixed in.</summary>
    public static Hash32 TreeRoot(IReadOnlyList<Hash32> leaves, int depth)
    {
        var level = leaves.ToList();
        for (var l = 0; l < depth; l++)
        {
            var next = new List<Hash32>((level.Count + 1) / 2);
            for (var i = 0; i < level.Count; i += 2)
            {
                next.Add(HashPair(level[i], i + 1 < level.Count ? level[i + 1] : Zeros[l]));
            }
            level = next;
            if (level.Count == 0)
            {
                return Zeros[depth];
            }
        }
        return level.Count == 0 ? Zeros[0] : level[0];
    }

    /// <summary>The path of one leaf of a small tree (all leaves in memory).</summary>
    public static Hash32[] TreePath(IReadOnlyList<Hash32> leaves, int index, int depth)
    {
        var siblings = new Hash32[depth];
        var level = leaves.ToList();
        for (var l = 0; l < depth; l++)
        {
            var sibling = index ^ 1;
            siblings[l] = sibling < level.Count ? level[sibling] : Zeros[l];
            var next = new List<Hash32>((level.Count + 1) / 2);
            for (var i = 0; i < level.Count; i += 2)
            {
                next.Add(HashPair(level[i], i + 1 < level.Count ? level[i + 1] : Zeros[l]));
            }
            level = next;
            index >>= 1;
        }
        return siblings;
    }

    private static Hash32[] BuildZeros()
    {
        var zeros = new Hash32[MaxDepth + 1];
        zeros[0] = Hash32.Zero;
        for (var l = 0; l < MaxDepth; l++)
        {
            zeros[l + 1] = HashPair(zeros[l], zeros[l]);
        }
        return zeros;
    }
}
