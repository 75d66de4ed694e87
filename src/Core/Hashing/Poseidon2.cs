using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Keel.Core.Field;

namespace Keel.Core.Hashing;

/// <summary>Which 4x4 block the external (full-round) linear layer uses.</summary>
public enum Poseidon2ExternalMatrix
{
    /// <summary>Plonky3's MDSMat4 [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]] (the P3new instance).</summary>
    Plonky3,

    /// <summary>HorizenLabs' [[5,7,1,3],[4,6,1,1],[1,3,5,7],[1,1,4,6]] (reference implementation, Plonky3 &lt;= 0.4).</summary>
    HorizenLabs,
}

/// <summary>
/// One Poseidon2 permutation over Goldilocks: S-box x^7, 4 + 4 full rounds, 22 partial rounds,
/// an external linear layer before the first round. Immutable and thread-safe.
/// </summary>
public sealed class Poseidon2Permutation
{
    public const int HalfFullRounds = 4;
    public const int PartialRounds = 22;

    private readonly ulong[] _externalInitial;
    private readonly ulong[] _internal;
    private readonly ulong[] _externalFinal;
    private readonly ulong[] _diagonal;

    /// <summary>Width of the Plonky3 diagonal whose entries are small multiples of powers of two (0: none).</summary>
    private readonly int _smallDiagonalWidth;

