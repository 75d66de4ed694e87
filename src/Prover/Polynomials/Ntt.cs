using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Keel.Core.Field;

namespace Keel.Prover.Polynomials;

/// <summary>
/// Radix-2 number-theoretic transform over Goldilocks, natural order in and out:
/// Forward maps coefficients c to evaluations y_k = sum_j c_j w^(jk) with w the order-n root of
/// Goldilocks.RootOfUnity (Plonky3's roots); Inverse undoes it. Multi-threaded for large inputs:
/// the first stages run inside cache-sized blocks (independent, one task each), the remaining
/// stages split their butterflies into chunks.
/// </summary>
public static class Ntt
{
    /// <summary>Largest transform accepted: 2^28 elements is 2 GiB of ulongs, beyond any trace here.</summary>
    public const int MaxLogSize = 28;

    /// <summary>Stages whose butterflies stay inside blocks of this many elements run block by block (32 KiB of ulongs).</summary>
    private const int LogBlockSize = 12;

    /// <summary>Butterflies per parallel work item in the late stages.</summary>
    private const int ChunkButterflies = 1 << 12;

    /// <summary>Below this size a transform runs on the calling thread: task overhead would dominate.</summary>
    private const int MinParallelLogSize = 14;

    /// <summary>Twiddle tables by (root, logN); bounded because only the standard roots and their inverses are cached.</summary>
    private static readonly ConcurrentDictionary<(ulong Root, int LogN), ulong[]> TwiddleCache = new();

    /// <summary>Default parallelism: every core.</summary>
    public static int DefaultParallelism => Environment.ProcessorCount;

    public static void Forward(Span<ulong> values, int parallelism = 0)
    {
        var logN = LogSize(values.Length);
        Transform(values, Goldilocks.RootOfUnity(logN), parallelism, cache: true);
    }

    public static void Inverse(Span<ulong> values, int parallelism = 0)
    {
        var logN = LogSize(values.Length);
        Transform(values, Goldilocks.Inverse(Goldilocks.RootOfUnity(logN)), parallelism, cache: true);
        Scale(values, Goldilocks.Inverse((ulong)values.Length));
    }

    /// <summary>Forward transform with a caller-chosen primitive n-th root (e.g. Winterfell's convention).</summary>
    public static void ForwardWithRoot(Span<ulong> values, ulong root, int parallelism = 0)
    {
        var logN = LogSize(values.Length);
        if (Goldilocks.Pow(root, (ulong)values.Length) != 1 || (values.Length > 1 && Goldilocks.Pow(root, (ulong)values.Length / 2) != Goldilocks.Modulus - 1))
        {
            throw new ArgumentException($"{root} is not a primitive root of unity of order 2^{logN}", nameof(root));
        }
        Transform(values, root, parallelism, cache: false);
    }

    /// <summary>
    /// Evaluates the polynomial with <paramref name="coefficients"/> on the coset shift*&lt;w_N&gt;
    /// where N = output.Length (a power of two, at least the number of coefficients).
    /// </summary>
    public static void CosetEvaluate(ReadOnlySpan<ulong> coefficients, ulong shift, Span<ulong> output, int parallelism = 0)
    {
        if (output.Length < coefficients.Length)
        {
            throw new ArgumentException("the evaluation domain is smaller than the polynomial", nameof(output));
        }
        var power = 1UL;
        for (var i = 0; i < coefficients.Length; i++)
        {
            output[i] = Goldilocks.Mul(coefficients[i], power);
            power = Goldilocks.Mul(power, shift);
        }
        output[coefficients.Length..].Clear();
        Forward(output, parallelism);
    }

    /// <summary>
    /// Low-degree extension: interpolates <paramref name="evaluations"/> over the subgroup of order n
    /// (overwriting them with the coefficients) and evaluates on shift*&lt;w_(n*blowup)&gt;.
    /// </summary>
    public static ulong[] LowDegreeExtend(Span<ulong> evaluations, int blowup, ulong shift, int parallelism = 0)
    {
        if (blowup < 1 || !IsPowerOfTwo(blowup))
        {
            throw new ArgumentOutOfRangeException(nameof(blowup), blowup, "blowup must be a power of two");
        }
        Inverse(evaluations, parallelism);
        var result = new ulong[evaluations.Length * blowup];
        CosetEvaluate(evaluations, shift, result, parallelism);
        return result;
    }

