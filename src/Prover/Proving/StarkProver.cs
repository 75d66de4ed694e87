using System.Diagnostics;
using System.Runtime.Intrinsics;
using Keel.Core;
using Keel.Core.Field;
using Keel.Prover.Air;
using Keel.Prover.Crypto;
using Keel.Prover.Polynomials;
using Keel.Prover.Stark;

namespace Keel.Prover.Proving;

/// <summary>The trace does not satisfy the AIR (the prover checks before spending time on a proof).</summary>
public sealed class TraceException(string message) : Exception(message);

/// <summary>One proving stage: wall time and the CPU time the whole process spent meanwhile (all threads).</summary>
public sealed record StageTiming(string Name, TimeSpan Wall, TimeSpan Cpu);

/// <summary>Wall and CPU time of each proving stage in order, for benchmarks and logs.</summary>
public sealed record ProvingTimings(IReadOnlyList<StageTiming> Stages, TimeSpan Total, TimeSpan TotalCpu)
{
    /// <summary>Stage names in the order <see cref="StarkProver"/> reports them.</summary>
    public static readonly string[] StageNames = ["check", "lde", "trace commit", "composition eval", "composition split", "composition commit", "ood", "deep", "fri", "grind", "open"];
}

/// <summary>Records consecutive stages' wall and process CPU time.</summary>
internal sealed class StageClock
{
    private readonly List<StageTiming> _stages = new(ProvingTimings.StageNames.Length);
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private readonly TimeSpan _cpuStart = CpuNow();
    private TimeSpan _wallMark;
    private TimeSpan _cpuMark;

    public StageClock()
    {
        _cpuMark = _cpuStart;
    }

    private static TimeSpan CpuNow()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>Ends the current stage (which began at the previous call or at construction).</summary>
    public void End(string name)
    {
        var wall = _total.Elapsed;
        var cpu = CpuNow();
        _stages.Add(new StageTiming(name, wall - _wallMark, cpu - _cpuMark));
        _wallMark = wall;
        _cpuMark = cpu;
    }

    public ProvingTimings Finish() => new(_stages, _total.Elapsed, CpuNow() - _cpuStart);
}

/// <summary>
/// The STARK prover: trace LDE and commitment, constraint composition, out-of-domain frame, DEEP
/// composition, FRI with a remainder, proof-of-work grinding and the query openings. Heavy steps
/// go through an <see cref="IProverBackend"/>.
/// </summary>
public sealed class StarkProver(IProverBackend? backend = null)
{
    /// <summary>Bound on the proof-of-work search: 2^40 nonces is far beyond MaxGrindingBits = 30.</summary>
    public const ulong MaxPowNonce = 1UL << 40;

    private readonly IProverBackend _backend = backend ?? new CpuBackend();

    /// <summary>Threads for the prover's own parallel loops: the CPU backend's setting, else every core.</summary>
    private int Parallelism => _backend is CpuBackend cpu ? cpu.Parallelism : Environment.ProcessorCount;

    public ProvingTimings? LastTimings { get; private set; }

    /// <summary>Tests only: skip the trace check and drop what exceeds the degree bound, to build forged proofs.</summary>
    internal bool ForgeForTests { get; init; }

