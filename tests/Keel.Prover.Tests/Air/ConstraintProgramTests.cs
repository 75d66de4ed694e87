using Keel.Core.Field;
using Keel.Prover.Air;

namespace Keel.Prover.Tests.Air;

public class ConstraintProgramTests
{
    [Fact]
    public void Common_subexpressions_and_commuted_operands_share_registers()
    {
        var a = Expr.Cur(0);
        var b = Expr.Cur(1);
        var program = new ConstraintProgram([(a + b) * (b + a), Expr.Cur(0) + Expr.Cur(1)]);
        // cur0, cur1, add, mul: the second constraint reuses the add.
        Assert.Equal(4, program.Instructions.Length);
        Assert.Equal(program.Outputs[1], program.Instructions[program.Outputs[0]].A);
    }

    [Fact]
    public void Degrees_add_under_multiplication_and_count_periodic_columns()
    {
        const long traceDegree = 63;
        long Periodic(int k) => 64 / 8 * 7; // a cycle of 8 over 64 rows
        Assert.Equal(7 * 63, Expr.Cur(0).Pow(7).Degree(traceDegree, Periodic));
        Assert.Equal(7 * 63 + 56, (Expr.Periodic(0) * (Expr.Next(1) + 3).Pow(7)).Degree(traceDegree, Periodic));
        Assert.Equal(63, (Expr.Cur(0) - Expr.PublicInput(0) * 5).Degree(traceDegree, Periodic));
        Assert.Equal(0, (Expr.PublicInput(0) * Expr.Const(5)).Degree(traceDegree, Periodic));
    }

    [Fact]
    public void Degree_of_a_deeply_shared_expression_takes_linear_time()
    {
        // 200 levels each using the previous twice: a tree walk would visit 2^200 nodes.
        var e = Expr.Cur(0);
        for (var k = 0; k < 200; k++)
        {
            e = e + e * Expr.Const(3);
        }
        Assert.Equal(63, e.Degree(63, _ => 0));
        Assert.Equal(7 * 63, (e * e.Pow(6)).Degree(63, _ => 0));
    }

    [Fact]
    public void Block_evaluator_and_extension_evaluator_agree_with_direct_arithmetic()
    {
        // c0 = next0 - cur0 * cur1 - periodic0; c1 = (cur1 + public0)^3 - 7
        var constraints = new[]
        {
            Expr.Next(0) - Expr.Cur(0) * Expr.Cur(1) - Expr.Periodic(0),
            (Expr.Cur(1) + Expr.PublicInput(0)).Pow(3) - 7,
        };
        var program = new ConstraintProgram(constraints);
        const int n = 256;
        var rng = new Random(4);
        var columns = new[] { new ulong[n], new ulong[n] };
        for (var i = 0; i < n; i++)
        {
            columns[0][i] = Goldilocks.Canonicalize((ulong)rng.NextInt64());
            columns[1][i] = Goldilocks.Canonicalize((ulong)rng.NextInt64());
        }
        ulong[] periodic = [11, 22, 33, 44];
        ulong[] publics = [99];
        var evaluator = new BlockEvaluator(program);
        var output = new ulong[2 * BlockEvaluator.BlockRows];
        for (var start = 0; start < n; start += BlockEvaluator.BlockRows)
        {
            evaluator.Evaluate(columns, 1, [periodic], publics, start, BlockEvaluator.BlockRows, output);
            for (var r = 0; r < BlockEvaluator.BlockRows; r++)
            {
                var i = start + r;
                var next0 = columns[0][(i + 1) % n];
                var expected0 = Goldilocks.Sub(Goldilocks.Sub(next0, Goldilocks.Mul(columns[0][i], columns[1][i])), periodic[i % 4]);
                var t = Goldilocks.Add(columns[1][i], 99);
                var expected1 = Goldilocks.Sub(Goldilocks.Mul(Goldilocks.Square(t), t), 7);
                Assert.Equal(expected0, output[r]);
                Assert.Equal(expected1, output[BlockEvaluator.BlockRows + r]);

                var ext = program.EvaluateAt(
                    [GoldilocksExt2.FromBase(columns[0][i]), GoldilocksExt2.FromBase(columns[1][i])],
                    [GoldilocksExt2.FromBase(next0), GoldilocksExt2.Zero],
                    [GoldilocksExt2.FromBase(periodic[i % 4])], publics);
                Assert.Equal(GoldilocksExt2.FromBase(expected0), ext[0]);
                Assert.Equal(GoldilocksExt2.FromBase(expected1), ext[1]);
            }
        }
    }

    [Fact]
    public void Serialization_is_deterministic_and_distinguishes_programs()
    {
        var p1 = new ConstraintProgram([Expr.Next(0) - Expr.Cur(0) - 1]).Serialize();
        var p2 = new ConstraintProgram([Expr.Next(0) - Expr.Cur(0) - 1]).Serialize();
        var p3 = new ConstraintProgram([Expr.Next(0) - Expr.Cur(0) - 2]).Serialize();
        Assert.Equal(p1, p2);
        Assert.NotEqual(p1, p3);
    }

    [Fact]
    public void Negative_integer_constants_are_field_negations()
    {
        var program = new ConstraintProgram([Expr.Cur(0) + (-3)]);
        var value = program.EvaluateAt([GoldilocksExt2.FromBase(3)], [GoldilocksExt2.Zero], [], []);
        Assert.Equal(GoldilocksExt2.Zero, value[0]);
    }
}

public class ConstraintCodegenTests
{
    [Fact]
    public void C_and_solidity_sources_have_one_statement_per_instruction()
    {
        var air = new Keel.Prover.Examples.FibonacciAir(64, 1);
        var program = new ConstraintProgram(air.TransitionConstraints);
        var c = ConstraintCodegen.EmitC(program, "fib_constraints");
        var sol = ConstraintCodegen.EmitSolidity(program, "fibConstraints");
        Assert.Equal(program.Instructions.Length, c.Split('\n').Count(l => l.TrimStart().StartsWith("const gl_t r", StringComparison.Ordinal)));
        Assert.Equal(program.Instructions.Length, sol.Split('\n').Count(l => l.TrimStart().StartsWith("r[", StringComparison.Ordinal)));
        Assert.Contains("NEXT(0)", c);
        Assert.Contains("gl_sub(", c);
        Assert.Contains("out[1] = r", c);
        Assert.Contains("GL2.sub(", sol);
        Assert.Contains("next[1]", sol);
    }
}
