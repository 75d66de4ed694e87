using System.Runtime.CompilerServices;
using Keel.Core.Field;

namespace Keel.Prover.Polynomials;

/// <summary>
/// A sum of products of field elements kept as an exact 192-bit integer and reduced once at the
/// end: a multiply-add costs one 64x64 multiplication and three additions instead of a modular
/// reduction and a modular addition. The reduced value equals the field sum, so results are
/// identical to term-by-term field arithmetic. Up to 2^64 terms.
/// </summary>
public struct Accumulator
{
    /// <summary>2^128 mod p = -2^32: the worth of a carry out of the middle word.</summary>
    private const ulong TwoPow32 = 1UL << 32;

    public ulong Lo;
    public ulong Hi;
    public ulong Top;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MulAdd(ulong a, ulong b)
    {
        var h = Math.BigMul(a, b, out var l);
        Lo += l;
        // h <= 2^64 - 2, so adding the low carry cannot overflow.
        h += Lo < l ? 1UL : 0UL;
        Hi += h;
        Top += Hi < h ? 1UL : 0UL;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(ulong a)
    {
        Lo += a;
        var carry = Lo < a ? 1UL : 0UL;
        Hi += carry;
        Top += Hi < carry ? 1UL : 0UL;
    }

    /// <summary>The canonical field element Top*2^128 + Hi*2^64 + Lo mod p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ulong Reduce() => Reduce(Top, Hi, Lo);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Reduce(ulong top, ulong hi, ulong lo) =>
        Goldilocks.Sub(Goldilocks.Reduce128(hi, lo), Goldilocks.Mul(Goldilocks.Canonicalize(top), TwoPow32));

    /// <summary>Adds a*b into the accumulator stored at lo[i], hi[i], top[i] (the composition's per-row sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void MulAdd(ulong* lo, ulong* hi, ulong* top, ulong a, ulong b)
    {
        var h = Math.BigMul(a, b, out var l);
        var nl = *lo + l;
        *lo = nl;
        h += nl < l ? 1UL : 0UL;
        var nh = *hi + h;
        *hi = nh;
        *top += nh < h ? 1UL : 0UL;
    }
}