    /// <param name="trace">Column-major trace: trace[column][row]; not modified.</param>
    /// <param name="prover">The prover's address, bound into the transcript.</param>
    public StarkProof Prove(IAir air, ulong[][] trace, Address prover, ProofOptions? options = null)
    {
        var clock = new StageClock();
        var ctx = new AirContext(air, options ?? ProofOptions.Default);
        if (!ForgeForTests)
        {
            CheckTrace(ctx, trace);
        }
        var n = ctx.TraceLength;
        var size = ctx.LdeSize;
        var shift = ctx.DomainShift;
        var transcript = Protocol.Begin(ctx, prover);
        clock.End("check");

        // 1. Trace LDE and commitment.
        var coefficients = new ulong[trace.Length][];
        for (var c = 0; c < trace.Length; c++)
        {
            coefficients[c] = _backend.Rent(trace[c].Length);
            trace[c].CopyTo(coefficients[c], 0);
        }
        var traceLde = _backend.ExtendColumns(coefficients, ctx.Blowup, shift);
        clock.End("lde");
        var traceTree = _backend.Commit(new ColumnRows(traceLde));
        transcript.Absorb(traceTree.Root.Bytes);
        clock.End("trace commit");

        // 2. Constraint composition, split into columns of degree < n, extended and committed.
        var alphas = transcript.DrawExts(ctx.Program.ConstraintCount);
        var betas = transcript.DrawExts(air.Assertions.Count);
        var composition = _backend.EvaluateComposition(ctx, traceLde, alphas, betas);
        clock.End("composition eval");
        var (compositionCoefficients, compositionLde) = SplitComposition(ctx, composition);
        clock.End("composition split");
        var compositionTree = _backend.Commit(new ColumnRows(compositionLde));
        transcript.Absorb(compositionTree.Root.Bytes);
        clock.End("composition commit");

        // 3. Out-of-domain frame.
        var z = Protocol.DrawOodPoint(transcript, ctx);
        var zNext = GoldilocksExt2.MulBase(z, ctx.TraceGenerator);
        var zPowers = ExtPowers(z, n);
        var zNextPowers = ExtPowers(zNext, n);
        var oodCurrent = new GoldilocksExt2[ctx.TraceWidth];
        var oodNext = new GoldilocksExt2[ctx.TraceWidth];
        Parallel.For(0, ctx.TraceWidth, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, c =>
        {
            oodCurrent[c] = EvaluateWithPowers(coefficients[c], zPowers);
            oodNext[c] = EvaluateWithPowers(coefficients[c], zNextPowers);
        });
        var oodComposition = new GoldilocksExt2[ctx.CompositionColumns];
        var u = new GoldilocksExt2(0, 1);
        for (var k = 0; k < oodComposition.Length; k++)
        {
            oodComposition[k] = EvaluateWithPowers(compositionCoefficients[2 * k], zPowers) + u * EvaluateWithPowers(compositionCoefficients[2 * k + 1], zPowers);
        }
        transcript.AbsorbExt(oodCurrent);
        transcript.AbsorbExt(oodNext);
        transcript.AbsorbExt(oodComposition);
        clock.End("ood");

        // 4. DEEP composition over the LDE domain.
        var gammas = transcript.DrawExts(2 * ctx.TraceWidth + ctx.CompositionColumns);
        var deep = DeepComposition(ctx, coefficients, compositionCoefficients, traceLde, compositionLde, z, zNext, oodCurrent, oodNext, oodComposition, gammas);
        clock.End("deep");

        // 5. FRI.
        var (friTrees, friLayers, remainder) = Fri(ctx, deep, transcript);
        clock.End("fri");

        // 6. Grinding and queries.
        var nonce = Grind(transcript.Seed.ToArray(), ctx.Options.GrindingBits);
        transcript.AbsorbUInt64(nonce);
        clock.End("grind");
        var positions = Protocol.SortedDistinct(transcript.DrawPositions(ctx.Options.Queries, size));
        var traceOpenings = Open(traceTree, traceLde, positions);
        var compositionOpenings = Open(compositionTree, compositionLde, positions);
        var friOpenings = new RowOpenings[friLayers.Count];
        var current = positions;
        for (var layer = 0; layer < friLayers.Count; layer++)
        {
            var cosets = friLayers[layer][0].Length;
            current = Protocol.SortedDistinct(current.Select(p => p % cosets));
            friOpenings[layer] = Open(friTrees[layer], friLayers[layer], current);
        }
        // Openings are copies: the large columns can serve the next proof.
        _backend.Recycle(coefficients);
        _backend.Recycle(traceLde);
        _backend.Recycle(compositionLde);
        foreach (var layer in friLayers)
        {
            _backend.Recycle(layer);
        }
        clock.End("open");
        LastTimings = clock.Finish();

        return new StarkProof
        {
            Options = ctx.Options,
            LogTraceLength = ctx.LogTraceLength,
            TraceWidth = ctx.TraceWidth,
            CompositionColumns = ctx.CompositionColumns,
            TraceRoot = traceTree.Root,
            CompositionRoot = compositionTree.Root,
            OodCurrent = oodCurrent,
            OodNext = oodNext,
            OodComposition = oodComposition,
            FriRoots = [.. friTrees.Select(t => t.Root)],
            Remainder = remainder,
            PowNonce = nonce,
            TraceOpenings = traceOpenings,
            CompositionOpenings = compositionOpenings,
            FriOpenings = friOpenings,
        };
    }

    /// <summary>values[i] *= step^i.</summary>
    private static unsafe void ScaleByPowers(Span<ulong> values, ulong step)
    {
        var i = 0;
        fixed (ulong* v = values)
        {
            if (GoldilocksX8.IsSupported && values.Length >= GoldilocksX8.Lanes)
            {
                // Lane l carries step^(i + l); every iteration advances all lanes by step^8.
                Span<ulong> first = stackalloc ulong[GoldilocksX8.Lanes];
                Goldilocks.Powers(1, step, first);
                var factors = Vector512.Create((ReadOnlySpan<ulong>)first);
                var advance = Vector512.Create(Goldilocks.Pow(step, GoldilocksX8.Lanes));
                for (; i + GoldilocksX8.Lanes <= values.Length; i += GoldilocksX8.Lanes)
                {
                    Vector512.Store(GoldilocksX8.Mul(Vector512.Load(v + i), factors), v + i);
                    factors = GoldilocksX8.Mul(factors, advance);
                }
            }
            var factor = Goldilocks.Pow(step, (ulong)i);
            for (; i < values.Length; i++)
            {
                v[i] = Goldilocks.Mul(v[i], factor);
                factor = Goldilocks.Mul(factor, step);
            }
        }
    }