    public Poseidon2Permutation(int width, Poseidon2ExternalMatrix matrix, ulong[] externalInitial, ulong[] internalConstants, ulong[] externalFinal, ulong[] diagonal)
    {
        if (width < 8 || width % 4 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "Poseidon2 over Goldilocks is defined here for widths 8, 12, 16, ...");
        }
        if (externalInitial.Length != HalfFullRounds * width || externalFinal.Length != HalfFullRounds * width
            || internalConstants.Length != PartialRounds || diagonal.Length != width)
        {
            throw new ArgumentException("round constant tables do not match the width");
        }
        Width = width;
        Matrix = matrix;
        _externalInitial = externalInitial;
        _internal = internalConstants;
        _externalFinal = externalFinal;
        _diagonal = diagonal;
        _smallDiagonalWidth = width switch
        {
            8 when diagonal.AsSpan().SequenceEqual(Poseidon2Constants.DiagP38) => 8,
            12 when diagonal.AsSpan().SequenceEqual(Poseidon2Constants.DiagP312) => 12,
            _ => 0,
        };
    }

    public int Width { get; }
    public Poseidon2ExternalMatrix Matrix { get; }

    /// <summary>Round constants and diagonal, for code generators (AIR constraints, GPU kernels).</summary>
    public ReadOnlySpan<ulong> ExternalInitialConstants => _externalInitial;
    public ReadOnlySpan<ulong> InternalConstants => _internal;
    public ReadOnlySpan<ulong> ExternalFinalConstants => _externalFinal;
    public ReadOnlySpan<ulong> InternalDiagonal => _diagonal;

    /// <summary>Permutes <paramref name="state"/> in place; every element must be canonical.</summary>
    // Fully optimized from the first call: at tier 0 nothing inlines and a permutation costs several
    // times more, which made the first blocks of a fresh node (and short benchmarks) pay that price.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Permute(Span<ulong> state)
    {
        if (state.Length != Width)
        {
            throw new ArgumentException($"state has {state.Length} elements, the permutation takes {Width}", nameof(state));
        }
        foreach (var x in state)
        {
            if (x >= Goldilocks.Modulus)
            {
                throw new NonCanonicalFieldElementException(x);
            }
        }
        // The rounds work through refs into the state and the constant tables (no bounds checks) on
        // lazily reduced elements (see AddLazy); the known-answer vectors pin the output.
        ref var s = ref MemoryMarshal.GetReference(state);
        var w = Width;
        var plonky3 = Matrix == Poseidon2ExternalMatrix.Plonky3;
        ExternalLayerFast(ref s, w, plonky3);
        ref var rcInitial = ref MemoryMarshal.GetArrayDataReference(_externalInitial);
        for (var r = 0; r < HalfFullRounds; r++)
        {
            FullSBox(ref s, ref Unsafe.Add(ref rcInitial, r * w), w);
            ExternalLayerFast(ref s, w, plonky3);
        }
        ref var rcInternal = ref MemoryMarshal.GetArrayDataReference(_internal);
        ref var diagonal = ref MemoryMarshal.GetArrayDataReference(_diagonal);
        for (var r = 0; r < PartialRounds; r++)
        {
            // The sum of lanes 1.. does not wait for lane 0's S-box: computing it first (as a tree)
            // lets the CPU overlap the two, where a sum starting from lane 0 was one long serial chain.
            var rest = SumFromLane1(ref s, w);
            s = Pow7Lazy(AddLazy(s, Unsafe.Add(ref rcInternal, r)));
            var sum = AddLazy(rest, s);
            switch (_smallDiagonalWidth)
            {
                case 12:
                    InternalLayerP3Width12(ref s, sum);
                    break;
                case 8:
                    InternalLayerP3Width8(ref s, sum);
                    break;
                default:
                    InternalLayerFast(ref s, ref diagonal, w, sum);
                    break;
            }
        }
        ref var rcFinal = ref MemoryMarshal.GetArrayDataReference(_externalFinal);
        for (var r = 0; r < HalfFullRounds; r++)
        {
            FullSBox(ref s, ref Unsafe.Add(ref rcFinal, r * w), w);
            ExternalLayerFast(ref s, w, plonky3);
        }
        for (var i = 0; i < w; i++)
        {
            ref var x = ref Unsafe.Add(ref s, i);
            x = Goldilocks.Canonicalize(x);
        }
    }

    // Inside the permutation the state is held in the lazy form of Plonky3's Goldilocks: any 64-bit
    // value stands for itself mod p, so additions and reductions skip the final conditional subtraction
    // (about half the instructions of an addition); Permute makes every element canonical at the end.
    // Carries are read as 0/1 bytes from comparisons so that the JIT emits setb, not branches.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bit(bool b) => Unsafe.BitCast<bool, byte>(b);

    /// <summary>a + b mod p for any 64-bit a and b; the result is any 64-bit value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddLazy(ulong a, ulong b)
    {
        var sum = a + b;
        var fold = Bit(sum < a) * Goldilocks.Epsilon; // 2^64 = Epsilon mod p
        sum += fold;
        // Wraps again only when both inputs were close to 2^64; then sum < Epsilon and this cannot wrap.
        return sum + Bit(sum < fold) * Goldilocks.Epsilon;
    }

    /// <summary>a * b mod p for any 64-bit a and b; the result is any 64-bit value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MulLazy(ulong a, ulong b)
    {
        var hi = Math.BigMul(a, b, out var lo);
        // hi * 2^64 + lo with 2^64 = Epsilon and 2^96 = -1 (mod p), as Goldilocks.Reduce128 but
        // without the final canonicalization.
        var hiHi = hi >> 32;
        var t0 = lo - hiHi;
        t0 -= Bit(lo < hiHi) * Goldilocks.Epsilon; // the borrow of 2^64 is worth -Epsilon; t0 >= 2^64 - 2^32 then
        var t1 = (hi & Goldilocks.Epsilon) * Goldilocks.Epsilon; // <= 2^64 - 2^33 + 1
        var t2 = t0 + t1;
        return t2 + Bit(t2 < t1) * Goldilocks.Epsilon; // after a wrap t2 < t1, so adding Epsilon cannot wrap
    }

    /// <summary>Sum of lanes 1..w-1 in four independent chains (w &gt;= 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SumFromLane1(ref ulong s, int w)
    {
        var a0 = Unsafe.Add(ref s, 1);
        var a1 = Unsafe.Add(ref s, 2);
        var a2 = Unsafe.Add(ref s, 3);
        var a3 = Unsafe.Add(ref s, 4);
        var i = 5;
        for (; i + 3 < w; i += 4)
        {
            a0 = AddLazy(a0, Unsafe.Add(ref s, i));
            a1 = AddLazy(a1, Unsafe.Add(ref s, i + 1));
            a2 = AddLazy(a2, Unsafe.Add(ref s, i + 2));
            a3 = AddLazy(a3, Unsafe.Add(ref s, i + 3));
        }
        for (; i < w; i++)
        {
            a0 = AddLazy(a0, Unsafe.Add(ref s, i));
        }
        return AddLazy(AddLazy(a0, a1), AddLazy(a2, a3));
    }

    /// <summary>a - b mod p for any 64-bit a and b; the result is any 64-bit value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SubLazy(ulong a, ulong b)
    {
        var diff = a - b;
        var fold = Bit(a < b) * Goldilocks.Epsilon; // a borrow of 2^64 is worth -Epsilon
        var folded = diff - fold;
        // Borrows again only when diff < Epsilon after a borrow; then folded is close to 2^64 and this cannot borrow.
        return folded - Bit(diff < fold) * Goldilocks.Epsilon;
    }

    /// <summary>x / 2 mod p for any 64-bit x: x is even, or x + p is, and (x + p) / 2 stays below 2^64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong HalfLazy(ulong x) => (x >> 1) + (x & 1) * HalfModulusPlusOne;

    /// <summary>(p + 1) / 2.</summary>
    private const ulong HalfModulusPlusOne = (Goldilocks.Modulus >> 1) + 1;

    // Plonky3's diagonals for widths 8 and 12 hold only +-1, +-2, +-3, +-4, +-1/2, +-1/4 and 1/8, so the
    // internal layer needs additions and halvings instead of twelve general multiplications.

    /// <summary>Internal layer with D = [-2, 1, 2, 1/2, 3, 4, -1/2, -3, -4, 1/4, -1/4, 1/8].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InternalLayerP3Width12(ref ulong s, ulong sum)
    {
        var x0 = s;
        s = SubLazy(sum, AddLazy(x0, x0));
        ref var x = ref Unsafe.Add(ref s, 1);
        x = AddLazy(sum, x);
        x = ref Unsafe.Add(ref s, 2);
        x = AddLazy(sum, AddLazy(x, x));
        x = ref Unsafe.Add(ref s, 3);
        x = AddLazy(sum, HalfLazy(x));
        x = ref Unsafe.Add(ref s, 4);
        x = AddLazy(sum, AddLazy(AddLazy(x, x), x));
        x = ref Unsafe.Add(ref s, 5);
        var twice = AddLazy(x, x);
        x = AddLazy(sum, AddLazy(twice, twice));
        x = ref Unsafe.Add(ref s, 6);
        x = SubLazy(sum, HalfLazy(x));
        x = ref Unsafe.Add(ref s, 7);
        x = SubLazy(sum, AddLazy(AddLazy(x, x), x));
        x = ref Unsafe.Add(ref s, 8);
        twice = AddLazy(x, x);
        x = SubLazy(sum, AddLazy(twice, twice));
        x = ref Unsafe.Add(ref s, 9);
        x = AddLazy(sum, HalfLazy(HalfLazy(x)));
        x = ref Unsafe.Add(ref s, 10);
        x = SubLazy(sum, HalfLazy(HalfLazy(x)));
        x = ref Unsafe.Add(ref s, 11);
        x = AddLazy(sum, HalfLazy(HalfLazy(HalfLazy(x))));
    }

    /// <summary>Internal layer with D = [-2, 1, 2, 1/2, 3, -1/2, -3, -4].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InternalLayerP3Width8(ref ulong s, ulong sum)
    {
        var x0 = s;
        s = SubLazy(sum, AddLazy(x0, x0));
        ref var x = ref Unsafe.Add(ref s, 1);
        x = AddLazy(sum, x);
        x = ref Unsafe.Add(ref s, 2);
        x = AddLazy(sum, AddLazy(x, x));
        x = ref Unsafe.Add(ref s, 3);
        x = AddLazy(sum, HalfLazy(x));
        x = ref Unsafe.Add(ref s, 4);
        x = AddLazy(sum, AddLazy(AddLazy(x, x), x));
        x = ref Unsafe.Add(ref s, 5);
        x = SubLazy(sum, HalfLazy(x));
        x = ref Unsafe.Add(ref s, 6);
        x = SubLazy(sum, AddLazy(AddLazy(x, x), x));
        x = ref Unsafe.Add(ref s, 7);
        var twice = AddLazy(x, x);
        x = SubLazy(sum, AddLazy(twice, twice));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Pow7Lazy(ulong x)
    {
        var x2 = MulLazy(x, x);
        var x3 = MulLazy(x2, x);
        var x4 = MulLazy(x2, x2);
        return MulLazy(x3, x4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FullSBox(ref ulong s, ref ulong rc, int w)
    {
        for (var i = 0; i < w; i++)
        {
            ref var x = ref Unsafe.Add(ref s, i);
            x = Pow7Lazy(AddLazy(x, Unsafe.Add(ref rc, i)));
        }
    }

    /// <summary><see cref="InternalLayer"/> on a state of <paramref name="w"/> elements at <paramref name="s"/> whose sum is <paramref name="sum"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InternalLayerFast(ref ulong s, ref ulong diagonal, int w, ulong sum)
    {
        for (var i = 0; i < w; i++)
        {
            ref var x = ref Unsafe.Add(ref s, i);
            x = AddLazy(MulLazy(Unsafe.Add(ref diagonal, i), x), sum);
        }
    }

    /// <summary><see cref="ExternalLayer"/> on a state of <paramref name="w"/> elements at <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ExternalLayerFast(ref ulong s, int w, bool plonky3)
    {
        ulong s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (var c = 0; c < w; c += 4)
        {
            ref var x = ref Unsafe.Add(ref s, c);
            if (plonky3)
            {
                Mat4Plonky3(ref x);
            }
            else
            {
                Mat4HorizenLabs(MemoryMarshal.CreateSpan(ref x, 4));
            }
            s0 = AddLazy(s0, x);
            s1 = AddLazy(s1, Unsafe.Add(ref x, 1));
            s2 = AddLazy(s2, Unsafe.Add(ref x, 2));
            s3 = AddLazy(s3, Unsafe.Add(ref x, 3));
        }
        for (var c = 0; c < w; c += 4)
        {
            ref var x = ref Unsafe.Add(ref s, c);
            x = AddLazy(x, s0);
            Unsafe.Add(ref x, 1) = AddLazy(Unsafe.Add(ref x, 1), s1);
            Unsafe.Add(ref x, 2) = AddLazy(Unsafe.Add(ref x, 2), s2);
            Unsafe.Add(ref x, 3) = AddLazy(Unsafe.Add(ref x, 3), s3);
        }
    }

    /// <summary>M_I: x[i] = D[i] * x[i] + sum(x), i.e. the matrix J + diag(D).</summary>
    public void InternalLayer(Span<ulong> state)
    {
        ulong sum = 0;
        foreach (var x in state)
        {
            sum = Goldilocks.Add(sum, x);
        }
        for (var i = 0; i < state.Length; i++)
        {
            state[i] = Goldilocks.Add(Goldilocks.Mul(_diagonal[i], state[i]), sum);
        }
    }

    /// <summary>M_E: the 4x4 block on each chunk of four, then each lane gets the sum of its column over chunks.</summary>
    public void ExternalLayer(Span<ulong> state)
    {
        for (var c = 0; c < state.Length; c += 4)
        {
            var chunk = state.Slice(c, 4);
            if (Matrix == Poseidon2ExternalMatrix.Plonky3)
            {
                Mat4Plonky3(chunk);
            }
            else
            {
                Mat4HorizenLabs(chunk);
            }
        }
        Span<ulong> sums = stackalloc ulong[4];
        for (var c = 0; c < state.Length; c += 4)
        {
            for (var k = 0; k < 4; k++)
            {
                sums[k] = Goldilocks.Add(sums[k], state[c + k]);
            }
        }
        for (var i = 0; i < state.Length; i++)
        {
            state[i] = Goldilocks.Add(state[i], sums[i & 3]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mat4Plonky3(Span<ulong> x)
    {
        Mat4Plonky3(ref MemoryMarshal.GetReference(x[..4]));
        for (var i = 0; i < 4; i++)
        {
            x[i] = Goldilocks.Canonicalize(x[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mat4Plonky3(ref ulong x)
    {
        // Rows [2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2] with additions only.
        var x0 = x;
        var x1 = Unsafe.Add(ref x, 1);
        var x2 = Unsafe.Add(ref x, 2);
        var x3 = Unsafe.Add(ref x, 3);
        var t01 = AddLazy(x0, x1);
        var t23 = AddLazy(x2, x3);
        var t0123 = AddLazy(t01, t23);
        var t01123 = AddLazy(t0123, x1);
        var t01233 = AddLazy(t0123, x3);
        x = AddLazy(t01123, t01);
        Unsafe.Add(ref x, 1) = AddLazy(t01123, AddLazy(x2, x2));
        Unsafe.Add(ref x, 2) = AddLazy(t01233, t23);
        Unsafe.Add(ref x, 3) = AddLazy(t01233, AddLazy(x0, x0));
    }

    private static readonly ulong[] HorizenLabsMat4 = [5, 7, 1, 3, 4, 6, 1, 1, 1, 3, 5, 7, 1, 1, 4, 6];

    private static void Mat4HorizenLabs(Span<ulong> x)
    {
        Span<ulong> y = stackalloc ulong[4];
        for (var r = 0; r < 4; r++)
        {
            ulong acc = 0;
            for (var c = 0; c < 4; c++)
            {
                acc = Goldilocks.Add(acc, Goldilocks.Mul(HorizenLabsMat4[r * 4 + c], x[c]));
            }
            y[r] = acc;
        }
        y.CopyTo(x);
    }
}

/// <summary>
/// Keel's Poseidon2 over Goldilocks: the Plonky3 >= 0.5 instance ("P3new"). Width 8 compresses two
/// 4-element digests into one; width 12 (rate 8, capacity 4) is the sponge for variable-length
/// input.
/// </summary>
public static class Poseidon2
{
    public const int DigestElements = 4;
    public const int SpongeWidth = 12;
    public const int SpongeRate = 8;

    public static Poseidon2Permutation Width8 { get; } = new(8, Poseidon2ExternalMatrix.Plonky3,
        Poseidon2Constants.ExternalInitial8, Poseidon2Constants.Internal8, Poseidon2Constants.ExternalFinal8, Poseidon2Constants.DiagP38);

    public static Poseidon2Permutation Width12 { get; } = new(12, Poseidon2ExternalMatrix.Plonky3,
        Poseidon2Constants.ExternalInitial12, Poseidon2Constants.Internal12, Poseidon2Constants.ExternalFinal12, Poseidon2Constants.DiagP312);

    public static Poseidon2Permutation Width16 { get; } = new(16, Poseidon2ExternalMatrix.Plonky3,
        Poseidon2Constants.ExternalInitial16, Poseidon2Constants.Internal16, Poseidon2Constants.ExternalFinal16, Poseidon2Constants.DiagP316);

    /// <summary>HorizenLabs' reference instance (same round constants, other matrices); not used by Keel's protocol.</summary>
    public static Poseidon2Permutation HorizenLabsWidth8 { get; } = new(8, Poseidon2ExternalMatrix.HorizenLabs,
        Poseidon2Constants.ExternalInitial8, Poseidon2Constants.Internal8, Poseidon2Constants.ExternalFinal8, Poseidon2Constants.DiagHorizenLabs8);

    public static Poseidon2Permutation HorizenLabsWidth12 { get; } = new(12, Poseidon2ExternalMatrix.HorizenLabs,
        Poseidon2Constants.ExternalInitial12, Poseidon2Constants.Internal12, Poseidon2Constants.ExternalFinal12, Poseidon2Constants.DiagHorizenLabs12);

    /// <summary>The P3new permutation for width 8, 12 or 16.</summary>
    public static Poseidon2Permutation ForWidth(int width) => width switch
    {
        8 => Width8,
        12 => Width12,
        16 => Width16,
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "Poseidon2 widths are 8, 12 and 16"),
    };

    /// <summary>Permutes a state of 8, 12 or 16 canonical elements in place.</summary>
    public static void Permute(Span<ulong> state) => ForWidth(state.Length).Permute(state);

    /// <summary>
    /// 2-to-1 compression for Merkle trees: the first four elements of Permute8(left || right)
    /// (Plonky3's TruncatedPermutation). <paramref name="output"/> may alias either input.
    /// </summary>
    public static void Compress(ReadOnlySpan<ulong> left, ReadOnlySpan<ulong> right, Span<ulong> output)
    {
        if (left.Length != DigestElements || right.Length != DigestElements || output.Length != DigestElements)
        {
            throw new ArgumentException("Poseidon2 compression takes two 4-element digests and writes one");
        }
        Span<ulong> state = stackalloc ulong[8];
        left.CopyTo(state);
        right.CopyTo(state[DigestElements..]);
        Width8.Permute(state);
        state[..DigestElements].CopyTo(output);
    }

    /// <summary>
    /// Sponge hash of any number of canonical elements into a 4-element digest. Width 12, rate 8,
    /// capacity 4. Domain separation: the first capacity lane starts as the input length, so inputs
    /// of different lengths never share a sponge state; the last block is padded with zeros, which
    /// is unambiguous because the length is fixed. Blocks are added into the rate (not overwritten),
    /// one permutation per block (an empty input still gets one), and the digest is state[0..4].
    /// </summary>
    public static void Hash(ReadOnlySpan<ulong> input, Span<ulong> digest)
    {
        if (digest.Length != DigestElements)
        {
            throw new ArgumentException("a Poseidon2 digest has 4 elements", nameof(digest));
        }
        Span<ulong> state = stackalloc ulong[SpongeWidth];
        state[SpongeRate] = (ulong)input.Length; // < 2^31 < p
        var offset = 0;
        do
        {
            var take = Math.Min(SpongeRate, input.Length - offset);
            for (var i = 0; i < take; i++)
            {
                var x = input[offset + i];
                if (x >= Goldilocks.Modulus)
                {
                    throw new NonCanonicalFieldElementException(x);
                }
                state[i] = Goldilocks.Add(state[i], x);
            }
            Width12.Permute(state);
            offset += take;
        }
        while (offset < input.Length);
        state[..DigestElements].CopyTo(digest);
    }

    public static ulong[] Hash(ReadOnlySpan<ulong> input)
    {
        var digest = new ulong[DigestElements];
        Hash(input, digest);
        return digest;
    }
}
