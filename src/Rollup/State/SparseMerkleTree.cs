using Keel.Core;
using Keel.Rollup.Hashing;

namespace Keel.Rollup.State;

/// <summary>
/// The account tree: a sparse binary Merkle tree of depth 160 keyed by the whole address. The
/// leaf of address a sits at position a (bit j of a picks the side at height j), so every address
/// has exactly one leaf and a second account for it cannot even be expressed; non-membership is
/// membership of the empty leaf. Only nodes that differ from the empty subtree of their height are
/// stored.
/// </summary>
public sealed class SparseMerkleTree
{
    public const int Depth = RollupHasher.TreeDepth;

    private readonly RollupHasher _hasher;

    // _levels[h] maps (address >> h) to the node at height h; the root (height 160) is kept apart.
    private readonly Dictionary<Key160, Digest>[] _levels;
    private Digest _root;

    public SparseMerkleTree(RollupHasher hasher)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        _hasher = hasher;
        _levels = new Dictionary<Key160, Digest>[Depth];
        for (int i = 0; i < Depth; i++)
            _levels[i] = new Dictionary<Key160, Digest>();
        _root = hasher.EmptySubtree(Depth);
    }

    public RollupHasher Hasher => _hasher;

    public Digest Root => _root;

    /// <summary>Number of non-empty leaves.</summary>
    public int LeafCount => _levels[0].Count;

    public Digest GetLeaf(Address address) =>
        _levels[0].TryGetValue(Key160.From(address), out var leaf) ? leaf : _hasher.EmptySubtree(0);

    public MerklePath GetPath(Address address)
    {
        Span<Digest> siblings = stackalloc Digest[Depth];
        var key = Key160.From(address);
        for (int level = 0; level < Depth; level++)
        {
            var sibling = key.ShiftRight(level).FlipLowestBit();
            siblings[level] = _levels[level].TryGetValue(sibling, out var node) ? node : _hasher.EmptySubtree(level);
        }
        return new MerklePath(_hasher, siblings);
    }

    /// <summary>Sets the leaf of <paramref name="address"/> and rehashes its path (160
    /// compressions).</summary>
    public void SetLeaf(Address address, Digest leaf)
    {
        var key = Key160.From(address);
        Digest node = leaf;
        for (int level = 0; level < Depth; level++)
        {
            var here = key.ShiftRight(level);
            Store(level, here, node);
            var siblingKey = here.FlipLowestBit();
            var sibling = _levels[level].TryGetValue(siblingKey, out var s) ? s : _hasher.EmptySubtree(level);
            node = here.LowestBit == 0 ? _hasher.Compress(node, sibling) : _hasher.Compress(sibling, node);
        }
        _root = node;
    }

    private void Store(int level, Key160 key, Digest node)
    {
        if (node == _hasher.EmptySubtree(level))
            _levels[level].Remove(key);
        else
            _levels[level][key] = node;
    }

    /// <summary>A 160-bit integer (the address or a prefix of it shifted down).</summary>
    internal readonly record struct Key160(UInt128 Low, uint High)
    {
        public static Key160 From(Address address)
        {
            ReadOnlySpan<byte> b = address.Bytes;
            uint high = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b[..4]);
            UInt128 low = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(b.Slice(4, 16));
            return new Key160(low, high);
        }

        public int LowestBit => (int)(Low & 1);

        public Key160 FlipLowestBit() => new(Low ^ 1, High);

        public Key160 ShiftRight(int n)
        {
            // Shift counts are masked by the CLR (uint by 31, UInt128 by 127): every edge is spelled out.
            if (n == 0)
                return this;
            if (n >= 160)
                return default;
            if (n >= 128)
                return new Key160(High >> (n - 128), 0);
            UInt128 low = (Low >> n) | ((UInt128)High << (128 - n));
            uint high = n >= 32 ? 0 : High >> n;
            return new Key160(low, high);
        }
    }
}