    /// <summary>x^0 .. x^(count-1): coordinates A0 in the first half of the array, A1 in the second.</summary>
    private static ulong[] ExtPowers(GoldilocksExt2 x, int count)
    {
        var powers = GC.AllocateUninitializedArray<ulong>(2 * count);
        var p = GoldilocksExt2.One;
        for (var i = 0; i < count; i++)
        {
            powers[i] = p.A0;
            powers[count + i] = p.A1;
            p *= x;
        }
        return powers;
    }

    /// <summary>sum_i c_i x^i from a table of powers of x (<see cref="ExtPowers"/>).</summary>
    private static unsafe GoldilocksExt2 EvaluateWithPowers(ulong[] coefficients, ulong[] powers)
    {
        var count = coefficients.Length;
        var i = 0;
        var s0 = 0UL;
        var s1 = 0UL;
        fixed (ulong* c = coefficients)
        fixed (ulong* p = powers)
        {
            if (GoldilocksX8.IsSupported)
            {
                // Eight partial sums per coordinate, added up at the end (field addition: any order).
                var acc0 = Vector512<ulong>.Zero;
                var acc1 = Vector512<ulong>.Zero;
                for (; i + GoldilocksX8.Lanes <= count; i += GoldilocksX8.Lanes)
                {
                    var v = Vector512.Load(c + i);
                    acc0 = GoldilocksX8.Add(acc0, GoldilocksX8.Mul(v, Vector512.Load(p + i)));
                    acc1 = GoldilocksX8.Add(acc1, GoldilocksX8.Mul(v, Vector512.Load(p + count + i)));
                }
                for (var l = 0; l < GoldilocksX8.Lanes; l++)
                {
                    s0 = Goldilocks.Add(s0, acc0[l]);
                    s1 = Goldilocks.Add(s1, acc1[l]);
                }
            }
            var a0 = default(Accumulator);
            var a1 = default(Accumulator);
            a0.Add(s0);
            a1.Add(s1);
            for (; i < count; i++)
            {
                a0.MulAdd(p[i], c[i]);
                a1.MulAdd(p[count + i], c[i]);
            }
            return new GoldilocksExt2(a0.Reduce(), a1.Reduce());
        }
    }

    /// <summary>Checks shape, canonical values, assertions and every transition on the trace itself, naming the first failure.</summary>
    public static void CheckTrace(AirContext ctx, ulong[][] trace)
    {
        if (trace.Length != ctx.TraceWidth)
        {
            throw new TraceException($"trace has {trace.Length} columns, the AIR {ctx.TraceWidth}");
        }
        for (var c = 0; c < trace.Length; c++)
        {
            if (trace[c] is null || trace[c].Length != ctx.TraceLength)
            {
                throw new TraceException($"column {c} does not have {ctx.TraceLength} rows");
            }
            for (var r = 0; r < ctx.TraceLength; r++)
            {
                if (!Goldilocks.IsCanonical(trace[c][r]))
                {
                    throw new TraceException($"cell ({c}, {r}) is not a canonical field element");
                }
            }
        }
        foreach (var a in ctx.Air.Assertions)
        {
            if (trace[a.Column][a.Row] != a.Value)
            {
                throw new TraceException($"assertion failed: column {a.Column} row {a.Row} is {trace[a.Column][a.Row]}, expected {a.Value}");
            }
        }
        var count = ctx.Program.ConstraintCount;
        if (count == 0)
        {
            return;
        }
        var periodic = ctx.Air.PeriodicColumns.ToArray();
        var n = ctx.TraceLength;
        var block = Math.Min(BlockEvaluator.BlockRows, n);
        var blocks = n / block;
        var failure = -1L;
        Parallel.For(0, blocks, () => (new BlockEvaluator(ctx.Program), new ulong[count * BlockEvaluator.BlockRows]), (b, state, s) =>
        {
            var start = b * block;
            s.Item1.Evaluate(trace, 1, periodic, ctx.Air.PublicInputs, start, block, s.Item2);
            for (var r = 0; r < block; r++)
            {
                if (start + r == n - 1)
                {
                    continue; // transitions do not apply from the last row
                }
                for (var c = 0; c < count; c++)
                {
                    if (s.Item2[c * BlockEvaluator.BlockRows + r] != 0)
                    {
                        Interlocked.CompareExchange(ref failure, ((long)(start + r) << 20) | (uint)c, -1);
                        state.Stop();
                        return s;
                    }
                }
            }
            return s;
        }, _ => { });
        if (failure >= 0)
        {
            throw new TraceException($"transition constraint {failure & 0xFFFFF} fails at row {failure >> 20}");
        }
    }

