namespace Keel.Rollup.Hashing;

/// <summary>
/// The three hash shapes of the rollup, all built on Poseidon2 over Goldilocks:
/// <list type="bullet">
/// <item>node compression: <c>Permute8(left ‖ right)[0..4]</c> (Plonky3's truncated permutation);</item>
/// <item>sponges (leaves, batch commitment): width 12, rate 8, capacity 4, absorbing by overwriting
/// the rate, capacity initialised to <c>(domainTag, 0, 0, 0)</c>, zero padding of the last block,
/// output = first 4 elements;</item>
/// <item>the empty-subtree table derived from the empty leaf.</item>
/// </list>
/// Counts permutations so that tests and benchmarks can check the documented cost per transfer.
/// </summary>
public sealed class RollupHasher
{
    public const int Rate = 8;
    public const int Width = 12;

    /// <summary>Domain tag of account leaves.</summary>
    public const ulong LeafDomain = 1;

    /// <summary>Domain tag of batch commitments.</summary>
    public const ulong BatchDomain = 2;

    private readonly IPoseidon2 _poseidon;
    private long _permutations;

    public RollupHasher(IPoseidon2 poseidon)
    {
        ArgumentNullException.ThrowIfNull(poseidon);
        _poseidon = poseidon;
        var empty = new Digest[TreeDepth + 1];
        empty[0] = HashLeaf(0, 0);
        for (int level = 0; level < TreeDepth; level++)
            empty[level + 1] = Compress(empty[level], empty[level]);
        _emptySubtrees = empty;
        _permutations = 0;
    }

    /// <summary>Depth of the account tree: one level per address bit.</summary>
    public const int TreeDepth = 160;

    private readonly Digest[] _emptySubtrees;

    /// <summary>Root of an all-empty subtree of height <paramref name="level"/> (0 = the empty leaf,
    /// which is the leaf of the account (balance 0, nonce 0); 160 = the root of the empty state).</summary>
    public Digest EmptySubtree(int level) => _emptySubtrees[level];

    /// <summary>Permutations run through this hasher so far (width 8 and 12 alike).</summary>
    public long Permutations => Interlocked.Read(ref _permutations);

    public Digest Compress(in Digest left, in Digest right)
    {
        Span<ulong> s = stackalloc ulong[8];
        left.CopyTo(s);
        right.CopyTo(s[4..]);
        _poseidon.Permute8(s);
        Interlocked.Increment(ref _permutations);
        return Digest.FromSpan(s);
    }

    /// <summary>Leaf of an account: sponge(LeafDomain, balance limbs ‖ nonce). Five elements, so one
    /// permutation.</summary>
    public Digest HashLeaf(UInt128 balance, ulong nonce)
    {
        Span<ulong> s = stackalloc ulong[Width];
        s.Clear();
        FieldEncoding.WriteAmount(balance, s);
        s[4] = nonce;
        s[Rate] = LeafDomain;
        Permute12(s);
        return Digest.FromSpan(s);
    }

    internal void Permute12(Span<ulong> state)
    {
        _poseidon.Permute12(state);
        Interlocked.Increment(ref _permutations);
    }

    public Sponge CreateSponge(ulong domainTag) => new(this, domainTag);

    /// <summary>An incremental width-12 sponge (see the class summary for its rules). Not thread safe.</summary>
    public sealed class Sponge
    {
        private readonly RollupHasher _hasher;
        private readonly ulong[] _state = new ulong[Width];
        private int _filled;
        private bool _absorbedAny;
        private bool _finished;

        internal Sponge(RollupHasher hasher, ulong domainTag)
        {
            _hasher = hasher;
            _state[Rate] = domainTag;
        }

        public void Absorb(ReadOnlySpan<ulong> elements)
        {
            if (_finished)
                throw new InvalidOperationException("The sponge was already squeezed.");
            foreach (ulong e in elements)
            {
                if (e >= Digest.FieldModulus)
                    throw new ArgumentOutOfRangeException(nameof(elements), "Sponge input must be canonical field elements.");
                _state[_filled++] = e;
                _absorbedAny = true;
                if (_filled == Rate)
                {
                    _hasher.Permute12(_state);
                    _filled = 0;
                }
            }
        }

        public void Absorb(ulong element) => Absorb([element]);

        /// <summary>Zero-pads and permutes a partly filled block (or permutes once when nothing was
        /// absorbed), then returns the first four elements.</summary>
        public Digest Squeeze()
        {
            if (_finished)
                throw new InvalidOperationException("The sponge was already squeezed.");
            _finished = true;
            if (_filled > 0 || !_absorbedAny)
            {
                _state.AsSpan(_filled, Rate - _filled).Clear();
                _hasher.Permute12(_state);
            }
            return Digest.FromSpan(_state);
        }
    }
}
