using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Keel.Core.Field;

namespace Keel.Prover.Polynomials;

/// <summary>Element-wise Goldilocks operations on word arrays: eight lanes at a time where AVX-512 is available, the same results either way.</summary>
internal static unsafe class FieldSpan
{
    /// <summary>acc[r] += k * src[r].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MulScalarAdd(ulong* acc, ulong k, ulong* src, int count)
    {
        var r = 0;
        if (GoldilocksX8.IsSupported)
        {
            var vk = Vector512.Create(k);
            for (; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
            {
                Vector512.Store(GoldilocksX8.Add(Vector512.Load(acc + r), GoldilocksX8.Mul(vk, Vector512.Load(src + r))), acc + r);
            }
        }
        for (; r < count; r++)
        {
            acc[r] = Goldilocks.Add(acc[r], Goldilocks.Mul(k, src[r]));
        }
    }

    /// <summary>acc[r] += a[r] * b[r].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MulAdd(ulong* acc, ulong* a, ulong* b, int count)
    {
        var r = 0;
        if (GoldilocksX8.IsSupported)
        {
            for (; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
            {
                Vector512.Store(GoldilocksX8.Add(Vector512.Load(acc + r), GoldilocksX8.Mul(Vector512.Load(a + r), Vector512.Load(b + r))), acc + r);
            }
        }
        for (; r < count; r++)
        {
            acc[r] = Goldilocks.Add(acc[r], Goldilocks.Mul(a[r], b[r]));
        }
    }

    /// <summary>dst[r] = a[r] * b[r].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mul(ulong* dst, ulong* a, ulong* b, int count)
    {
        var r = 0;
        if (GoldilocksX8.IsSupported)
        {
            for (; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
            {
                Vector512.Store(GoldilocksX8.Mul(Vector512.Load(a + r), Vector512.Load(b + r)), dst + r);
            }
        }
        for (; r < count; r++)
        {
            dst[r] = Goldilocks.Mul(a[r], b[r]);
        }
    }

    /// <summary>acc[r] -= c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SubScalar(ulong* acc, ulong c, int count)
    {
        var r = 0;
        if (GoldilocksX8.IsSupported)
        {
            var vc = Vector512.Create(c);
            for (; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
            {
                Vector512.Store(GoldilocksX8.Sub(Vector512.Load(acc + r), vc), acc + r);
            }
        }
        for (; r < count; r++)
        {
            acc[r] = Goldilocks.Sub(acc[r], c);
        }
    }

    /// <summary>
    /// values[r] = 1 / values[r] in place (every value non-zero); scratch holds count words. With
    /// vectors, Montgomery's trick runs as eight interleaved chains (lane l takes r = l mod 8), so
    /// the prefix products are vector multiplications and only eight scalar inversions remain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BatchInverse(ulong* values, int count, ulong* scratch)
    {
        if (!GoldilocksX8.IsSupported || count % GoldilocksX8.Lanes != 0 || count == 0)
        {
            Goldilocks.BatchInverse(new ReadOnlySpan<ulong>(values, count), new Span<ulong>(values, count));
            return;
        }
        const int lanes = GoldilocksX8.Lanes;
        var acc = Vector512.Create(1UL);
        for (var r = 0; r < count; r += lanes)
        {
            Vector512.Store(acc, scratch + r);
            acc = GoldilocksX8.Mul(acc, Vector512.Load(values + r));
        }
        var products = stackalloc ulong[lanes];
        Vector512.Store(acc, products);
        for (var l = 0; l < lanes; l++)
        {
            // Zero anywhere in a chain makes its product zero: reported as the scalar version does.
            products[l] = Goldilocks.Inverse(products[l]);
        }
        var inverse = Vector512.Load(products);
        for (var r = count - lanes; r >= 0; r -= lanes)
        {
            var v = Vector512.Load(values + r);
            Vector512.Store(GoldilocksX8.Mul(inverse, Vector512.Load(scratch + r)), values + r);
            inverse = GoldilocksX8.Mul(inverse, v);
        }
    }
}
