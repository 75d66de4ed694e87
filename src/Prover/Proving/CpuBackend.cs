using Keel.Core.Field;
using Keel.Prover.Air;
using Keel.Prover.Crypto;
using Keel.Prover.Polynomials;
using Keel.Prover.Stark;

namespace Keel.Prover.Proving;

/// <summary>The multi-threaded CPU backend: NTTs from <see cref="Ntt"/>, constraints through <see cref="BlockEvaluator"/>.</summary>
public sealed class CpuBackend(int parallelism = 0) : IProverBackend
{
    public string Name => "cpu";

    public int Parallelism { get; } = parallelism <= 0 ? Environment.ProcessorCount : parallelism;

    /// <summary>Large arrays kept between proofs (bounded); <see cref="BufferPool.Clear"/> gives the memory back.</summary>
    public BufferPool Buffers { get; } = new();

    public ulong[] Rent(int length) => Buffers.Rent(length);

    public void Recycle(IEnumerable<ulong[]?> arrays) => Buffers.Return(arrays);

    public ulong[][] ExtendColumns(ulong[][] columns, int blowup, ulong shift)
    {
        var result = new ulong[columns.Length][];
        for (var c = 0; c < columns.Length; c++)
        {
            // Every word is written by the extension: no need to zero gigabytes first.
            result[c] = Buffers.Rent(columns[c].Length * blowup);
        }
        Ntt.LowDegreeExtendBatch(columns, blowup, shift, result, Parallelism);
        return result;
    }

    public MerkleTree Commit(IRowSource rows) => new(rows, Parallelism);