    /// <summary>
    /// From composition values on the LDE coset to k columns H_i of degree &lt; n with
    /// H(x) = sum_i x^(i n) H_i(x); returns their coefficients and LDEs as (a0, a1) base pairs.
    /// </summary>
    private (ulong[][] Coefficients, ulong[][] Lde) SplitComposition(AirContext ctx, GoldilocksExt2[] values)
    {
        var size = ctx.LdeSize;
        var n = ctx.TraceLength;
        var parts = new ulong[2][];
        parts[0] = _backend.Rent(size);
        parts[1] = _backend.Rent(size);
        for (var i = 0; i < size; i++)
        {
            parts[0][i] = values[i].A0;
            parts[1][i] = values[i].A1;
        }
        var shiftInverse = Goldilocks.Inverse(ctx.DomainShift);
        var bound = ctx.CompositionColumns * n;
        foreach (var part in parts)
        {
            // Interpolating on the coset gives the coefficients of h(s X); dividing by s^i undoes the shift.
            Ntt.Inverse(part);
            // Only the coefficients below the bound are used; those above must be zero (scaling
            // by a non-zero factor does not change that).
            if (!ForgeForTests && part.AsSpan(bound).ContainsAnyExcept(0UL))
            {
                throw new TraceException("the composition polynomial exceeds its degree bound: constraints do not hold on the trace or their degree is misdeclared");
            }
            ScaleByPowers(part.AsSpan(0, bound), shiftInverse);
        }
        var coefficients = new ulong[2 * ctx.CompositionColumns][];
        for (var k = 0; k < ctx.CompositionColumns; k++)
        {
            coefficients[2 * k] = parts[0].AsSpan(k * n, n).ToArray();
            coefficients[2 * k + 1] = parts[1].AsSpan(k * n, n).ToArray();
        }
        var lde = new ulong[coefficients.Length][];
        if (ctx.CompositionColumns == 1)
        {
            // One column is the composition itself: its LDE is the values we started from.
            lde[0] = _backend.Rent(size);
            lde[1] = _backend.Rent(size);
            for (var i = 0; i < size; i++)
            {
                lde[0][i] = values[i].A0;
                lde[1][i] = values[i].A1;
            }
            _backend.Recycle(parts);
            return (coefficients, lde);
        }
        for (var j = 0; j < lde.Length; j++)
        {
            lde[j] = _backend.Rent(size);
        }
        _backend.Recycle(parts);
        Ntt.CosetExtendBatch(coefficients, ctx.Blowup, ctx.DomainShift, lde, Parallelism);
        return (coefficients, lde);
    }

