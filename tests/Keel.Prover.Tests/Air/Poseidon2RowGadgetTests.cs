using Keel.Core;
using Keel.Core.Field;
using Keel.Core.Hashing;
using Keel.Prover.Air;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Verification;

namespace Keel.Prover.Tests.Air;

public class Poseidon2RowGadgetTests
{
    private static readonly Address Prover = Address.Parse("0x2222222222222222222222222222222222222222");

    private static ulong[] RandomState(Random rng, int width)
    {
        var state = new ulong[width];
        for (var i = 0; i < width; i++)
        {
            state[i] = Goldilocks.Canonicalize((ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40));
        }
        return state;
    }

    private static ulong[][] NewTrace(int columns, int rows)
    {
        var trace = new ulong[columns][];
        for (var c = 0; c < columns; c++)
        {
            trace[c] = new ulong[rows];
        }
        return trace;
    }

    /// <summary>Every constraint of <paramref name="program"/> at one row (next row = row + 1 mod n).</summary>
    private static GoldilocksExt2[] EvaluateRow(ConstraintProgram program, ulong[][] trace, int row, ulong[]? periodic = null)
    {
        var n = trace[0].Length;
        var cur = trace.Select(c => GoldilocksExt2.FromBase(c[row])).ToArray();
        var next = trace.Select(c => GoldilocksExt2.FromBase(c[(row + 1) % n])).ToArray();
        var p = (periodic ?? []).Select(GoldilocksExt2.FromBase).ToArray();
        return program.EvaluateAt(cur, next, p, []);
    }

