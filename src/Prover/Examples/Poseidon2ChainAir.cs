using Keel.Core.Field;
using Keel.Core.Hashing;
using Keel.Prover.Air;

namespace Keel.Prover.Examples;

/// <summary>
/// A chain of Poseidon2 width-8 permutations (P3new): state_(k+1) = Permute(state_k). Eight
/// columns hold the state; each permutation takes a 32-row cycle: row 0 its input, transitions
/// 0..29 its 30 rounds (transition 0 also applies the initial external layer), row 30 its output,
/// row 31 a copy which is also the next permutation's input. Round kinds and round constants are
/// periodic columns. Public inputs: the 8 input elements, then the 8 output elements.
/// </summary>
public sealed class Poseidon2ChainAir : IAir
{
    public const string AirName = "poseidon2-chain-v1";
    public const int Width = 8;
    public const int CycleRows = 32;

    // Periodic column indices: four round-kind selectors, then one round constant per lane.
    private const int InitialRound = 0;
    private const int FullRound = 1;
    private const int PartialRound = 2;
    private const int Copy = 3;
    private const int RoundConstant0 = 4;

    public Poseidon2ChainAir(int permutations, ulong[] input, ulong[] output)
    {
        if (permutations < 1 || (permutations & (permutations - 1)) != 0)
        {
            throw new AirDefinitionException("the chain length must be a power of two");
        }
        if (input.Length != Width || output.Length != Width)
        {
            throw new AirDefinitionException("input and output are 8 elements each");
        }
        Permutations = permutations;
        TraceLength = permutations * CycleRows;
        PublicInputs = [.. input, .. output];
        var assertions = new List<Assertion>();
        for (var c = 0; c < Width; c++)
        {
            assertions.Add(new Assertion(c, 0, input[c]));
            assertions.Add(new Assertion(c, TraceLength - 2, output[c]));
        }
        Assertions = assertions;
        PeriodicColumns = BuildPeriodicColumns();
        TransitionConstraints = BuildConstraints();
    }

    public int Permutations { get; }
    public string Name => AirName;
    public int TraceWidth => Width;
    public int TraceLength { get; }
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns { get; }

    private static Poseidon2Permutation P => Poseidon2.Width8;

    private static ulong[][] BuildPeriodicColumns()
    {
        var columns = new ulong[RoundConstant0 + Width][];
        for (var k = 0; k < columns.Length; k++)
        {
            columns[k] = new ulong[CycleRows];
        }
        var half = Poseidon2Permutation.HalfFullRounds;
        for (var r = 0; r < CycleRows; r++)
        {
            if (r < half)
            {
                columns[r == 0 ? InitialRound : FullRound][r] = 1;
                for (var c = 0; c < Width; c++)
                {
                    columns[RoundConstant0 + c][r] = P.ExternalInitialConstants[r * Width + c];
                }
            }
            else if (r < half + Poseidon2Permutation.PartialRounds)
            {
                columns[PartialRound][r] = 1;
                columns[RoundConstant0][r] = P.InternalConstants[r - half];
            }
            else if (r < 2 * half + Poseidon2Permutation.PartialRounds)
            {
                columns[FullRound][r] = 1;
                var f = r - half - Poseidon2Permutation.PartialRounds;
                for (var c = 0; c < Width; c++)
                {
                    columns[RoundConstant0 + c][r] = P.ExternalFinalConstants[f * Width + c];
                }
            }
            else
            {
                columns[Copy][r] = 1;
            }
        }
        return columns;
    }

    private static Expr[] ExternalLayer(Expr[] x)
    {
        var y = new Expr[Width];
        for (var b = 0; b < Width; b += 4)
        {
            // Plonky3's MDSMat4 rows [2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2].
            var (x0, x1, x2, x3) = (x[b], x[b + 1], x[b + 2], x[b + 3]);
            y[b] = 2 * x0 + 3 * x1 + x2 + x3;
            y[b + 1] = x0 + 2 * x1 + 3 * x2 + x3;
            y[b + 2] = x0 + x1 + 2 * x2 + 3 * x3;
            y[b + 3] = 3 * x0 + x1 + x2 + 2 * x3;
        }
        var sums = new Expr[4];
        for (var k = 0; k < 4; k++)
        {
            sums[k] = y[k];
            for (var b = 4; b < Width; b += 4)
            {
                sums[k] = sums[k] + y[b + k];
            }
        }
        var result = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            result[i] = y[i] + sums[i & 3];
        }
        return result;
    }

    private static Expr[] InternalLayer(Expr[] x)
    {
        var sum = x[0];
        for (var i = 1; i < Width; i++)
        {
            sum = sum + x[i];
        }
        var result = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            result[i] = Expr.Const(P.InternalDiagonal[i]) * x[i] + sum;
        }
        return result;
    }

    private static Expr[] FullRoundOf(Expr[] x)
    {
        var s = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            s[i] = (x[i] + Expr.Periodic(RoundConstant0 + i)).Pow(7);
        }
        return ExternalLayer(s);
    }

    private static Expr[] BuildConstraints()
    {
        var cur = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            cur[i] = Expr.Cur(i);
        }
        var initial = FullRoundOf(ExternalLayer(cur));
        var full = FullRoundOf(cur);
        var partialInput = (Expr[])cur.Clone();
        partialInput[0] = (cur[0] + Expr.Periodic(RoundConstant0)).Pow(7);
        var partial = InternalLayer(partialInput);
        var constraints = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            var expected = Expr.Periodic(InitialRound) * initial[i] + Expr.Periodic(FullRound) * full[i]
                + Expr.Periodic(PartialRound) * partial[i] + Expr.Periodic(Copy) * cur[i];
            constraints[i] = Expr.Next(i) - expected;
        }
        return constraints;
    }

    /// <summary>The trace of a chain of <paramref name="permutations"/> permutations from <paramref name="input"/>, and its output.</summary>
    public static (ulong[][] Trace, ulong[] Output) BuildTrace(int permutations, ReadOnlySpan<ulong> input)
    {
        var n = permutations * CycleRows;
        var trace = new ulong[Width][];
        for (var c = 0; c < Width; c++)
        {
            trace[c] = new ulong[n];
        }
        Span<ulong> state = stackalloc ulong[Width];
        input.CopyTo(state);
        var half = Poseidon2Permutation.HalfFullRounds;
        for (var k = 0; k < permutations; k++)
        {
            for (var r = 0; r < CycleRows; r++)
            {
                var row = k * CycleRows + r;
                for (var c = 0; c < Width; c++)
                {
                    trace[c][row] = state[c];
                }
                if (r == 0)
                {
                    P.ExternalLayer(state);
                }
                if (r < half || (r >= half + Poseidon2Permutation.PartialRounds && r < 2 * half + Poseidon2Permutation.PartialRounds))
                {
                    var rc = r < half
                        ? P.ExternalInitialConstants.Slice(r * Width, Width)
                        : P.ExternalFinalConstants.Slice((r - half - Poseidon2Permutation.PartialRounds) * Width, Width);
                    for (var c = 0; c < Width; c++)
                    {
                        state[c] = Goldilocks.Pow7(Goldilocks.Add(state[c], rc[c]));
                    }
                    P.ExternalLayer(state);
                }
                else if (r < half + Poseidon2Permutation.PartialRounds)
                {
                    state[0] = Goldilocks.Pow7(Goldilocks.Add(state[0], P.InternalConstants[r - half]));
                    P.InternalLayer(state);
                }
            }
        }
        var output = new ulong[Width];
        for (var c = 0; c < Width; c++)
        {
            output[c] = trace[c][n - 2];
        }
        return (trace, output);
    }
}
