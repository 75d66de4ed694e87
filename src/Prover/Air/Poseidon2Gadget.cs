using Keel.Core.Field;
using Keel.Core.Hashing;

namespace Keel.Prover.Air;

/// <summary>
/// One Poseidon2 permutation (P3new, width 8 or 12) spread over a 32-row cycle, for AIRs to embed: row 0
/// holds the input, transition r (0..29) applies round r (transition 0 also applies the initial
/// external layer), row 30 holds the output; transitions 30 and 31 are left to the embedding AIR.
/// The round kind and round constants are periodic columns; the constraint for lane i is
/// active * next[i] = initial * R_init(cur)[i] + full * R_full(cur)[i] + partial * R_part(cur)[i] + copy * cur[i],
/// of degree 8 in trace terms (x^7 times a selector): it needs blowup 8 and 7 composition columns.
/// </summary>
public sealed class Poseidon2Gadget
{
    public const int CycleRows = 32;

    /// <summary>Periodic selector columns: initial, full, partial, copy, active; the round constants (one per lane) follow.</summary>
    public const int SelectorColumns = 5;

    private const int Initial = 0;
    private const int Full = 1;
    private const int Partial = 2;
    private const int CopyRow = 3;
    private const int Active = 4;
    private const int RoundConstant0 = 5;

    private readonly int _periodicBase;
    private readonly bool _copyAtRow31;

    /// <param name="periodicBase">index of the gadget's first periodic column in the AIR's list</param>
    /// <param name="copyAtRow31">true: transition 31 also copies (a plain chain); false: row 31's transition is the embedding AIR's</param>
    /// <param name="width">8 or 12</param>
    public Poseidon2Gadget(int periodicBase, bool copyAtRow31, int width = 8)
    {
        if (width is not (8 or 12))
        {
            throw new AirDefinitionException("the Poseidon2 gadget has widths 8 and 12");
        }
        _periodicBase = periodicBase;
        _copyAtRow31 = copyAtRow31;
        Width = width;
        P = Poseidon2.ForWidth(width);
    }

    public int Width { get; }

    /// <summary>Periodic columns the gadget adds: the selectors, then one round constant per lane.</summary>
    public int PeriodicColumnCount => SelectorColumns + Width;

    private Poseidon2Permutation P { get; }

    public static bool IsFullRound(int r) => r < Poseidon2Permutation.HalfFullRounds
        || (r >= Poseidon2Permutation.HalfFullRounds + Poseidon2Permutation.PartialRounds && r < 2 * Poseidon2Permutation.HalfFullRounds + Poseidon2Permutation.PartialRounds);

    public static bool IsPartialRound(int r) => r >= Poseidon2Permutation.HalfFullRounds && r < Poseidon2Permutation.HalfFullRounds + Poseidon2Permutation.PartialRounds;

    /// <summary>The gadget's periodic columns (cycle 32), to append to the AIR's list at periodicBase.</summary>
    public ulong[][] PeriodicColumns()
    {
        var columns = new ulong[PeriodicColumnCount][];
        for (var k = 0; k < columns.Length; k++)
        {
            columns[k] = new ulong[CycleRows];
        }
        var half = Poseidon2Permutation.HalfFullRounds;
        for (var r = 0; r < CycleRows; r++)
        {
            if (IsFullRound(r))
            {
                columns[r == 0 ? Initial : Full][r] = 1;
                var rc = r < half
                    ? P.ExternalInitialConstants.Slice(r * Width, Width)
                    : P.ExternalFinalConstants.Slice((r - half - Poseidon2Permutation.PartialRounds) * Width, Width);
                for (var c = 0; c < Width; c++)
                {
                    columns[RoundConstant0 + c][r] = rc[c];
                }
            }
            else if (IsPartialRound(r))
            {
                columns[Partial][r] = 1;
                columns[RoundConstant0][r] = P.InternalConstants[r - half];
            }
            else if (r == CycleRows - 2 || _copyAtRow31)
            {
                columns[CopyRow][r] = 1;
            }
            columns[Active][r] = r < CycleRows - 1 || _copyAtRow31 ? 1UL : 0UL;
        }
        return columns;
    }

    private Expr Periodic(int k) => Expr.Periodic(_periodicBase + k);

    private Expr[] ExternalLayer(Expr[] x)
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
        var result = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            // Each lane also gets the sum of its column over the 4-element chunks.
            var column = y[i & 3];
            for (var b = 4; b < Width; b += 4)
            {
                column = column + y[b + (i & 3)];
            }
            result[i] = y[i] + column;
        }
        return result;
    }

    private Expr[] InternalLayer(Expr[] x)
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

    private Expr[] FullRoundOf(Expr[] x)
    {
        var s = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            s[i] = (x[i] + Periodic(RoundConstant0 + i)).Pow(7);
        }
        return ExternalLayer(s);
    }

    /// <summary>The 8 round constraints over the state columns <paramref name="stateColumns"/>.</summary>
    public Expr[] Constraints(IReadOnlyList<int> stateColumns)
    {
        var cur = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            cur[i] = Expr.Cur(stateColumns[i]);
        }
        var initial = FullRoundOf(ExternalLayer(cur));
        var full = FullRoundOf(cur);
        var partialInput = (Expr[])cur.Clone();
        partialInput[0] = (cur[0] + Periodic(RoundConstant0)).Pow(7);
        var partial = InternalLayer(partialInput);
        var constraints = new Expr[Width];
        for (var i = 0; i < Width; i++)
        {
            var expected = Periodic(Initial) * initial[i] + Periodic(Full) * full[i] + Periodic(Partial) * partial[i] + Periodic(CopyRow) * cur[i];
            constraints[i] = Periodic(Active) * Expr.Next(stateColumns[i]) - expected;
        }
        return constraints;
    }

    /// <summary>Fills rows start..start+30 of the state columns from <paramref name="input"/>; row start+30 holds the output.</summary>
    public static void FillPermutation(ulong[][] trace, IReadOnlyList<int> stateColumns, int start, ReadOnlySpan<ulong> input)
    {
        var width = input.Length;
        var p = Poseidon2.ForWidth(width);
        Span<ulong> state = stackalloc ulong[width];
        input.CopyTo(state);
        var half = Poseidon2Permutation.HalfFullRounds;
        for (var r = 0; r < CycleRows - 1; r++)
        {
            for (var c = 0; c < width; c++)
            {
                trace[stateColumns[c]][start + r] = state[c];
            }
            if (r == 0)
            {
                p.ExternalLayer(state);
            }
            if (IsFullRound(r))
            {
                var rc = r < half
                    ? p.ExternalInitialConstants.Slice(r * width, width)
                    : p.ExternalFinalConstants.Slice((r - half - Poseidon2Permutation.PartialRounds) * width, width);
                for (var c = 0; c < width; c++)
                {
                    state[c] = Goldilocks.Pow7(Goldilocks.Add(state[c], rc[c]));
                }
                p.ExternalLayer(state);
            }
            else if (IsPartialRound(r))
            {
                state[0] = Goldilocks.Pow7(Goldilocks.Add(state[0], p.InternalConstants[r - half]));
                p.InternalLayer(state);
            }
        }
    }
}