    [Theory]
    [InlineData(8, 94)]
    [InlineData(12, 130)]
    public void Column_and_constraint_counts_fit_the_budget(int width, int columns)
    {
        var gadget = new Poseidon2RowGadget(width);
        Assert.Equal(width, gadget.Width);
        Assert.Equal(columns, gadget.Columns);
        Assert.Equal(8 * width + 22, gadget.Constraints(0).Count);
        Assert.Equal(gadget.ConstraintCount, gadget.Constraints(0).Count);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(-1)]
    public void Other_widths_are_refused(int width)
    {
        Assert.Throws<AirDefinitionException>(() => new Poseidon2RowGadget(width));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    public void Fill_output_equals_the_permutation(int width)
    {
        var gadget = new Poseidon2RowGadget(width);
        var rng = new Random(width);
        var trace = NewTrace(gadget.Columns + 5, 4);
        var output = new ulong[width];
        for (var k = 0; k < 20; k++)
        {
            var input = k == 0 ? new ulong[width] : RandomState(rng, width);
            if (k == 1)
            {
                Array.Fill(input, Goldilocks.Modulus - 1);
            }
            gadget.Fill(trace, k % 4, 5, input, output);
            var expected = (ulong[])input.Clone();
            Poseidon2.ForWidth(width).Permute(expected);
            Assert.Equal(expected, output);
            for (var i = 0; i < width; i++)
            {
                Assert.Equal(input[i], trace[Poseidon2RowGadget.InputColumn(5, i)][k % 4]);
                Assert.Equal(expected[i], trace[Poseidon2RowGadget.OutputColumn(5, i)][k % 4]);
            }
        }
    }

    [Fact]
    public void Fill_refuses_bad_arguments()
    {
        var gadget = new Poseidon2RowGadget(8);
        var trace = NewTrace(94, 2);
        var output = new ulong[8];
        Assert.Throws<ArgumentException>(() => gadget.Fill(trace, 0, 0, new ulong[12], output));
        Assert.Throws<ArgumentException>(() => gadget.Fill(trace, 0, 1, new ulong[8], output));
        Assert.Throws<ArgumentOutOfRangeException>(() => gadget.Fill(trace, 2, 0, new ulong[8], output));
        var bad = new ulong[8];
        bad[3] = Goldilocks.Modulus;
        Assert.Throws<NonCanonicalFieldElementException>(() => gadget.Fill(trace, 0, 0, bad, output));
        Assert.Throws<AirDefinitionException>(() => gadget.Output(0, 8));
        Assert.Throws<AirDefinitionException>(() => gadget.Constraints(-1));
    }

    [Theory]
    [InlineData(8, 0)]
    [InlineData(8, 3)]
    [InlineData(12, 0)]
    [InlineData(12, 5)]
    public void Constraints_vanish_on_filled_rows_and_any_changed_cell_breaks_one(int width, int first)
    {
        var gadget = new Poseidon2RowGadget(width);
        var program = new ConstraintProgram(gadget.Constraints(first));
        var rng = new Random(100 + width + first);
        var trace = NewTrace(first + gadget.Columns, 2);
        var output = new ulong[width];
        gadget.Fill(trace, 0, first, RandomState(rng, width), output);
        gadget.Fill(trace, 1, first, RandomState(rng, width), output);
        for (var row = 0; row < 2; row++)
        {
            Assert.All(EvaluateRow(program, trace, row), v => Assert.Equal(GoldilocksExt2.Zero, v));
        }
        for (var i = 0; i < width; i++)
        {
            // Output() reads the row's output (and the next row's with next: true).
            var outputProgram = new ConstraintProgram([gadget.Output(first, i), gadget.Output(first, i, next: true)]);
            var values = EvaluateRow(outputProgram, trace, 0);
            Assert.Equal(GoldilocksExt2.FromBase(trace[Poseidon2RowGadget.OutputColumn(first, i)][0]), values[0]);
            Assert.Equal(GoldilocksExt2.FromBase(output[i]), values[1]);
        }
        for (var c = first; c < first + gadget.Columns; c++)
        {
            var saved = trace[c][0];
            trace[c][0] = Goldilocks.Add(saved, 1 + (ulong)rng.Next(1000));
            Assert.Contains(EvaluateRow(program, trace, 0), v => v != GoldilocksExt2.Zero);
            trace[c][0] = saved;
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    public void Constraints_have_degree_7_read_only_the_gadget_columns_and_a_selector_multiplies(int width)
    {
        var gadget = new Poseidon2RowGadget(width);
        const int first = 9;
        foreach (var c in gadget.Constraints(first))
        {
            Assert.Equal(Poseidon2RowGadget.ConstraintDegree, c.Degree(1, _ => 0));
        }
        foreach (var c in gadget.Constraints(first, Expr.Periodic(0)))
        {
            Assert.Equal(8, c.Degree(1, _ => 1));
        }
        var program = new ConstraintProgram(gadget.Constraints(first));
        foreach (var ins in program.Instructions)
        {
            Assert.NotEqual(OpCode.LoadNext, ins.Op);
            if (ins.Op == OpCode.LoadCur)
            {
                Assert.InRange(ins.A, first, first + gadget.Columns - 1);
            }
        }
        Assert.InRange(program.Instructions.Length, 1, width == 8 ? 1600 : 2300);
    }

    [Fact]
    public void Both_widths_share_input_and_output_columns_and_width_8_is_a_prefix()
    {
        var g8 = new Poseidon2RowGadget(8);
        var g12 = new Poseidon2RowGadget(12);
        var p8 = new ConstraintProgram(g8.Constraints(2));
        var used = p8.Instructions.ToArray().Where(i => i.Op == OpCode.LoadCur).Select(i => i.A).ToHashSet();
        Assert.Equal(Enumerable.Range(2, 94).ToHashSet(), used);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(((ColumnExpr)g8.Output(2, i)).Column, ((ColumnExpr)g12.Output(2, i)).Column);
        }
    }

    /// <summary>A chain: row k + 1's input is row k's output; row 0's input and the last row's input are asserted.</summary>
    private sealed class RowChainAir : IAir
    {
        public RowChainAir(int width, int rows, ulong[] input, ulong[] last)
        {
            var gadget = new Poseidon2RowGadget(width);
            Name = $"test-poseidon2-row-chain{width}";
            TraceWidth = gadget.Columns;
            TraceLength = rows;
            PublicInputs = [.. input, .. last];
            var constraints = new List<Expr>(gadget.Constraints(0));
            var assertions = new List<Assertion>();
            for (var i = 0; i < width; i++)
            {
                constraints.Add(Expr.Next(Poseidon2RowGadget.InputColumn(0, i)) - gadget.Output(0, i));
                assertions.Add(new Assertion(Poseidon2RowGadget.InputColumn(0, i), 0, input[i]));
                assertions.Add(new Assertion(Poseidon2RowGadget.InputColumn(0, i), rows - 1, last[i]));
            }
            TransitionConstraints = constraints;
            Assertions = assertions;
        }

        public string Name { get; }
        public int TraceWidth { get; }
        public int TraceLength { get; }
        public IReadOnlyList<ulong> PublicInputs { get; }
        public IReadOnlyList<Expr> TransitionConstraints { get; }
        public IReadOnlyList<Assertion> Assertions { get; }
        public IReadOnlyList<ulong[]> PeriodicColumns { get; } = [];

        public static (ulong[][] Trace, ulong[] Last) Build(int width, int rows, ulong[] input)
        {
            var gadget = new Poseidon2RowGadget(width);
            var trace = NewTrace(gadget.Columns, rows);
            var state = (ulong[])input.Clone();
            var output = new ulong[width];
            for (var r = 0; r < rows; r++)
            {
                gadget.Fill(trace, r, 0, state, output);
                if (r < rows - 1)
                {
                    output.CopyTo(state, 0);
                }
            }
            return (trace, state);
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    public void Chain_of_64_permutations_proves_and_verifies_and_a_wrong_cell_is_refused(int width)
    {
        const int rows = 64;
        var input = RandomState(new Random(7 * width), width);
        var (trace, last) = RowChainAir.Build(width, rows, input);
        var expected = (ulong[])input.Clone();
        for (var k = 0; k < rows - 1; k++)
        {
            Poseidon2.ForWidth(width).Permute(expected);
        }
        Assert.Equal(expected, last);

        var air = new RowChainAir(width, rows, input, last);
        Assert.Equal(6, new AirContext(air, ProofOptions.Default).CompositionColumns); // degree 7: the quotient needs 6
        var proof = new StarkProver().Prove(air, trace, Prover).ToBytes();
        StarkVerifier.Verify(air, proof, Prover);

        var wrong = (ulong[])last.Clone();
        wrong[width - 1] ^= 1;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new RowChainAir(width, rows, input, wrong), proof, Prover));

        // One wrong cell in a middle row (a partial-round S-box output, then an intermediate full-round state).
        foreach (var column in new[] { 4 * width + 20, 2 * width + 1 })
        {
            var bad = trace.Select(c => (ulong[])c.Clone()).ToArray();
            bad[column][rows / 2] = Goldilocks.Add(bad[column][rows / 2], 1);
            Assert.Throws<TraceException>(() => new StarkProver().Prove(air, bad, Prover));
        }
    }

    /// <summary>
    /// Width-12 rows (even) and width-8 rows (odd) in one set of columns under complementary
    /// periodic selectors; each row's input starts with the previous row's 4-element digest.
    /// </summary>
    private sealed class MixedAir : IAir
    {
        public const int Rows = 32;

        public MixedAir(ulong[] firstInput, ulong[] digest)
        {
            var g8 = new Poseidon2RowGadget(8);
            var g12 = new Poseidon2RowGadget(12);
            TraceWidth = g12.Columns;
            PublicInputs = [.. firstInput, .. digest];
            var wide = Expr.Periodic(0);
            var constraints = new List<Expr>(g12.Constraints(0, wide));
            constraints.AddRange(g8.Constraints(0, 1 - wide));
            var assertions = new List<Assertion>();
            for (var i = 0; i < 12; i++)
            {
                assertions.Add(new Assertion(Poseidon2RowGadget.InputColumn(0, i), 0, firstInput[i]));
            }
            for (var i = 0; i < Poseidon2.DigestElements; i++)
            {
                // The same output column for both widths: one chaining constraint per lane.
                constraints.Add(Expr.Next(Poseidon2RowGadget.InputColumn(0, i)) - g12.Output(0, i));
                assertions.Add(new Assertion(Poseidon2RowGadget.InputColumn(0, i), Rows - 1, digest[i]));
            }
            TransitionConstraints = constraints;
            Assertions = assertions;
        }

        public string Name => "test-poseidon2-row-mixed";
        public int TraceWidth { get; }
        public int TraceLength => Rows;
        public IReadOnlyList<ulong> PublicInputs { get; }
        public IReadOnlyList<Expr> TransitionConstraints { get; }
        public IReadOnlyList<Assertion> Assertions { get; }
        public IReadOnlyList<ulong[]> PeriodicColumns { get; } = [[1, 0]];

        public static (ulong[][] Trace, ulong[] Digest) Build(ulong[] firstInput, Random rng)
        {
            var g8 = new Poseidon2RowGadget(8);
            var g12 = new Poseidon2RowGadget(12);
            var trace = NewTrace(g12.Columns, Rows);
            var digest = new ulong[Poseidon2.DigestElements];
            for (var r = 0; r < Rows; r++)
            {
                var width = r % 2 == 0 ? 12 : 8;
                var input = r == 0 ? firstInput : RandomState(rng, width);
                if (r > 0)
                {
                    digest.CopyTo(input, 0);
                }
                var output = new ulong[width];
                (width == 12 ? g12 : g8).Fill(trace, r, 0, input, output);
                if (r < Rows - 1)
                {
                    output.AsSpan(0, digest.Length).CopyTo(digest);
                }
            }
            return (trace, digest);
        }
    }

    [Fact]
    public void Widths_8_and_12_share_columns_under_selectors_in_one_proof()
    {
        var rng = new Random(812);
        var firstInput = RandomState(rng, 12);
        var (trace, digest) = MixedAir.Build(firstInput, rng);
        var air = new MixedAir(firstInput, digest);
        var proof = new StarkProver().Prove(air, trace, Prover).ToBytes();
        StarkVerifier.Verify(air, proof, Prover);

        // A width-8 row filled as if it were width 12 (wrong permutation for its selector) is refused.
        var bad = trace.Select(c => (ulong[])c.Clone()).ToArray();
        var input = Enumerable.Range(0, 8).Select(i => bad[i][5]).Concat(new ulong[4]).ToArray();
        new Poseidon2RowGadget(12).Fill(bad, 5, 0, input, new ulong[12]);
        Assert.Throws<TraceException>(() => new StarkProver().Prove(air, bad, Prover));
    }

    [Fact]
    public void Instruction_counts_stay_small()
    {
        // The composition evaluator runs every instruction at every point of the LDE; these bounds
        // catch a regression to unshared trees or per-round dense linear combinations (2351 and 3390).
        var p8 = new ConstraintProgram(new Poseidon2RowGadget(8).Constraints(0));
        var p12 = new ConstraintProgram(new Poseidon2RowGadget(12).Constraints(0));
        Assert.True(p8.Instructions.Length < p12.Instructions.Length);
        Assert.InRange(p8.Instructions.Length, 1000, 1600);
        Assert.InRange(p12.Instructions.Length, 1500, 2300);
    }
}
