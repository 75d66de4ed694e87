using Keel.Core;

namespace Keel.Sequencer.Merkle;

/// <summary>
/// The headers accumulator as a block sees it: an incremental Keccak Merkle tree of fixed depth
/// <see cref="SequencerLimits.AccumulatorDepth"/> (the deposit contract's construction) holding the
/// hashes of all earlier blocks in height order, genesis first. Only the frontier (one node per
/// level) is kept, so a copy per pending block is cheap. Immutable: <see cref="Append"/> returns a
/// new frontier.
/// <code>
/// root = keccak256(abi.encode(bytes32 treeRoot, uint256 count))     (see KeccakMerkle)
/// </code>
/// The block at height h carries the root with count h: leaves 0..h-1 are the hashes of blocks
/// 0..h-1 of its own chain.
/// </summary>
public sealed class AccumulatorFrontier
{
    public const int Depth = SequencerLimits.AccumulatorDepth;

    /// <summary>Leaves a depth-32 tree holds.</summary>
    public const ulong Capacity = 1UL << Depth;

    private readonly Hash32[] _branch;

    private AccumulatorFrontier(Hash32[] branch, ulong count)
    {
        _branch = branch;
        Count = count;
        Root = ComputeRoot();
    }

    public static AccumulatorFrontier Empty { get; } = new(new Hash32[Depth], 0);

    public ulong Count { get; }

    public Hash32 Root { get; }

    /// <exception cref="SequencerInvariantException">the tree is full</exception>
    public AccumulatorFrontier Append(Hash32 leaf)
    {
        if (Count >= Capacity)
        {
            throw new SequencerInvariantException($"the headers accumulator holds at most {Capacity} headers");
        }
        var branch = (Hash32[])_branch.Clone();
        var size = Count + 1;
        var node = leaf;
        for (var level = 0; level < Depth; level++)
        {
            if ((size & 1) == 1)
            {
                branch[level] = node;
                break;
            }
            node = KeccakMerkle.HashPair(branch[level], node);
            size >>= 1;
        }
        return new AccumulatorFrontier(branch, Count + 1);
    }

    private Hash32 ComputeRoot()
    {
        var node = Hash32.Zero;
        var size = Count;
        for (var level = 0; level < Depth; level++)
        {
            node = (size & 1) == 1 ? KeccakMerkle.HashPair(_branch[level], node) : KeccakMerkle.HashPair(node, KeccakMerkle.Zero(level));
            size >>= 1;
        }
        return KeccakMerkle.MixInCount(node, Count);
    }

    /// <summary>Checks that <paramref name="leaf"/> is leaf <c>proof.Index</c> of the accumulator whose root is <paramref name="root"/>.</summary>
    public static bool Verify(Hash32 root, Hash32 leaf, MerkleProof proof) => KeccakMerkle.Verify(root, leaf, proof, Depth);
}

/// <summary>
/// The committed headers accumulator with every node kept, so that it proves any earlier header
/// against the root of any later size (an L1 contract may hold a root older than this node's tip).
/// Complete subtrees never change and are stored; the at most one partial node per level of an
/// older size is recomputed, so a proof costs at most Depth^2 hashes. Memory: about 64 bytes per
/// header (all levels together). Not thread-safe: the application appends and reads it from one thread,
/// other readers go through the application's lock.
/// </summary>
public sealed class HeaderAccumulator
{
    private const int PageHashes = 4096;

    private readonly HashColumn[] _levels = new HashColumn[AccumulatorFrontier.Depth + 1];

    public HeaderAccumulator()
    {
        for (var l = 0; l < _levels.Length; l++)
        {
            _levels[l] = new HashColumn();
        }
        Frontier = AccumulatorFrontier.Empty;
    }

    public ulong Count => Frontier.Count;

    /// <summary>The frontier at the current size (what the next block's root starts from).</summary>
    public AccumulatorFrontier Frontier { get; private set; }

    public Hash32 Root => Frontier.Root;

    public Hash32 LeafAt(ulong index) =>
        index < Count ? _levels[0][index] : throw new ArgumentOutOfRangeException(nameof(index), $"the accumulator holds {Count} headers");

    public void Append(Hash32 leaf)
    {
        Frontier = Frontier.Append(leaf);
        _levels[0].Add(leaf);
        var count = Count;
        for (var l = 1; l <= AccumulatorFrontier.Depth && count % (1UL << l) == 0; l++)
        {
            var k = (count >> l) - 1;
            _levels[l].Add(KeccakMerkle.HashPair(_levels[l - 1][2 * k], _levels[l - 1][2 * k + 1]));
        }
    }

    /// <summary>The root the accumulator had when it held <paramref name="count"/> leaves.</summary>
    public Hash32 RootAt(ulong count)
    {
        CheckSize(count);
        return KeccakMerkle.MixInCount(Node(AccumulatorFrontier.Depth, 0, count), count);
    }

    /// <summary>The path of leaf <paramref name="index"/> in the accumulator of size <paramref name="count"/>.</summary>
    public MerkleProof Prove(ulong index, ulong count)
    {
        CheckSize(count);
        if (index >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"leaf {index} is not in an accumulator of {count} headers");
        }
        var siblings = new Hash32[AccumulatorFrontier.Depth];
        for (var l = 0; l < siblings.Length; l++)
        {
            siblings[l] = Node(l, (index >> l) ^ 1, count);
        }
        return new MerkleProof(index, count, siblings);
    }

    private void CheckSize(ulong count)
    {
        if (count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"the accumulator holds {Count} headers, not {count}");
        }
    }

    // Node k of level l in the tree of the first `count` leaves.
    private Hash32 Node(int level, ulong k, ulong count)
    {
        var start = k << level;
        if (start >= count)
        {
            return KeccakMerkle.Zero(level);
        }
        if (start + (1UL << level) <= count)
        {
            return _levels[level][k];
        }
        return KeccakMerkle.HashPair(Node(level - 1, 2 * k, count), Node(level - 1, 2 * k + 1, count));
    }

    /// <summary>Hashes in fixed pages of raw bytes: no object per hash, no large reallocation.</summary>
    private sealed class HashColumn
    {
        private readonly List<byte[]> _pages = [];
        private ulong _count;

        public Hash32 this[ulong index] => Hash32.FromBytes(_pages[(int)(index / PageHashes)].AsSpan((int)(index % PageHashes) * 32, 32));

        public void Add(Hash32 hash)
        {
            var slot = (int)(_count % PageHashes);
            if (slot == 0)
            {
                _pages.Add(new byte[PageHashes * 32]);
            }
            hash.Bytes.CopyTo(_pages[^1].AsSpan(slot * 32, 32));
            _count++;
        }
    }
}