    /// <summary>
    /// Low-degree extension of many columns of one length n: each column is interpolated over the
    /// subgroup of order n (overwritten with its coefficients, natural order) and evaluated on
    /// shift*&lt;w_(n*blowup)&gt; into <paramref name="outputs"/>[c] (length n*blowup). Columns run in
    /// parallel, each on one thread, so the result does not depend on the parallelism.
    /// </summary>
    public static void LowDegreeExtendBatch(ulong[][] columns, int blowup, ulong shift, ulong[][] outputs, int parallelism = 0)
    {
        var n = CheckBatch(columns, blowup, outputs);
        if (n == 0)
        {
            return;
        }
        var logN = LogSize(n);
        var plan = new CosetPlan(n, blowup, shift, Goldilocks.Inverse((ulong)n));
        var inverseTwiddles = Twiddles(Goldilocks.Inverse(Goldilocks.RootOfUnity(logN)), logN, cache: true);
        var nInverse = Goldilocks.Inverse((ulong)n);
        ForEachColumn(columns.Length, plan.ScratchWords, parallelism, (c, scratch) =>
        {
            var column = columns[c];
            unsafe
            {
                fixed (ulong* a = column)
                fixed (ulong* itw = inverseTwiddles)
                fixed (ulong* t = scratch)
                fixed (ulong* o = outputs[c])
                {
                    // DIF leaves n * coefficients in bit-reversed order: exactly the DIT's input order,
                    // and the 1/n is folded into the coset scaling.
                    Dif(a, logN, itw);
                    plan.Extend(a, t, o);
                    // Natural-order coefficients for the caller (out-of-domain evaluation).
                    Scale(new Span<ulong>(a, n), nInverse);
                    BitReverseInPlace(a, logN);
                }
            }
        });
    }

    /// <summary>
    /// Evaluates polynomials given by their coefficients (natural order, length n each, not
    /// modified) on shift*&lt;w_(n*blowup)&gt; into <paramref name="outputs"/>; parallel across columns.
    /// </summary>
    public static void CosetExtendBatch(ulong[][] coefficients, int blowup, ulong shift, ulong[][] outputs, int parallelism = 0)
    {
        var n = CheckBatch(coefficients, blowup, outputs);
        if (n == 0)
        {
            return;
        }
        var logN = LogSize(n);
        var plan = new CosetPlan(n, blowup, shift, 1);
        ForEachColumn(coefficients.Length, plan.ScratchWords + n, parallelism, (c, scratch) =>
        {
            unsafe
            {
                fixed (ulong* a = coefficients[c])
                fixed (ulong* t = scratch)
                fixed (ulong* o = outputs[c])
                {
                    var reversed = t + plan.ScratchWords;
                    var shiftBits = 64 - logN;
                    for (var i = 0; i < n; i++)
                    {
                        reversed[i] = a[logN == 0 ? 0 : (int)(ReverseBits((ulong)i) >> shiftBits)];
                    }
                    plan.Extend(reversed, t, o);
                }
            }
        });
    }

    private static int CheckBatch(ulong[][] columns, int blowup, ulong[][] outputs)
    {
        if (blowup < 1 || !IsPowerOfTwo(blowup))
        {
            throw new ArgumentOutOfRangeException(nameof(blowup), blowup, "blowup must be a power of two");
        }
        if (outputs.Length != columns.Length)
        {
            throw new ArgumentException("one output per column", nameof(outputs));
        }
        if (columns.Length == 0)
        {
            return 0;
        }
        var n = columns[0].Length;
        LogSize(n);
        LogSize(n * blowup);
        for (var c = 0; c < columns.Length; c++)
        {
            if (columns[c].Length != n || outputs[c].Length != n * blowup)
            {
                throw new ArgumentException($"column {c}: every column has {n} values and every output {n * blowup}");
            }
        }
        return n;
    }

