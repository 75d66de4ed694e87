using System.Numerics;
using Keel.Core;
using Keel.Rollup.Hashing;

namespace Keel.Rollup.State;

/// <summary>
/// The 160 siblings of one leaf of the account tree, leaf level first: sibling[h] is the node
/// beside the path at height h. Which side it sits on comes from the address bit h, never from the
/// path itself, so a path can only ever open the leaf of the address it is used with.
/// Stored sparsely: only siblings that differ from the empty subtree of their height are kept
/// (about log2 of the account count), so a witness of thousands of transfers stays small in memory.
/// </summary>
public sealed class MerklePath
{
    public const int Depth = RollupHasher.TreeDepth;

    private readonly RollupHasher _hasher;
    private readonly UInt128 _maskLow; // bit h (h < 128): sibling h is stored
    private readonly uint _maskHigh;   // bit h - 128
    private readonly Digest[] _stored; // the stored siblings in increasing height

    /// <summary>Builds a path from all 160 siblings.</summary>
    public MerklePath(RollupHasher hasher, ReadOnlySpan<Digest> siblings)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        if (siblings.Length != Depth)
            throw new ArgumentException($"A path has {Depth} siblings, got {siblings.Length}.", nameof(siblings));
        _hasher = hasher;
        var stored = new List<Digest>();
        for (int level = 0; level < Depth; level++)
        {
            if (siblings[level] == hasher.EmptySubtree(level))
                continue;
            if (level < 128)
                _maskLow |= UInt128.One << level;
            else
                _maskHigh |= 1u << (level - 128);
            stored.Add(siblings[level]);
        }
        _stored = stored.ToArray();
    }

    /// <summary>Number of siblings that are not empty subtrees.</summary>
    public int NonEmptyCount => _stored.Length;

    public Digest this[int level]
    {
        get
        {
            if ((uint)level >= Depth)
                throw new ArgumentOutOfRangeException(nameof(level));
            return IsStored(level) ? _stored[StoredIndex(level)] : _hasher.EmptySubtree(level);
        }
    }

    /// <summary>All 160 siblings, expanded.</summary>
    public Digest[] ToArray()
    {
        var all = new Digest[Depth];
        for (int level = 0; level < Depth; level++)
            all[level] = this[level];
        return all;
    }

    /// <summary>A copy with one sibling replaced (used to build forged witnesses in tests).</summary>
    public MerklePath With(int level, Digest sibling)
    {
        var all = ToArray();
        all[level] = sibling;
        return new MerklePath(_hasher, all);
    }

    /// <summary>The root reached from <paramref name="leaf"/> at <paramref name="address"/>:
    /// 160 compressions. This is exactly the computation the transfer AIR repeats.</summary>
    public Digest ComputeRoot(RollupHasher hasher, Address address, Digest leaf)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        Digest node = leaf;
        int next = 0;
        for (int level = 0; level < Depth; level++)
        {
            // The empty subtrees come from the hasher doing the check, not from the one that built
            // the path: a path cannot smuggle in its own idea of "empty".
            var sibling = IsStored(level) ? _stored[next++] : hasher.EmptySubtree(level);
            node = FieldEncoding.AddressBit(address, level) == 0
                ? hasher.Compress(node, sibling)
                : hasher.Compress(sibling, node);
        }
        return node;
    }

    /// <summary>True when sibling[level] is the empty-subtree root of that height (the common case
    /// for high levels, which the witness serialisation leaves out).</summary>
    public bool IsEmptySibling(int level) => !IsStored(level);

    private bool IsStored(int level) =>
        level < 128 ? ((_maskLow >> level) & 1) != 0 : ((_maskHigh >> (level - 128)) & 1) != 0;

    private int StoredIndex(int level)
    {
        if (level < 128)
            return (int)UInt128.PopCount(_maskLow & ((UInt128.One << level) - 1));
        return (int)UInt128.PopCount(_maskLow) + BitOperations.PopCount(_maskHigh & ((1u << (level - 128)) - 1));
    }
}
