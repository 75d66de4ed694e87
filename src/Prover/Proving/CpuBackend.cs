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
        var assertions = ctx.Air.Assertions;
        var assertionGroup = new int[assertions.Count];
        for (var a = 0; a < assertions.Count; a++)
        {
            assertionGroup[a] = Array.IndexOf(ctx.AssertionRows, assertions[a].Row);
        }
        var constraintCount = ctx.Program.ConstraintCount;
        var blockRows = Math.Min(BlockEvaluator.BlockRows, size);
        const int stride = BlockEvaluator.BlockRows;
        var blocks = size / blockRows;
        var publics = ctx.Air.PublicInputs;
        var alpha0 = new ulong[constraintCount];
        var alpha1 = new ulong[constraintCount];
        for (var c = 0; c < constraintCount; c++)
        {
            alpha0[c] = transitionCoefficients[c].A0;
            alpha1[c] = transitionCoefficients[c].A1;
        }
        var assertionColumns = new ulong[assertions.Count][];
        for (var a = 0; a < assertions.Count; a++)
        {
            assertionColumns[a] = traceLde[assertions[a].Column];
        }

        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
            () => new Scratch(ctx.Program, rowPoints.Length),
            (block, _, s) =>
            {
                var start = block * blockRows;
                if (constraintCount > 0)
                {
                    s.Evaluator.EvaluateCombined(traceLde, blowup, periodicLde, publics, start, blockRows, alpha0, alpha1, s.Sum0, s.Sum1);
                }
                // Domain points of the block, then 1/(x - g^row) for each asserted row by one batch inversion.
                var x = Goldilocks.Mul(shift, Goldilocks.Pow(omega, (ulong)start));
                for (var r = 0; r < blockRows; r++)
                {
                    s.X[r] = x;
                    x = Goldilocks.Mul(x, omega);
                }
                for (var g = 0; g < rowPoints.Length; g++)
                {
                    var span = s.RowInverses.AsSpan(g * stride, blockRows);
                    for (var r = 0; r < blockRows; r++)
                    {
                        span[r] = Goldilocks.Sub(s.X[r], rowPoints[g]);
                    }
                    Goldilocks.BatchInverse(span, span);
                }
                for (var r = 0; r < blockRows; r++)
                {
                    var i = start + r;
                    var divisorInverse = Goldilocks.Mul(Goldilocks.Sub(s.X[r], lastRow), zInverse[i & (blowup - 1)]);
                    var acc0 = default(Accumulator);
                    var acc1 = default(Accumulator);
                    if (constraintCount > 0)
                    {
                        acc0.MulAdd(s.Sum0[r], divisorInverse);
                        acc1.MulAdd(s.Sum1[r], divisorInverse);
                    }
                    for (var a = 0; a < assertions.Count; a++)
                    {
                        var numerator = Goldilocks.Sub(assertionColumns[a][i], assertions[a].Value);
                        var quotient = Goldilocks.Mul(numerator, s.RowInverses[assertionGroup[a] * stride + r]);
                        var beta = assertionCoefficients[a];
                        acc0.MulAdd(beta.A0, quotient);
                        acc1.MulAdd(beta.A1, quotient);
                    }
                    result[i] = new GoldilocksExt2(acc0.Reduce(), acc1.Reduce());
                }
                return s;
            },
            _ => { });
        return result;
    }

    private sealed class Scratch(ConstraintProgram program, int rowGroups)
    {
        public readonly BlockEvaluator Evaluator = new(program);
        public readonly ulong[] Sum0 = new ulong[BlockEvaluator.BlockRows];
        public readonly ulong[] Sum1 = new ulong[BlockEvaluator.BlockRows];
        public readonly ulong[] X = new ulong[BlockEvaluator.BlockRows];
        public readonly ulong[] RowInverses = new ulong[Math.Max(1, rowGroups) * BlockEvaluator.BlockRows];
    }
}