    /// <summary>Runs body(column, scratch) for every column, on at most <paramref name="parallelism"/> threads with one scratch buffer each.</summary>
    private static void ForEachColumn(int count, int scratchWords, int parallelism, Action<int, ulong[]> body)
    {
        parallelism = parallelism <= 0 ? DefaultParallelism : parallelism;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            () => GC.AllocateUninitializedArray<ulong>(scratchWords),
            (c, _, scratch) =>
            {
                body(c, scratch);
                return scratch;
            },
            _ => { });
    }

    /// <summary>
    /// Coset extension of bit-reversed coefficients as <c>blowup</c> size-n transforms, one per
    /// coset s*w_(nb)^k*&lt;w_n&gt; (cache-sized, unlike one transform of size n*blowup): point
    /// s*w_(nb)^(b*j + k) is coset k's j-th value.
    /// </summary>
    private sealed class CosetPlan
    {
        private readonly int _n;
        private readonly int _logN;
        private readonly int _blowup;
        private readonly ulong[] _scale; // [k * n + p] = factor * (s w_(nb)^k)^rev(p); interleaved: [8 p + k]
        private readonly ulong[] _twiddles;

        /// <summary>
        /// Blowup 8 with 8-lane vectors: the eight coset transforms run together, lane k of vector
        /// element p being coset k's value, directly in the output (whose layout that is): no
        /// interleaving pass, no transposes, every stage vectorized with broadcast twiddles.
        /// </summary>
        private readonly bool _interleaved;

        /// <summary>Scratch words <see cref="Extend"/> needs.</summary>
        public int ScratchWords => _interleaved ? 0 : _n * _blowup;

        public CosetPlan(int n, int blowup, ulong shift, ulong factor)
        {
            _n = n;
            _blowup = blowup;
            _logN = LogSize(n);
            var logSize = LogSize(n * blowup);
            _twiddles = Twiddles(Goldilocks.RootOfUnity(_logN), _logN, cache: true);
            _scale = GC.AllocateUninitializedArray<ulong>(n * blowup);
            _interleaved = GoldilocksX8.IsSupported && blowup == GoldilocksX8.Lanes;
            var omega = Goldilocks.RootOfUnity(logSize);
            var natural = new ulong[n];
            var cosetShift = shift;
            var shiftBits = 64 - _logN;
            for (var k = 0; k < blowup; k++)
            {
                Goldilocks.Powers(factor, cosetShift, natural);
                for (var p = 0; p < n; p++)
                {
                    var value = natural[_logN == 0 ? 0 : (int)(ReverseBits((ulong)p) >> shiftBits)];
                    _scale[_interleaved ? p * blowup + k : k * n + p] = value;
                }
                cosetShift = Goldilocks.Mul(cosetShift, omega);
            }
        }

        /// <summary>Vector elements of the interleaved layout per block of the early stages (32 KiB).</summary>
        private const int InterleavedBlockElements = 512;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private unsafe void ExtendInterleaved(ulong* coefficients, ulong* scale, ulong* tw, ulong* output)
        {
            const int lanes = GoldilocksX8.Lanes;
            var n = _n;
            for (var p = 0; p < n; p++)
            {
                Vector512.Store(GoldilocksX8.Mul(Vector512.Create(coefficients[p]), Vector512.Load(scale + lanes * p)), output + lanes * p);
            }
            var block = Math.Min(n, InterleavedBlockElements);
            for (var start = 0; start < n; start += block)
            {
                for (var m = 1; m < block; m <<= 1)
                {
                    DitLayerInterleaved(output + (long)lanes * start, block, m, tw);
                }
            }
            for (var m = block; m < n; m <<= 1)
            {
                DitLayerInterleaved(output, n, m, tw);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void DitLayerInterleaved(ulong* a, int length, int m, ulong* tw)
        {
            const int lanes = GoldilocksX8.Lanes;
            for (var g = 0; g < length; g += 2 * m)
            {
                var lo = a + (long)lanes * g;
                var hi = lo + (long)lanes * m;
                var u0 = Vector512.Load(lo);
                var v0 = Vector512.Load(hi);
                Vector512.Store(GoldilocksX8.Add(u0, v0), lo);
                Vector512.Store(GoldilocksX8.Sub(u0, v0), hi);
                for (var j = 1; j < m; j++)
                {
                    var u = Vector512.Load(lo + lanes * j);
                    var v = GoldilocksX8.Mul(Vector512.Load(hi + lanes * j), Vector512.Create(tw[m + j]));
                    Vector512.Store(GoldilocksX8.Add(u, v), lo + lanes * j);
                    Vector512.Store(GoldilocksX8.Sub(u, v), hi + lanes * j);
                }
            }
        }

        /// <summary>coefficients: n values in bit-reversed order; scratch: <see cref="ScratchWords"/> words; output: n*blowup values in natural order.</summary>
        public unsafe void Extend(ulong* coefficients, ulong* scratch, ulong* output)
        {
            var n = _n;
            var b = _blowup;
            fixed (ulong* scale = _scale)
            fixed (ulong* tw = _twiddles)
            {
                if (_interleaved)
                {
                    ExtendInterleaved(coefficients, scale, tw, output);
                    return;
                }
                for (var k = 0; k < b; k++)
                {
                    var t = scratch + (long)k * n;
                    var sk = scale + (long)k * n;
                    var p = 0;
                    if (GoldilocksX8.IsSupported)
                    {
                        for (; p + GoldilocksX8.Lanes <= n; p += GoldilocksX8.Lanes)
                        {
                            Vector512.Store(GoldilocksX8.Mul(Vector512.Load(coefficients + p), Vector512.Load(sk + p)), t + p);
                        }
                    }
                    for (; p < n; p++)
                    {
                        t[p] = Goldilocks.Mul(coefficients[p], sk[p]);
                    }
                    Dit(t, _logN, tw);
                }
                if (b == 1)
                {
                    Buffer.MemoryCopy(scratch, output, (long)n * 8, (long)n * 8);
                    return;
                }
                var o = output;
                for (var j = 0; j < n; j++)
                {
                    for (var k = 0; k < b; k++)
                    {
                        *o++ = scratch[(long)k * n + j];
                    }
                }
            }
        }
    }

    /// <summary>Decimation in time: bit-reversed input, natural-order output; tw as built by <see cref="Twiddles"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dit(ulong* a, int logN, ulong* tw)
    {
        var n = 1 << logN;
        var blockSize = Math.Min(n, 1 << LogBlockSize);
        for (var start = 0; start < n; start += blockSize)
        {
            var block = a + start;
            var m = 1;
            if (GoldilocksX8.IsSupported && blockSize >= 64)
            {
                DitFirstThreeStages(block, blockSize, tw);
                m = 8;
            }
            for (; m < blockSize; m <<= 1)
            {
                DitLayer(block, blockSize, m, tw);
            }
        }
        for (var m = blockSize; m < n; m <<= 1)
        {
            DitLayer(a, n, m, tw);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void DitLayer(ulong* a, int length, int m, ulong* tw)
    {
        if (m == 1)
        {
            for (var g = 0; g < length; g += 2)
            {
                var u = a[g];
                var v = a[g + 1];
                a[g] = Goldilocks.Add(u, v);
                a[g + 1] = Goldilocks.Sub(u, v);
            }
            return;
        }
        var w = tw + m;
        if (GoldilocksX8.IsSupported && m >= GoldilocksX8.Lanes)
        {
            for (var g = 0; g < length; g += 2 * m)
            {
                var lo = a + g;
                var hi = lo + m;
                for (var j = 0; j < m; j += GoldilocksX8.Lanes)
                {
                    var u = Vector512.Load(lo + j);
                    var v = GoldilocksX8.Mul(Vector512.Load(hi + j), Vector512.Load(w + j));
                    Vector512.Store(GoldilocksX8.Add(u, v), lo + j);
                    Vector512.Store(GoldilocksX8.Sub(u, v), hi + j);
                }
            }
            return;
        }
        for (var g = 0; g < length; g += 2 * m)
        {
            var lo = a + g;
            var hi = lo + m;
            // w^0 = 1: the first butterfly of every group needs no multiplication (1/m of them).
            var u0 = lo[0];
            var v0 = hi[0];
            lo[0] = Goldilocks.Add(u0, v0);
            hi[0] = Goldilocks.Sub(u0, v0);
            for (var j = 1; j < m; j++)
            {
                var u = lo[j];
                var v = Goldilocks.Mul(hi[j], w[j]);
                lo[j] = Goldilocks.Add(u, v);
                hi[j] = Goldilocks.Sub(u, v);
            }
        }
    }

    /// <summary>
    /// The DIT stages with half-sizes 1, 2 and 4 (an 8-point transform of each group of 8) with
    /// vectors: 8 groups are transposed through the stack so that vector k holds element k of each.
    /// </summary>
    private static unsafe void DitFirstThreeStages(ulong* a, int length, ulong* tw)
    {
        var w3 = Vector512.Create(tw[3]);
        var w5 = Vector512.Create(tw[5]);
        var w6 = Vector512.Create(tw[6]);
        var w7 = Vector512.Create(tw[7]);
        var lanes = stackalloc ulong[64];
        for (var chunk = 0; chunk < length; chunk += 64)
        {
            var p = a + chunk;
            Transpose8x8(p, lanes);
            var x0 = Vector512.Load(lanes);
            var x1 = Vector512.Load(lanes + 8);
            var x2 = Vector512.Load(lanes + 16);
            var x3 = Vector512.Load(lanes + 24);
            var x4 = Vector512.Load(lanes + 32);
            var x5 = Vector512.Load(lanes + 40);
            var x6 = Vector512.Load(lanes + 48);
            var x7 = Vector512.Load(lanes + 56);
            // m = 1 (twiddle 1)
            (x0, x1) = (GoldilocksX8.Add(x0, x1), GoldilocksX8.Sub(x0, x1));
            (x2, x3) = (GoldilocksX8.Add(x2, x3), GoldilocksX8.Sub(x2, x3));
            (x4, x5) = (GoldilocksX8.Add(x4, x5), GoldilocksX8.Sub(x4, x5));
            (x6, x7) = (GoldilocksX8.Add(x6, x7), GoldilocksX8.Sub(x6, x7));
            // m = 2: twiddles tw[2] = 1, tw[3]
            var t = GoldilocksX8.Mul(x3, w3);
            (x1, x3) = (GoldilocksX8.Add(x1, t), GoldilocksX8.Sub(x1, t));
            (x0, x2) = (GoldilocksX8.Add(x0, x2), GoldilocksX8.Sub(x0, x2));
            t = GoldilocksX8.Mul(x7, w3);
            (x5, x7) = (GoldilocksX8.Add(x5, t), GoldilocksX8.Sub(x5, t));
            (x4, x6) = (GoldilocksX8.Add(x4, x6), GoldilocksX8.Sub(x4, x6));
            // m = 4: twiddles tw[4] = 1, tw[5], tw[6], tw[7]
            (x0, x4) = (GoldilocksX8.Add(x0, x4), GoldilocksX8.Sub(x0, x4));
            t = GoldilocksX8.Mul(x5, w5);
            (x1, x5) = (GoldilocksX8.Add(x1, t), GoldilocksX8.Sub(x1, t));
            t = GoldilocksX8.Mul(x6, w6);
            (x2, x6) = (GoldilocksX8.Add(x2, t), GoldilocksX8.Sub(x2, t));
            t = GoldilocksX8.Mul(x7, w7);
            (x3, x7) = (GoldilocksX8.Add(x3, t), GoldilocksX8.Sub(x3, t));
            Vector512.Store(x0, lanes);
            Vector512.Store(x1, lanes + 8);
            Vector512.Store(x2, lanes + 16);
            Vector512.Store(x3, lanes + 24);
            Vector512.Store(x4, lanes + 32);
            Vector512.Store(x5, lanes + 40);
            Vector512.Store(x6, lanes + 48);
            Vector512.Store(x7, lanes + 56);
            Transpose8x8(lanes, p);
        }
    }

    /// <summary>The DIF stages with half-sizes 4, 2 and 1, vectorized as <see cref="DitFirstThreeStages"/>.</summary>
    private static unsafe void DifLastThreeStages(ulong* a, int length, ulong* tw)
    {
        var w3 = Vector512.Create(tw[3]);
        var w5 = Vector512.Create(tw[5]);
        var w6 = Vector512.Create(tw[6]);
        var w7 = Vector512.Create(tw[7]);
        var lanes = stackalloc ulong[64];
        for (var chunk = 0; chunk < length; chunk += 64)
        {
            var p = a + chunk;
            Transpose8x8(p, lanes);
            var x0 = Vector512.Load(lanes);
            var x1 = Vector512.Load(lanes + 8);
            var x2 = Vector512.Load(lanes + 16);
            var x3 = Vector512.Load(lanes + 24);
            var x4 = Vector512.Load(lanes + 32);
            var x5 = Vector512.Load(lanes + 40);
            var x6 = Vector512.Load(lanes + 48);
            var x7 = Vector512.Load(lanes + 56);
            // m = 4
            (x0, x4) = (GoldilocksX8.Add(x0, x4), GoldilocksX8.Sub(x0, x4));
            (x1, x5) = (GoldilocksX8.Add(x1, x5), GoldilocksX8.Mul(GoldilocksX8.Sub(x1, x5), w5));
            (x2, x6) = (GoldilocksX8.Add(x2, x6), GoldilocksX8.Mul(GoldilocksX8.Sub(x2, x6), w6));
            (x3, x7) = (GoldilocksX8.Add(x3, x7), GoldilocksX8.Mul(GoldilocksX8.Sub(x3, x7), w7));
            // m = 2
            (x0, x2) = (GoldilocksX8.Add(x0, x2), GoldilocksX8.Sub(x0, x2));
            (x1, x3) = (GoldilocksX8.Add(x1, x3), GoldilocksX8.Mul(GoldilocksX8.Sub(x1, x3), w3));
            (x4, x6) = (GoldilocksX8.Add(x4, x6), GoldilocksX8.Sub(x4, x6));
            (x5, x7) = (GoldilocksX8.Add(x5, x7), GoldilocksX8.Mul(GoldilocksX8.Sub(x5, x7), w3));
            // m = 1
            (x0, x1) = (GoldilocksX8.Add(x0, x1), GoldilocksX8.Sub(x0, x1));
            (x2, x3) = (GoldilocksX8.Add(x2, x3), GoldilocksX8.Sub(x2, x3));
            (x4, x5) = (GoldilocksX8.Add(x4, x5), GoldilocksX8.Sub(x4, x5));
            (x6, x7) = (GoldilocksX8.Add(x6, x7), GoldilocksX8.Sub(x6, x7));
            Vector512.Store(x0, lanes);
            Vector512.Store(x1, lanes + 8);
            Vector512.Store(x2, lanes + 16);
            Vector512.Store(x3, lanes + 24);
            Vector512.Store(x4, lanes + 32);
            Vector512.Store(x5, lanes + 40);
            Vector512.Store(x6, lanes + 48);
            Vector512.Store(x7, lanes + 56);
            Transpose8x8(lanes, p);
        }
    }

    /// <summary>output[k * 8 + g] = input[g * 8 + k] for an 8x8 block of words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8x8(ulong* input, ulong* output)
    {
        for (var g = 0; g < 8; g++)
        {
            for (var k = 0; k < 8; k++)
            {
                output[k * 8 + g] = input[g * 8 + k];
            }
        }
    }

    /// <summary>Decimation in frequency: natural input, bit-reversed output; tw as built by <see cref="Twiddles"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dif(ulong* a, int logN, ulong* tw)
    {
        var n = 1 << logN;
        var blockSize = Math.Min(n, 1 << LogBlockSize);
        for (var m = n >> 1; m >= blockSize; m >>= 1)
        {
            DifLayer(a, n, m, tw);
        }
        for (var start = 0; start < n; start += blockSize)
        {
            var block = a + start;
            var last = GoldilocksX8.IsSupported && blockSize >= 64 ? 8 : 1;
            for (var m = blockSize >> 1; m >= last; m >>= 1)
            {
                DifLayer(block, blockSize, m, tw);
            }
            if (last == 8)
            {
                DifLastThreeStages(block, blockSize, tw);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void DifLayer(ulong* a, int length, int m, ulong* tw)
    {
        if (m == 1)
        {
            for (var g = 0; g < length; g += 2)
            {
                var u = a[g];
                var v = a[g + 1];
                a[g] = Goldilocks.Add(u, v);
                a[g + 1] = Goldilocks.Sub(u, v);
            }
            return;
        }
        var w = tw + m;
        if (GoldilocksX8.IsSupported && m >= GoldilocksX8.Lanes)
        {
            for (var g = 0; g < length; g += 2 * m)
            {
                var lo = a + g;
                var hi = lo + m;
                for (var j = 0; j < m; j += GoldilocksX8.Lanes)
                {
                    var u = Vector512.Load(lo + j);
                    var v = Vector512.Load(hi + j);
                    Vector512.Store(GoldilocksX8.Add(u, v), lo + j);
                    Vector512.Store(GoldilocksX8.Mul(GoldilocksX8.Sub(u, v), Vector512.Load(w + j)), hi + j);
                }
            }
            return;
        }
        for (var g = 0; g < length; g += 2 * m)
        {
            var lo = a + g;
            var hi = lo + m;
            var u0 = lo[0];
            var v0 = hi[0];
            lo[0] = Goldilocks.Add(u0, v0);
            hi[0] = Goldilocks.Sub(u0, v0);
            for (var j = 1; j < m; j++)
            {
                var u = lo[j];
                var v = hi[j];
                lo[j] = Goldilocks.Add(u, v);
                hi[j] = Goldilocks.Mul(Goldilocks.Sub(u, v), w[j]);
            }
        }
    }

    private static unsafe void BitReverseInPlace(ulong* a, int logN)
    {
        if (logN == 0)
        {
            return;
        }
        SwapRange(a, 0, 1 << logN, 64 - logN);
    }

    /// <summary>Horner evaluation of a base-field polynomial at an extension point.</summary>
    public static GoldilocksExt2 EvaluateAt(ReadOnlySpan<ulong> coefficients, GoldilocksExt2 x)
    {
        var acc = GoldilocksExt2.Zero;
        for (var i = coefficients.Length - 1; i >= 0; i--)
        {
            acc = GoldilocksExt2.AddBase(GoldilocksExt2.Mul(acc, x), coefficients[i]);
        }
        return acc;
    }

    public static int LogSize(int length)
    {
        if (length < 1 || !IsPowerOfTwo(length) || length > (1 << MaxLogSize))
        {
            throw new ArgumentException($"NTT length {length} is not a power of two in [1, 2^{MaxLogSize}]");
        }
        return System.Numerics.BitOperations.Log2((uint)length);
    }

    private static bool IsPowerOfTwo(int x) => x > 0 && (x & (x - 1)) == 0;

    private static unsafe void Scale(Span<ulong> values, ulong factor)
    {
        var i = 0;
        if (GoldilocksX8.IsSupported)
        {
            var f = Vector512.Create(factor);
            fixed (ulong* p = values)
            {
                for (; i + GoldilocksX8.Lanes <= values.Length; i += GoldilocksX8.Lanes)
                {
                    Vector512.Store(GoldilocksX8.Mul(Vector512.Load(p + i), f), p + i);
                }
            }
        }
        for (; i < values.Length; i++)
        {
            values[i] = Goldilocks.Mul(values[i], factor);
        }
    }

    /// <summary>tw[m + j] = w_(2m)^j for every stage half-size m: each stage reads its twiddles contiguously.</summary>
    private static ulong[] Twiddles(ulong root, int logN, bool cache)
    {
        if (cache && TwiddleCache.TryGetValue((root, logN), out var cached))
        {
            return cached;
        }
        var n = 1 << logN;
        var tw = new ulong[Math.Max(n, 2)];
        if (n >= 2)
        {
            var half = n / 2;
            Goldilocks.Powers(1, root, tw.AsSpan(half, half));
            for (var m = half / 2; m >= 1; m /= 2)
            {
                // w_(2m)^j = w_n^(j * n/(2m)): every other entry of the next larger stage.
                for (var j = 0; j < m; j++)
                {
                    tw[m + j] = tw[2 * m + 2 * j];
                }
            }
        }
        if (cache)
        {
            TwiddleCache.TryAdd((root, logN), tw);
        }
        return tw;
    }

    private static unsafe void Transform(Span<ulong> values, ulong root, int parallelism, bool cache)
    {
        var n = values.Length;
        if (n == 1)
        {
            return;
        }
        var logN = LogSize(n);
        var tw = Twiddles(root, logN, cache);
        if (parallelism <= 0)
        {
            parallelism = DefaultParallelism;
        }
        if (logN < MinParallelLogSize)
        {
            parallelism = 1;
        }
        fixed (ulong* a = values)
        fixed (ulong* t = tw)
        {
            BitReversePermute(a, logN, parallelism);
            var logBlock = Math.Min(LogBlockSize, logN);
            var blocks = n >> logBlock;
            var blockSize = 1 << logBlock;
            var pa = (nint)a;
            var pt = (nint)t;
            if (parallelism == 1 || blocks == 1)
            {
                for (var b = 0; b < blocks; b++)
                {
                    BlockStages(a + b * blockSize, blockSize, t);
                }
            }
            else
            {
                Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
                    b => BlockStages((ulong*)pa + b * blockSize, blockSize, (ulong*)pt));
            }
            for (var logM = logBlock; logM < logN; logM++)
            {
                var butterflies = n / 2;
                var chunks = (butterflies + ChunkButterflies - 1) / ChunkButterflies;
                if (parallelism == 1)
                {
                    StageRange(a, t, logM, 0, butterflies);
                }
                else
                {
                    var lm = logM;
                    Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
                        c => StageRange((ulong*)pa, (ulong*)pt, lm, c * ChunkButterflies, Math.Min(butterflies, (c + 1) * ChunkButterflies)));
                }
            }
        }
    }

    /// <summary>All stages with half-size below the block size, inside one block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BlockStages(ulong* a, int blockSize, ulong* tw)
    {
        var m = 1;
        if (GoldilocksX8.IsSupported && blockSize >= 64)
        {
            DitFirstThreeStages(a, blockSize, tw);
            m = 8;
        }
        for (; m < blockSize; m <<= 1)
        {
            DitLayer(a, blockSize, m, tw);
        }
    }

    /// <summary>Butterflies [from, to) of the stage with half-size 2^logM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void StageRange(ulong* a, ulong* tw, int logM, int from, int to)
    {
        var m = 1 << logM;
        var mask = m - 1;
        var b = from;
        if (GoldilocksX8.IsSupported && m >= GoldilocksX8.Lanes && from % GoldilocksX8.Lanes == 0)
        {
            // Runs of 8 consecutive butterflies stay inside one group (m is a multiple of 8).
            for (; b + GoldilocksX8.Lanes <= to; b += GoldilocksX8.Lanes)
            {
                var j = b & mask;
                var i = ((b >> logM) << (logM + 1)) + j;
                var u = Vector512.Load(a + i);
                var v = GoldilocksX8.Mul(Vector512.Load(a + i + m), Vector512.Load(tw + m + j));
                Vector512.Store(GoldilocksX8.Add(u, v), a + i);
                Vector512.Store(GoldilocksX8.Sub(u, v), a + i + m);
            }
        }
        for (; b < to; b++)
        {
            var j = b & mask;
            var i = ((b >> logM) << (logM + 1)) + j;
            Butterfly(a + i, a + i + m, tw[m + j]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Butterfly(ulong* x, ulong* y, ulong w)
    {
        var u = *x;
        var v = Goldilocks.Mul(*y, w);
        *x = Goldilocks.Add(u, v);
        *y = Goldilocks.Sub(u, v);
    }

    private static unsafe void BitReversePermute(ulong* a, int logN, int parallelism)
    {
        var n = 1 << logN;
        var shift = 64 - logN;
        var pa = (nint)a;
        if (parallelism == 1)
        {
            SwapRange(a, 0, n, shift);
            return;
        }
        var chunks = (n + ChunkButterflies - 1) / ChunkButterflies;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            c => SwapRange((ulong*)pa, c * ChunkButterflies, Math.Min(n, (c + 1) * ChunkButterflies), shift));
    }

    private static unsafe void SwapRange(ulong* a, int from, int to, int shift)
    {
        for (var i = from; i < to; i++)
        {
            var j = (int)(ReverseBits((ulong)i) >> shift);
            if (i < j)
            {
                (a[i], a[j]) = (a[j], a[i]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReverseBits(ulong x)
    {
        x = ((x >> 1) & 0x5555555555555555UL) | ((x & 0x5555555555555555UL) << 1);
        x = ((x >> 2) & 0x3333333333333333UL) | ((x & 0x3333333333333333UL) << 2);
        x = ((x >> 4) & 0x0F0F0F0F0F0F0F0FUL) | ((x & 0x0F0F0F0F0F0F0F0FUL) << 4);
        return System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(x);
    }
}