    /// <summary>
    /// DEEP composition sum_j gamma_j (T_j(x) - T_j(z))/(x - z) + gamma'_j (T_j(x) - T_j(zg))/(x - zg)
    /// + sum_k gamma''_k (H_k(x) - H_k(z))/(x - z) over the LDE domain. The numerators' sums
    /// F = sum gamma_j T_j + sum gamma''_k H_k and G = sum gamma'_j T_j are linear in the columns:
    /// for wide traces they are formed once on the n coefficients and extended (the same field
    /// values for a blowup-th of the multiplications); for narrow ones, where four extensions would
    /// cost more, at each LDE point.
    /// </summary>
    private GoldilocksExt2[] DeepComposition(AirContext ctx, ulong[][] traceCoefficients, ulong[][] compositionCoefficients, ulong[][] traceLde, ulong[][] compositionLde,
        GoldilocksExt2 z, GoldilocksExt2 zNext, GoldilocksExt2[] oodCurrent, GoldilocksExt2[] oodNext, GoldilocksExt2[] oodComposition, GoldilocksExt2[] gammas)
    {
        var width = ctx.TraceWidth;
        var columns = ctx.CompositionColumns;
        var size = ctx.LdeSize;
        var n = ctx.TraceLength;
        // Constant parts: sum gamma_j T_j(z) + sum gamma''_i H_i(z) and sum gamma'_j T_j(z g).
        var c1 = GoldilocksExt2.Zero;
        var c2 = GoldilocksExt2.Zero;
        for (var j = 0; j < width; j++)
        {
            c1 += gammas[j] * oodCurrent[j];
            c2 += gammas[width + j] * oodNext[j];
        }
        for (var k = 0; k < columns; k++)
        {
            c1 += gammas[2 * width + k] * oodComposition[k];
        }
        // Coefficients as base words: per trace column (g_j.A0, g_j.A1, g'_j.A0, g'_j.A1); per composition
        // column H = h0 + h1 u, gamma * H = (g0 h0 + W g1 h1) + (g1 h0 + g0 h1) u: (g0, W g1, g1, g0).
        var traceGammas = new ulong[4 * width];
        for (var j = 0; j < width; j++)
        {
            traceGammas[4 * j] = gammas[j].A0;
            traceGammas[4 * j + 1] = gammas[j].A1;
            traceGammas[4 * j + 2] = gammas[width + j].A0;
            traceGammas[4 * j + 3] = gammas[width + j].A1;
        }
        var compositionGammas = new ulong[4 * columns];
        for (var k = 0; k < columns; k++)
        {
            var g = gammas[2 * width + k];
            compositionGammas[4 * k] = g.A0;
            compositionGammas[4 * k + 1] = Goldilocks.Mul(GoldilocksExt2.W, g.A1);
            compositionGammas[4 * k + 2] = g.A1;
            compositionGammas[4 * k + 3] = g.A0;
        }
        // Per point the combination costs 4 multiply-adds per column; through the coefficients it
        // costs a blowup-th of that plus four extensions, about 2 log2(n) multiplications per point.
        var viaCoefficients = width + 2 * columns > 2 * ctx.LogTraceLength;
        var pointColumns = viaCoefficients ? [.. traceCoefficients, .. compositionCoefficients] : traceLde.Concat(compositionLde).ToArray();
        var result = new GoldilocksExt2[size];
        var handles = new System.Runtime.InteropServices.GCHandle[pointColumns.Length];
        var pointers = new nint[pointColumns.Length];
        try
        {
            for (var j = 0; j < handles.Length; j++)
            {
                handles[j] = System.Runtime.InteropServices.GCHandle.Alloc(pointColumns[j], System.Runtime.InteropServices.GCHandleType.Pinned);
                pointers[j] = handles[j].AddrOfPinnedObject();
            }
            ulong[][]? values = null;
            if (viaCoefficients)
            {
                // F.A0, F.A1, G.A0, G.A1 as coefficient columns, then extended.
                var combined = new ulong[4][];
                for (var q = 0; q < 4; q++)
                {
                    combined[q] = _backend.Rent(n);
                }
                const int rowsPerItem = 1024;
                Parallel.For(0, (n + rowsPerItem - 1) / rowsPerItem, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, item =>
                {
                    var start = item * rowsPerItem;
                    var count = Math.Min(n, start + rowsPerItem) - start;
                    unsafe
                    {
                        fixed (ulong* f0 = combined[0])
                        fixed (ulong* f1 = combined[1])
                        fixed (ulong* g0 = combined[2])
                        fixed (ulong* g1 = combined[3])
                        {
                            CombineColumns(pointers, traceGammas, compositionGammas, width, columns, start, count, f0 + start, f1 + start, g0 + start, g1 + start);
                        }
                    }
                });
                values = new ulong[4][];
                for (var q = 0; q < 4; q++)
                {
                    values[q] = _backend.Rent(size);
                }
                Ntt.CosetExtendBatch(combined, ctx.Blowup, ctx.DomainShift, values, Parallelism);
                _backend.Recycle(combined);
            }

            // 1/(x - z) = (x - z0 + z1 u) / N(x) with the base-field norm N(x) = (x - z0)^2 - W z1^2, so
            // only base elements are inverted; then result = (n1 - c1)/(x - z) + (n2 - c2)/(x - zg).
            const int block = 1024;
            var blocks = (size + block - 1) / block;
            var omega = ctx.LdeGenerator;
            var wz1 = Goldilocks.Mul(GoldilocksExt2.W, Goldilocks.Square(z.A1));
            var wz2 = Goldilocks.Mul(GoldilocksExt2.W, Goldilocks.Square(zNext.A1));
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, () => new DeepScratch(block), (b, _, s) =>
            {
                var start = b * block;
                var count = Math.Min(block, size - start);
                var x = Goldilocks.Mul(ctx.DomainShift, Goldilocks.Pow(omega, (ulong)start));
                for (var r = 0; r < count; r++)
                {
                    var a1 = Goldilocks.Sub(x, z.A0);
                    var a2 = Goldilocks.Sub(x, zNext.A0);
                    s.A1[r] = a1;
                    s.A2[r] = a2;
                    s.Inv1[r] = Goldilocks.Sub(Goldilocks.Square(a1), wz1);
                    s.Inv2[r] = Goldilocks.Sub(Goldilocks.Square(a2), wz2);
                    x = Goldilocks.Mul(x, omega);
                }
                unsafe
                {
                    fixed (ulong* inv1 = s.Inv1)
                    fixed (ulong* inv2 = s.Inv2)
                    fixed (ulong* scratch = s.Scratch)
                    {
                        FieldSpan.BatchInverse(inv1, count, scratch);
                        FieldSpan.BatchInverse(inv2, count, scratch);
                    }
                }
                if (values is null)
                {
                    // Narrow trace: the combinations column by column over the block, eight lanes at a time.
                    unsafe
                    {
                        fixed (ulong* f0 = s.F0)
                        fixed (ulong* f1 = s.F1)
                        fixed (ulong* g0 = s.G0)
                        fixed (ulong* g1 = s.G1)
                        {
                            CombineColumns(pointers, traceGammas, compositionGammas, width, columns, start, count, f0, f1, g0, g1);
                        }
                    }
                }
                else
                {
                    values[0].AsSpan(start, count).CopyTo(s.F0);
                    values[1].AsSpan(start, count).CopyTo(s.F1);
                    values[2].AsSpan(start, count).CopyTo(s.G0);
                    values[3].AsSpan(start, count).CopyTo(s.G1);
                }
                var done = 0;
                if (GoldilocksX8.IsSupported)
                {
                    done = count - count % GoldilocksX8.Lanes;
                    DeepFinishVectorized(s, count, start, c1, c2, z, zNext, result);
                }
                for (var r = done; r < count; r++)
                {
                    // (p0 + p1 u)(a + z1 u) = (p0 a + W p1 z1) + (p0 z1 + p1 a) u, then times 1/N.
                    var p0 = Goldilocks.Sub(s.F0[r], c1.A0);
                    var p1 = Goldilocks.Sub(s.F1[r], c1.A1);
                    var q0 = Goldilocks.Sub(s.G0[r], c2.A0);
                    var q1 = Goldilocks.Sub(s.G1[r], c2.A1);
                    var a1 = s.A1[r];
                    var a2 = s.A2[r];
                    var first0 = Goldilocks.Add(Goldilocks.Mul(p0, a1), Goldilocks.Mul(GoldilocksExt2.W, Goldilocks.Mul(p1, z.A1)));
                    var first1 = Goldilocks.Add(Goldilocks.Mul(p0, z.A1), Goldilocks.Mul(p1, a1));
                    var second0 = Goldilocks.Add(Goldilocks.Mul(q0, a2), Goldilocks.Mul(GoldilocksExt2.W, Goldilocks.Mul(q1, zNext.A1)));
                    var second1 = Goldilocks.Add(Goldilocks.Mul(q0, zNext.A1), Goldilocks.Mul(q1, a2));
                    result[start + r] = new GoldilocksExt2(
                        Goldilocks.Add(Goldilocks.Mul(first0, s.Inv1[r]), Goldilocks.Mul(second0, s.Inv2[r])),
                        Goldilocks.Add(Goldilocks.Mul(first1, s.Inv1[r]), Goldilocks.Mul(second1, s.Inv2[r])));
                }
                return s;
            }, _ => { });
            if (values is not null)
            {
                _backend.Recycle(values);
            }
        }
        finally
        {
            foreach (var h in handles)
            {
                if (h.IsAllocated)
                {
                    h.Free();
                }
            }
        }
        return result;
    }

    /// <summary>The final DEEP step of <see cref="DeepComposition"/> for the first count - count mod 8 points of a block, eight at a time.</summary>
    private static unsafe void DeepFinishVectorized(DeepScratch s, int count, int start, GoldilocksExt2 c1, GoldilocksExt2 c2, GoldilocksExt2 z, GoldilocksExt2 zNext, GoldilocksExt2[] result)
    {
        var c10 = Vector512.Create(c1.A0);
        var c11 = Vector512.Create(c1.A1);
        var c20 = Vector512.Create(c2.A0);
        var c21 = Vector512.Create(c2.A1);
        var z1 = Vector512.Create(z.A1);
        var wz1 = Vector512.Create(Goldilocks.Mul(GoldilocksExt2.W, z.A1));
        var zn1 = Vector512.Create(zNext.A1);
        var wzn1 = Vector512.Create(Goldilocks.Mul(GoldilocksExt2.W, zNext.A1));
        var out0 = stackalloc ulong[GoldilocksX8.Lanes];
        var out1 = stackalloc ulong[GoldilocksX8.Lanes];
        fixed (ulong* f0 = s.F0)
        fixed (ulong* f1 = s.F1)
        fixed (ulong* g0 = s.G0)
        fixed (ulong* g1 = s.G1)
        fixed (ulong* pa1 = s.A1)
        fixed (ulong* pa2 = s.A2)
        fixed (ulong* inv1 = s.Inv1)
        fixed (ulong* inv2 = s.Inv2)
        {
            for (var r = 0; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
            {
                var p0 = GoldilocksX8.Sub(Vector512.Load(f0 + r), c10);
                var p1 = GoldilocksX8.Sub(Vector512.Load(f1 + r), c11);
                var q0 = GoldilocksX8.Sub(Vector512.Load(g0 + r), c20);
                var q1 = GoldilocksX8.Sub(Vector512.Load(g1 + r), c21);
                var a1 = Vector512.Load(pa1 + r);
                var a2 = Vector512.Load(pa2 + r);
                var first0 = GoldilocksX8.Add(GoldilocksX8.Mul(p0, a1), GoldilocksX8.Mul(p1, wz1));
                var first1 = GoldilocksX8.Add(GoldilocksX8.Mul(p0, z1), GoldilocksX8.Mul(p1, a1));
                var second0 = GoldilocksX8.Add(GoldilocksX8.Mul(q0, a2), GoldilocksX8.Mul(q1, wzn1));
                var second1 = GoldilocksX8.Add(GoldilocksX8.Mul(q0, zn1), GoldilocksX8.Mul(q1, a2));
                var i1 = Vector512.Load(inv1 + r);
                var i2 = Vector512.Load(inv2 + r);
                Vector512.Store(GoldilocksX8.Add(GoldilocksX8.Mul(first0, i1), GoldilocksX8.Mul(second0, i2)), out0);
                Vector512.Store(GoldilocksX8.Add(GoldilocksX8.Mul(first1, i1), GoldilocksX8.Mul(second1, i2)), out1);
                for (var l = 0; l < GoldilocksX8.Lanes; l++)
                {
                    result[start + r + l] = new GoldilocksExt2(out0[l], out1[l]);
                }
            }
        }
    }

    /// <summary>
    /// Rows start..start+count-1 of F = sum_j gamma_j T_j + sum_k gamma''_k H_k and G = sum_j gamma'_j T_j
    /// (base coordinates into f0, f1, g0, g1), column by column, eight lanes at a time where possible.
    /// </summary>
    private static unsafe void CombineColumns(nint[] pointers, ulong[] traceGammas, ulong[] compositionGammas, int width, int columns, int start, int count,
        ulong* f0, ulong* f1, ulong* g0, ulong* g1)
    {
        if (!GoldilocksX8.IsSupported)
        {
            // Scalar machines: row by row with unreduced sums beats column-wise reduced arithmetic.
            for (var r = 0; r < count; r++)
            {
                var (f, g) = DeepRow(pointers, traceGammas, compositionGammas, width, columns, start + r);
                f0[r] = f.A0;
                f1[r] = f.A1;
                g0[r] = g.A0;
                g1[r] = g.A1;
            }
            return;
        }
        new Span<ulong>(f0, count).Clear();
        new Span<ulong>(f1, count).Clear();
        new Span<ulong>(g0, count).Clear();
        new Span<ulong>(g1, count).Clear();
        for (var j = 0; j < width; j++)
        {
            var t = (ulong*)pointers[j] + start;
            FieldSpan.MulScalarAdd(f0, traceGammas[4 * j], t, count);
            FieldSpan.MulScalarAdd(f1, traceGammas[4 * j + 1], t, count);
            FieldSpan.MulScalarAdd(g0, traceGammas[4 * j + 2], t, count);
            FieldSpan.MulScalarAdd(g1, traceGammas[4 * j + 3], t, count);
        }
        for (var k = 0; k < columns; k++)
        {
            var h0 = (ulong*)pointers[width + 2 * k] + start;
            var h1 = (ulong*)pointers[width + 2 * k + 1] + start;
            FieldSpan.MulScalarAdd(f0, compositionGammas[4 * k], h0, count);
            FieldSpan.MulScalarAdd(f0, compositionGammas[4 * k + 1], h1, count);
            FieldSpan.MulScalarAdd(f1, compositionGammas[4 * k + 2], h0, count);
            FieldSpan.MulScalarAdd(f1, compositionGammas[4 * k + 3], h1, count);
        }
    }

    private sealed class DeepScratch(int block)
    {
        public readonly ulong[] A1 = new ulong[block];
        public readonly ulong[] A2 = new ulong[block];
        public readonly ulong[] Inv1 = new ulong[block];
        public readonly ulong[] Inv2 = new ulong[block];
        public readonly ulong[] Scratch = new ulong[block];
        public readonly ulong[] F0 = new ulong[block];
        public readonly ulong[] F1 = new ulong[block];
        public readonly ulong[] G0 = new ulong[block];
        public readonly ulong[] G1 = new ulong[block];
    }

    /// <summary>Row i of F = sum_j gamma_j T_j + sum_k gamma''_k H_k and G = sum_j gamma'_j T_j, with one reduction per coordinate.</summary>
    private static unsafe (GoldilocksExt2 F, GoldilocksExt2 G) DeepRow(nint[] pointers, ulong[] traceGammas, ulong[] compositionGammas, int width, int columns, int i)
    {
        var a0 = default(Accumulator);
        var a1 = default(Accumulator);
        var b0 = default(Accumulator);
        var b1 = default(Accumulator);
        fixed (nint* cols = pointers)
        fixed (ulong* tg = traceGammas)
        fixed (ulong* cg = compositionGammas)
        {
            for (var j = 0; j < width; j++)
            {
                var t = ((ulong*)cols[j])[i];
                var g = tg + 4 * j;
                a0.MulAdd(g[0], t);
                a1.MulAdd(g[1], t);
                b0.MulAdd(g[2], t);
                b1.MulAdd(g[3], t);
            }
            for (var k = 0; k < columns; k++)
            {
                var h0 = ((ulong*)cols[width + 2 * k])[i];
                var h1 = ((ulong*)cols[width + 2 * k + 1])[i];
                var g = cg + 4 * k;
                a0.MulAdd(g[0], h0);
                a0.MulAdd(g[1], h1);
                a1.MulAdd(g[2], h0);
                a1.MulAdd(g[3], h1);
            }
        }
        return (new GoldilocksExt2(a0.Reduce(), a1.Reduce()), new GoldilocksExt2(b0.Reduce(), b1.Reduce()));
    }

    /// <summary>Commits, draws a challenge and folds, layer by layer; returns the trees, the committed layers (as cosets, 2F words per row) and the remainder.</summary>
    private (List<MerkleTree> Trees, List<ulong[][]> Layers, GoldilocksExt2[] Remainder) Fri(AirContext ctx, GoldilocksExt2[] evaluations, Transcript transcript)
    {
        var f = ctx.Options.FoldingFactor;
        var inverseRoots = FriFolding.InverseRootPowers(f);
        var inverseF = Goldilocks.Inverse((ulong)f);
        var fastFold = new FastFold(f, inverseRoots);
        var trees = new List<MerkleTree>();
        var layers = new List<ulong[][]>();
        var values = evaluations;
        var offset = ctx.DomainShift;
        for (var layer = 0; layer < ctx.FriLayers; layer++)
        {
            var size = values.Length;
            var cosets = size / f;
            // Row j holds the coset {j + t * size/F}: the F points that fold into one.
            var columns = new ulong[2 * f][];
            for (var t = 0; t < f; t++)
            {
                columns[2 * t] = _backend.Rent(cosets);
                columns[2 * t + 1] = _backend.Rent(cosets);
                for (var j = 0; j < cosets; j++)
                {
                    var v = values[j + t * cosets];
                    columns[2 * t][j] = v.A0;
                    columns[2 * t + 1][j] = v.A1;
                }
            }
            var tree = _backend.Commit(new ColumnRows(columns));
            trees.Add(tree);
            layers.Add(columns);
            transcript.Absorb(tree.Root.Bytes);
            var beta = transcript.DrawExt();

            var folded = new GoldilocksExt2[cosets];
            var omegaInverse = Goldilocks.Inverse(Goldilocks.RootOfUnity(System.Numerics.BitOperations.Log2((uint)size)));
            var offsetInverse = Goldilocks.Inverse(offset);
            const int block = 4096;
            var current = values;
            Parallel.For(0, (cosets + block - 1) / block, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, () => new GoldilocksExt2[2 * f], (b, _, buffer) =>
            {
                var start = b * block;
                var end = Math.Min(cosets, start + block);
                var xInverse = Goldilocks.Mul(offsetInverse, Goldilocks.Pow(omegaInverse, (ulong)start));
                for (var j = start; j < end; j++)
                {
                    for (var t = 0; t < f; t++)
                    {
                        buffer[t] = current[j + t * cosets];
                    }
                    folded[j] = fastFold.Fold(buffer.AsSpan(0, f), buffer.AsSpan(f), xInverse, beta, inverseF);
                    xInverse = Goldilocks.Mul(xInverse, omegaInverse);
                }
                return buffer;
            }, _ => { });
            values = folded;
            offset = Goldilocks.Pow(offset, (ulong)f);
        }

        // Remainder: interpolate the last layer and send its low coefficients; the rest must be zero.
        var remainderSize = ctx.RemainderSize;
        var last = values.Length;
        var a0 = new ulong[last];
        var a1 = new ulong[last];
        for (var i = 0; i < last; i++)
        {
            a0[i] = values[i].A0;
            a1[i] = values[i].A1;
        }
        Ntt.Inverse(a0);
        Ntt.Inverse(a1);
        var remainder = new GoldilocksExt2[remainderSize];
        var offsetInv = Goldilocks.Inverse(offset);
        var factor = 1UL;
        for (var i = 0; i < last; i++)
        {
            var c = new GoldilocksExt2(Goldilocks.Mul(a0[i], factor), Goldilocks.Mul(a1[i], factor));
            factor = Goldilocks.Mul(factor, offsetInv);
            if (i < remainderSize)
            {
                remainder[i] = c;
            }
            else if (!c.IsZero && !ForgeForTests)
            {
                throw new InvalidOperationException("FRI remainder exceeds its degree bound (prover bug)");
            }
        }
        transcript.AbsorbExt(remainder);
        return (trees, layers, remainder);
    }

    private static ulong Grind(byte[] seed, int bits)
    {
        if (bits == 0)
        {
            return 0;
        }
        const ulong chunk = 1 << 14;
        var found = ulong.MaxValue;
        var workers = Environment.ProcessorCount;
        // Workers take chunks in order; the smallest nonce found wins so the result is deterministic.
        for (ulong round = 0; round * chunk * (ulong)workers < MaxPowNonce; round++)
        {
            var baseNonce = round * chunk * (ulong)workers;
            Parallel.For(0, workers, w =>
            {
                var from = baseNonce + (ulong)w * chunk;
                for (var nonce = from; nonce < from + chunk; nonce++)
                {
                    if (nonce >= Interlocked.Read(ref found))
                    {
                        return;
                    }
                    if (Transcript.ProofOfWorkBits(seed, nonce) >= bits)
                    {
                        ulong seen;
                        do
                        {
                            seen = Interlocked.Read(ref found);
                        }
                        while (nonce < seen && Interlocked.CompareExchange(ref found, nonce, seen) != seen);
                        return;
                    }
                }
            });
            if (found != ulong.MaxValue)
            {
                return found;
            }
        }
        throw new InvalidOperationException("no proof-of-work nonce found within the search bound");
    }

    /// <summary>Opens the leaves holding the rows at <paramref name="sortedPositions"/>: each opened row is its leaf's whole group of rows.</summary>
    private static RowOpenings Open(MerkleTree tree, ulong[][] columns, int[] sortedPositions)
    {
        var g = tree.RowsPerLeaf;
        var leaves = Protocol.SortedDistinct(sortedPositions.Select(p => p / g));
        var rows = new ulong[leaves.Length][];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = new ulong[g * columns.Length];
            for (var r = 0; r < g; r++)
            {
                for (var c = 0; c < columns.Length; c++)
                {
                    rows[i][r * columns.Length + c] = columns[c][leaves[i] * g + r];
                }
            }
        }
        return new RowOpenings(rows, tree.Open(leaves));
    }
}
