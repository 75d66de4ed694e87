using System.Runtime.CompilerServices;
using Keel.Core.Field;
using Keel.Core.Hashing;

namespace Keel.Rollup.Hashing;

/// <summary>
/// The hash shapes of the rollup, all Poseidon2 over Goldilocks from Keel.Core:
/// <list type="bullet">
/// <item>node compression: the first 4 elements of <c>Permute8(left ‖ right)</c>
/// (<see cref="Poseidon2.Compress"/>);</item>
/// <item>sponge hashing exactly as <see cref="Poseidon2.Hash(ReadOnlySpan{ulong}, Span{ulong})"/>
/// (width 12, rate 8, capacity lane 0 = input length, blocks added into the rate, zero padding,
/// digest = state[0..4]), with a domain tag as the first input element: 1 for account leaves,
/// 2 for batch commitments;</item>
/// <item>the table of empty-subtree roots derived from the empty leaf.</item>
/// </list>
/// Counts permutations so that tests and benchmarks can check the documented cost per transfer.
/// Thread safe (the counter is atomic; nothing else is mutable).
/// </summary>
public sealed class RollupHasher
{
    /// <summary>Domain tag of account leaves.</summary>
    public const ulong LeafDomain = 1;

    /// <summary>Domain tag of batch commitments.</summary>
    public const ulong BatchDomain = 2;

    /// <summary>Elements hashed per account leaf: tag, four balance limbs, nonce.</summary>
    public const int LeafElements = 6;

    /// <summary>Depth of the account tree: one level per address bit.</summary>
    public const int TreeDepth = 160;

    private readonly Digest[] _emptySubtrees;
    private long _permutations;

    public RollupHasher()
    {
        var empty = new Digest[TreeDepth + 1];
        empty[0] = HashLeaf(0, 0);
        for (int level = 0; level < TreeDepth; level++)
            empty[level + 1] = Compress(empty[level], empty[level]);
        _emptySubtrees = empty;
        _permutations = 0;
    }

    /// <summary>A process-wide instance (the empty-subtree table is computed once).</summary>
    public static RollupHasher Shared { get; } = new();

    /// <summary>Permutations run through this hasher so far (width 8 and 12 alike).</summary>
    public long Permutations => Interlocked.Read(ref _permutations);

    /// <summary>Root of an all-empty subtree of height <paramref name="level"/> (0 = the empty leaf,
    /// which is the leaf of the account (balance 0, nonce 0); 160 = the root of the empty state).</summary>
    public Digest EmptySubtree(int level) => _emptySubtrees[level];

    public Digest Compress(in Digest left, in Digest right)
    {
        Span<ulong> s = stackalloc ulong[8];
        left.CopyTo(s);
        right.CopyTo(s[4..]);
        Poseidon2.Width8.Permute(s);
        Interlocked.Increment(ref _permutations);
        return Digest.FromSpan(s);
    }

    /// <summary>Leaf of an account: Hash([1, balance limbs 0..3, nonce]); one permutation.</summary>
    public Digest HashLeaf(UInt128 balance, ulong nonce)
    {
        if (nonce >= Digest.FieldModulus)
            throw new ArgumentOutOfRangeException(nameof(nonce));
        var sponge = CreateSponge(LeafElements);
        Span<ulong> e = stackalloc ulong[LeafElements];
        e[0] = LeafDomain;
        FieldEncoding.WriteAmount(balance, e[1..]);
        e[5] = nonce;
        sponge.Absorb(e);
        return sponge.Squeeze();
    }

    /// <summary>A sponge that will absorb exactly <paramref name="totalElements"/> elements (the
    /// length is part of the initial state, as in <see cref="Poseidon2.Hash(ReadOnlySpan{ulong}, Span{ulong})"/>).</summary>
    public Sponge CreateSponge(int totalElements) => new(this, totalElements);

    private void Permute12(Span<ulong> state)
    {
        Poseidon2.Width12.Permute(state);
        Interlocked.Increment(ref _permutations);
    }

    /// <summary>An incremental form of Keel.Core's Poseidon2 sponge: same digest, but the input
    /// can arrive in pieces (the batch commitment is built transfer by transfer). Not thread safe.</summary>
    public sealed class Sponge
    {
        private const int Rate = Poseidon2.SpongeRate;
        private readonly RollupHasher _hasher;
        private readonly ulong[] _state = new ulong[Poseidon2.SpongeWidth];
        private readonly int _total;
        private int _absorbed;
        private int _filled;
        private bool _finished;

        internal Sponge(RollupHasher hasher, int totalElements)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(totalElements);
            _hasher = hasher;
            _total = totalElements;
            _state[Rate] = (ulong)totalElements;
        }

        // Called per transfer: optimized from the first call rather than after tier-0 warm-up.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Absorb(ReadOnlySpan<ulong> elements)
        {
            if (_finished)
                throw new InvalidOperationException("The sponge was already squeezed.");
            if (elements.Length > _total - _absorbed)
                throw new InvalidOperationException($"The sponge was created for {_total} elements.");
            foreach (ulong e in elements)
            {
                if (e >= Digest.FieldModulus)
                    throw new NonCanonicalFieldElementException(e);
                _state[_filled] = Goldilocks.Add(_state[_filled], e);
                _filled++;
                _absorbed++;
                // The last block is permuted by Squeeze, so that an input of exactly k blocks
                // takes k permutations, like the one-shot hash.
                if (_filled == Rate && _absorbed < _total)
                {
                    _hasher.Permute12(_state);
                    _filled = 0;
                }
            }
        }

        public Digest Squeeze()
        {
            if (_finished)
                throw new InvalidOperationException("The sponge was already squeezed.");
            if (_absorbed != _total)
                throw new InvalidOperationException($"The sponge was created for {_total} elements but absorbed {_absorbed}.");
            _finished = true;
            _hasher.Permute12(_state);
            return Digest.FromSpan(_state);
        }
    }
}