    public GoldilocksExt2[] EvaluateComposition(AirContext ctx, ulong[][] traceLde, GoldilocksExt2[] transitionCoefficients, GoldilocksExt2[] assertionCoefficients)
    {
        var size = ctx.LdeSize;
        var blowup = ctx.Blowup;
        var n = (ulong)ctx.TraceLength;
        var shift = ctx.DomainShift;
        var omega = ctx.LdeGenerator;
        var result = new GoldilocksExt2[size];

        var periodicLde = new ulong[ctx.Periodic.Count][];
        for (var k = 0; k < periodicLde.Length; k++)
        {
            periodicLde[k] = ctx.Periodic[k].ExtendOnCoset(blowup, shift);
        }

        // x^n on the coset takes only `blowup` values: (s w^i)^n = s^n * (w^n)^(i mod blowup).
        var zInverse = new ulong[blowup];
        var sn = Goldilocks.Pow(shift, n);
        var wn = Goldilocks.Pow(omega, n);
        for (var i = 0; i < blowup; i++)
        {
            zInverse[i] = Goldilocks.Sub(Goldilocks.Mul(sn, Goldilocks.Pow(wn, (ulong)i)), 1);
        }
        Goldilocks.BatchInverse(zInverse, zInverse);
        var lastRow = Goldilocks.Pow(ctx.TraceGenerator, n - 1);
        var rowPoints = new ulong[ctx.AssertionRows.Length];
        for (var i = 0; i < rowPoints.Length; i++)
        {
            rowPoints[i] = Goldilocks.Pow(ctx.TraceGenerator, (ulong)ctx.AssertionRows[i]);
        }
        // Assertions on one row share their divisor: sum_a beta_a (T_a(x) - v_a) / (x - g^row) is
        // (sum_a beta_a T_a(x) - sum_a beta_a v_a) / (x - g^row), one division per row group.
        var assertions = ctx.Air.Assertions;
        var groups = new AssertionGroup[rowPoints.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            var members = Enumerable.Range(0, assertions.Count).Where(a => assertions[a].Row == ctx.AssertionRows[g]).ToArray();
            var constant0 = 0UL;
            var constant1 = 0UL;
            foreach (var a in members)
            {
                constant0 = Goldilocks.Add(constant0, Goldilocks.Mul(assertionCoefficients[a].A0, assertions[a].Value));
                constant1 = Goldilocks.Add(constant1, Goldilocks.Mul(assertionCoefficients[a].A1, assertions[a].Value));
            }
            groups[g] = new AssertionGroup(
                [.. members.Select(a => traceLde[assertions[a].Column])],
                [.. members.Select(a => assertionCoefficients[a].A0)],
                [.. members.Select(a => assertionCoefficients[a].A1)],
                constant0,
                constant1);
        }
        var constraintCount = ctx.Program.ConstraintCount;
        var blockRows = Math.Min(BlockEvaluator.BlockRows, size);
        var publics = ctx.Air.PublicInputs;
        var alpha0 = new ulong[constraintCount];
        var alpha1 = new ulong[constraintCount];
        for (var c = 0; c < constraintCount; c++)
        {
            alpha0[c] = transitionCoefficients[c].A0;
            alpha1[c] = transitionCoefficients[c].A1;
        }

        // Rows per work item: several evaluator blocks, so that the batch inversions of the
        // assertion divisors (eight vector chains, eight scalar inversions) cover many rows.
        var superRows = Math.Min(SuperBlockRows, size);
        var superBlocks = size / superRows;

        // Pinned for the whole evaluation so that column loads read the LDE in place.
        var handles = new System.Runtime.InteropServices.GCHandle[traceLde.Length];
        var pinned = new nint[traceLde.Length];
        try
        {
            for (var c = 0; c < handles.Length; c++)
            {
                handles[c] = System.Runtime.InteropServices.GCHandle.Alloc(traceLde[c], System.Runtime.InteropServices.GCHandleType.Pinned);
                pinned[c] = handles[c].AddrOfPinnedObject();
            }
            EvaluateBlocks(pinned);
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

        void EvaluateBlocks(nint[] pinned) => Parallel.For(0, superBlocks, new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
            () => new Scratch(ctx.Program),
            (block, _, s) =>
            {
                var start = block * superRows;
                var x = Goldilocks.Mul(shift, Goldilocks.Pow(omega, (ulong)start));
                for (var r = 0; r < superRows; r++)
                {
                    s.X[r] = x;
                    // (x - g^(n-1)) / (x^n - 1): the transition constraints' divisor inverse.
                    s.Divisor[r] = Goldilocks.Mul(Goldilocks.Sub(x, lastRow), zInverse[(start + r) & (blowup - 1)]);
                    x = Goldilocks.Mul(x, omega);
                }
                if (constraintCount > 0)
                {
                    for (var sub = 0; sub < superRows; sub += blockRows)
                    {
                        s.Evaluator.EvaluateCombined(traceLde, blowup, periodicLde, publics, start + sub, blockRows, alpha0, alpha1,
                            s.Sum0.AsSpan(sub, blockRows), s.Sum1.AsSpan(sub, blockRows), pinned);
                    }
                }
                else
                {
                    Array.Clear(s.Sum0);
                    Array.Clear(s.Sum1);
                }
                unsafe
                {
                    fixed (ulong* sum0 = s.Sum0)
                    fixed (ulong* sum1 = s.Sum1)
                    fixed (ulong* divisor = s.Divisor)
                    fixed (ulong* g0 = s.Group0)
                    fixed (ulong* g1 = s.Group1)
                    fixed (ulong* inverse = s.RowInverse)
                    fixed (ulong* batch = s.BatchScratch)
                    {
                        FieldSpan.Mul(sum0, sum0, divisor, superRows);
                        FieldSpan.Mul(sum1, sum1, divisor, superRows);
                        for (var g = 0; g < groups.Length; g++)
                        {
                            var group = groups[g];
                            for (var r = 0; r < superRows; r++)
                            {
                                inverse[r] = Goldilocks.Sub(s.X[r], rowPoints[g]);
                            }
                            FieldSpan.BatchInverse(inverse, superRows, batch);
                            new Span<ulong>(g0, superRows).Clear();
                            new Span<ulong>(g1, superRows).Clear();
                            for (var a = 0; a < group.Columns.Length; a++)
                            {
                                fixed (ulong* column = group.Columns[a])
                                {
                                    FieldSpan.MulScalarAdd(g0, group.Beta0[a], column + start, superRows);
                                    FieldSpan.MulScalarAdd(g1, group.Beta1[a], column + start, superRows);
                                }
                            }
                            FieldSpan.SubScalar(g0, group.Constant0, superRows);
                            FieldSpan.SubScalar(g1, group.Constant1, superRows);
                            FieldSpan.MulAdd(sum0, g0, inverse, superRows);
                            FieldSpan.MulAdd(sum1, g1, inverse, superRows);
                        }
                    }
                }
                for (var r = 0; r < superRows; r++)
                {
                    result[start + r] = new GoldilocksExt2(s.Sum0[r], s.Sum1[r]);
                }
                return s;
            },
            _ => { });
    }

    private sealed record AssertionGroup(ulong[][] Columns, ulong[] Beta0, ulong[] Beta1, ulong Constant0, ulong Constant1);

    /// <summary>Rows per composition work item (a multiple of <see cref="BlockEvaluator.BlockRows"/>).</summary>
    private const int SuperBlockRows = 1024;

    private sealed class Scratch(ConstraintProgram program)
    {
        public readonly BlockEvaluator Evaluator = new(program);
        public readonly ulong[] Sum0 = new ulong[SuperBlockRows];
        public readonly ulong[] Sum1 = new ulong[SuperBlockRows];
        public readonly ulong[] X = new ulong[SuperBlockRows];
        public readonly ulong[] Divisor = new ulong[SuperBlockRows];
        public readonly ulong[] RowInverse = new ulong[SuperBlockRows];
        public readonly ulong[] BatchScratch = new ulong[SuperBlockRows];
        public readonly ulong[] Group0 = new ulong[SuperBlockRows];
        public readonly ulong[] Group1 = new ulong[SuperBlockRows];
    }
}
