using Keel.Core;
using Keel.Rollup.Hashing;

namespace Keel.Rollup.State;

/// <summary>
/// The 160 siblings of one leaf of the account tree, leaf level first: sibling[j] is the node
/// beside the path at height j. Which side it sits on comes from the address bit j, never from the
/// path itself, so a path can only ever open the leaf of the address it is used with.
/// </summary>
public sealed class MerklePath
{
    private readonly Digest[] _siblings;

    public MerklePath(ReadOnlySpan<Digest> siblings)
    {
        if (siblings.Length != RollupHasher.TreeDepth)
            throw new ArgumentException($"A path has {RollupHasher.TreeDepth} siblings, got {siblings.Length}.", nameof(siblings));
        _siblings = siblings.ToArray();
    }

    public ReadOnlySpan<Digest> Siblings => _siblings;

    public Digest this[int level] => _siblings[level];

    /// <summary>A copy with one sibling replaced (used to build forged witnesses in tests).</summary>
    public MerklePath With(int level, Digest sibling)
    {
        var copy = (Digest[])_siblings.Clone();
        copy[level] = sibling;
        return new MerklePath(copy);
    }

    /// <summary>The root reached from <paramref name="leaf"/> at <paramref name="address"/>:
    /// 160 compressions. This is exactly the computation the transfer AIR repeats.</summary>
    public Digest ComputeRoot(RollupHasher hasher, Address address, Digest leaf)
    {
        Digest node = leaf;
        for (int level = 0; level < RollupHasher.TreeDepth; level++)
        {
            node = FieldEncoding.AddressBit(address, level) == 0
                ? hasher.Compress(node, _siblings[level])
                : hasher.Compress(_siblings[level], node);
        }
        return node;
    }

    /// <summary>True when sibling[level] is the empty-subtree root of that height (the common case
    /// for high levels, which the witness serialisation leaves out).</summary>
    public bool IsEmptySibling(RollupHasher hasher, int level) => _siblings[level] == hasher.EmptySubtree(level);
}
