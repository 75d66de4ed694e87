using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Keel.Core.Field;

namespace Keel.Prover.Polynomials;

/// <summary>
/// Goldilocks arithmetic on eight canonical elements at once (AVX-512), with results equal to
/// <see cref="Goldilocks"/>'s element by element. The 64x64-bit product is built from four
/// 32x32-bit products (vpmuludq); carries and borrows are compare masks (masked adds), the final
/// canonicalization an unsigned minimum: no branches. Callers check <see cref="IsSupported"/>.
/// </summary>
internal static class GoldilocksX8
{
    public const int Lanes = 8;

    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    private static Vector512<ulong> Epsilon => Vector512.Create(Goldilocks.Epsilon);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Add(Vector512<ulong> a, Vector512<ulong> b)
    {
        var s = a + b;
        var t = s + Epsilon; // s - p modulo 2^64
        // Carry out of a + b: the answer is s + 2^64 - p = t. Otherwise s - p when s >= p, which is
        // exactly when t wrapped below s: the unsigned minimum picks it.
        var carry = Vector512.LessThan(s, a);
        return Vector512.ConditionalSelect(carry, t, Vector512.Min(s, t));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Sub(Vector512<ulong> a, Vector512<ulong> b)
    {
        var d = a - b;
        // A select on a compare mask: the JIT emits a masked subtraction.
        return Vector512.ConditionalSelect(Vector512.LessThan(a, b), d - Epsilon, d);
    }

    /// <summary>Odd 32-bit halves set: selects the high half of every 64-bit lane in a dword blend.</summary>
    private static Vector512<uint> HighDwords => Vector512.Create(0u, 0xFFFF_FFFFu, 0u, 0xFFFF_FFFFu, 0u, 0xFFFF_FFFFu, 0u, 0xFFFF_FFFFu,
        0u, 0xFFFF_FFFFu, 0u, 0xFFFF_FFFFu, 0u, 0xFFFF_FFFFu, 0u, 0xFFFF_FFFFu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Mul(Vector512<ulong> a, Vector512<ulong> b)
    {
        var eps = Epsilon;
        var aHi = Vector512.ShiftRightLogical(a, 32);
        var bHi = Vector512.ShiftRightLogical(b, 32);
        var ll = Avx512F.Multiply(a.AsUInt32(), b.AsUInt32());
        var lh = Avx512F.Multiply(a.AsUInt32(), bHi.AsUInt32());
        var hl = Avx512F.Multiply(aHi.AsUInt32(), b.AsUInt32());
        var hh = Avx512F.Multiply(aHi.AsUInt32(), bHi.AsUInt32());
        // Schoolbook carries: t0 = hl + ll/2^32 and t1 = lh + (t0 mod 2^32) stay below 2^64.
        var t0 = hl + Vector512.ShiftRightLogical(ll, 32);
        var t1 = lh + (t0 & eps);
        var hi = hh + Vector512.ShiftRightLogical(t0, 32) + Vector512.ShiftRightLogical(t1, 32);
        // lo = (t1 mod 2^32) * 2^32 + (ll mod 2^32): one dword blend.
        var lo = Avx512F.BlendVariable(ll.AsUInt32(), Vector512.ShiftLeft(t1, 32).AsUInt32(), HighDwords).AsUInt64();
        return Reduce128(hi, lo);
    }

    /// <summary>hi * 2^64 + lo modulo p, canonical; as <see cref="Goldilocks.Reduce128"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Reduce128(Vector512<ulong> hi, Vector512<ulong> lo)
    {
        var eps = Epsilon;
        var hiHi = Vector512.ShiftRightLogical(hi, 32);
        var hiLo = hi & eps;
        var t0 = lo - hiHi;
        t0 = Vector512.ConditionalSelect(Vector512.LessThan(lo, hiHi), t0 - eps, t0);
        var t1 = Vector512.ShiftLeft(hiLo, 32) - hiLo;
        var t2 = t0 + t1;
        t2 = Vector512.ConditionalSelect(Vector512.LessThan(t2, t1), t2 + eps, t2);
        // t2 >= p: t2 + Epsilon wraps to t2 - p, below t2; otherwise it is above t2.
        return Vector512.Min(t2, t2 + eps);
    }
}
