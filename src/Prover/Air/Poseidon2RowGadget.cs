using System.Runtime.CompilerServices;
using Keel.Core.Field;
using Keel.Core.Hashing;

namespace Keel.Prover.Air;

/// <summary>
/// One whole Poseidon2 permutation (P3new, width 8 or 12) in one trace row, unrolled as in
/// Plonky3's poseidon2-air: every constraint reads only the current row, so a row's permutation is
/// checked by the row alone and the embedding AIR ties rows together through
/// <see cref="InputColumn"/> and <see cref="Output"/>.
/// <para>
/// Committed per row (9 * Width + 22 columns): the input state; the state after each of the four
/// initial full rounds; the S-box output of each of the 22 partial rounds; the state after each of
/// the four final full rounds (the last of which is the output). A full round's constraint is
/// post_i = M_E((pre + rc)^7)_i with pre the previous committed state (round 0: M_E(input)); a
/// partial round's is z = (s_0 + c)^7 with s the state since the last committed one, carried
/// through the internal layers as expressions. The linear layers are built in their structured
/// form (M_E with additions only, M_I as one sum plus D_i * x_i) on expressions shared by every
/// lane, so the compiled program stays near 3 * Width instructions per partial round: these
/// constraints are DAGs, not trees (<see cref="ConstraintProgram"/> and Expr.Degree memoize by
/// node; a walker that does not would take exponential time). Every constraint has degree 7.
/// </para>
/// <para>
/// Layout, as offsets from the first column: the input at [0, Width), the output at
/// [<see cref="OutputOffset"/>, <see cref="OutputOffset"/> + Width) for both widths, the other
/// columns in round order in the remaining offsets from Width upward. Width 8 thus occupies
/// exactly [0, 94), a prefix of width 12's [0, 130), and both widths read their input lane i
/// and write their output lane i to the same column, so an AIR can run either permutation in one
/// set of columns under two selectors and chain digests the same way for both.
/// </para>
/// </summary>
public sealed class Poseidon2RowGadget
{
    /// <summary>Offset of output lane 0 from the first column, the same for both widths.</summary>
    public const int OutputOffset = 12;

    /// <summary>Degree of every constraint (without selector) in multiples of the trace degree.</summary>
    public const int ConstraintDegree = 7;

    private const int HalfFull = Poseidon2Permutation.HalfFullRounds;
    private const int Partials = Poseidon2Permutation.PartialRounds;
    private const int FullRounds = 2 * HalfFull;

    private readonly Poseidon2Permutation _permutation;

    /// <summary>Offset of full round f's (0..7) post-state lane i at [f * Width + i]; round 7's is the output.</summary>
    private readonly int[] _fullOffset;

    /// <summary>Offset of partial round r's S-box output.</summary>
    private readonly int[] _partialOffset;

    public Poseidon2RowGadget(int width)
    {
        if (width is not (8 or 12))
        {
            throw new AirDefinitionException($"the Poseidon2 row gadget has widths 8 and 12, not {width}");
        }
        Width = width;
        _permutation = Poseidon2.ForWidth(width);
        Columns = 9 * width + Partials;

        // Offsets not taken by the input or the output, in increasing order.
        var free = new Queue<int>();
        for (var o = width; free.Count < Columns - 2 * width; o++)
        {
            if (o < OutputOffset || o >= OutputOffset + width)
            {
                free.Enqueue(o);
            }
        }
        _fullOffset = new int[FullRounds * width];
        _partialOffset = new int[Partials];
        for (var f = 0; f < HalfFull; f++)
        {
            for (var i = 0; i < width; i++)
            {
                _fullOffset[f * width + i] = free.Dequeue();
            }
        }
        for (var r = 0; r < Partials; r++)
        {
            _partialOffset[r] = free.Dequeue();
        }
        for (var f = HalfFull; f < FullRounds; f++)
        {
            for (var i = 0; i < width; i++)
            {
                _fullOffset[f * width + i] = f == FullRounds - 1 ? OutputOffset + i : free.Dequeue();
            }
        }
    }

    public int Width { get; }

    /// <summary>Trace columns one permutation occupies: 94 for width 8, 130 for width 12.</summary>
    public int Columns { get; }

    /// <summary>Constraints <see cref="Constraints"/> returns: 8 * Width + 22.</summary>
    public int ConstraintCount => FullRounds * Width + Partials;

    /// <summary>Column of input lane <paramref name="lane"/>; the embedding AIR constrains these.</summary>
    public static int InputColumn(int firstColumn, int lane) => firstColumn + lane;

    /// <summary>Column of output lane <paramref name="lane"/>, the same for both widths.</summary>
    public static int OutputColumn(int firstColumn, int lane) => firstColumn + OutputOffset + lane;

    /// <summary>Output lane <paramref name="lane"/> of this row's permutation (or the next row's), degree 1.</summary>
    public Expr Output(int firstColumn, int lane, bool next = false)
    {
        CheckFirstColumn(firstColumn);
        if ((uint)lane >= (uint)Width)
        {
            throw new AirDefinitionException($"output lane {lane} is outside the width {Width}");
        }
        var column = OutputColumn(firstColumn, lane);
        return next ? Expr.Next(column) : Expr.Cur(column);
    }

    /// <summary>
    /// The constraints tying the gadget's columns to the permutation of its input columns, each
    /// multiplied by <paramref name="selector"/> when given: the four initial full rounds (Width
    /// each), the 22 partial rounds (one each), the four final full rounds (Width each). Each has
    /// degree 7 plus the selector's.
    /// </summary>
    public IReadOnlyList<Expr> Constraints(int firstColumn, Expr? selector = null)
    {
        CheckFirstColumn(firstColumn);
        var w = Width;
        var p = _permutation;
        var list = new List<Expr>(ConstraintCount);
        void Add(Expr difference) => list.Add(selector is null ? difference : selector * difference);
        Expr Column(int offset) => Expr.Cur(firstColumn + offset);

        var state = new Expr[w];
        for (var i = 0; i < w; i++)
        {
            state[i] = Column(i);
        }
        state = ExternalLayer(state);
        for (var f = 0; f < FullRounds; f++)
        {
            if (f == HalfFull)
            {
                // The partial rounds in M_I's structured form (one sum, then D_i * x_i + sum per lane)
                // over the shared state of the previous round: about 3 * Width instructions per round.
                for (var r = 0; r < Partials; r++)
                {
                    var z = Column(_partialOffset[r]);
                    Add(z - (state[0] + Expr.Const(p.InternalConstants[r])).Pow(7));
                    state[0] = z;
                    state = InternalLayer(state, p.InternalDiagonal);
                }
            }
            var constants = f < HalfFull
                ? p.ExternalInitialConstants.Slice(f * w, w)
                : p.ExternalFinalConstants.Slice((f - HalfFull) * w, w);
            var sbox = new Expr[w];
            for (var i = 0; i < w; i++)
            {
                sbox[i] = (state[i] + Expr.Const(constants[i])).Pow(7);
            }
            var expected = ExternalLayer(sbox);
            for (var i = 0; i < w; i++)
            {
                state[i] = Column(_fullOffset[f * w + i]);
                Add(state[i] - expected[i]);
            }
        }
        return list;
    }

    /// <summary>
    /// Writes every gadget column of <paramref name="row"/> (the input included) for the
    /// permutation of <paramref name="input"/> and returns the permuted state in <paramref name="output"/>.
    /// </summary>
    // Trace builders call this once per row of 2^18..2^20-row traces: optimized from the first call.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(ulong[][] trace, int row, int firstColumn, ReadOnlySpan<ulong> input, Span<ulong> output)
    {
        ArgumentNullException.ThrowIfNull(trace);
        CheckFirstColumn(firstColumn);
        var w = Width;
        if (input.Length != w || output.Length != w)
        {
            throw new ArgumentException($"the width-{w} gadget takes and returns {w} elements");
        }
        if (trace.Length < firstColumn + Columns)
        {
            throw new ArgumentException($"the trace has {trace.Length} columns, the gadget needs {firstColumn + Columns}", nameof(trace));
        }
        for (var c = firstColumn; c < firstColumn + Columns; c++)
        {
            if (trace[c] is null || (uint)row >= (uint)trace[c].Length)
            {
                throw new ArgumentOutOfRangeException(nameof(row), row, $"row is outside trace column {c}");
            }
        }
        foreach (var x in input)
        {
            if (x >= Goldilocks.Modulus)
            {
                throw new NonCanonicalFieldElementException(x);
            }
        }

        var p = _permutation;
        Span<ulong> s = stackalloc ulong[w];
        input.CopyTo(s);
        for (var i = 0; i < w; i++)
        {
            trace[firstColumn + i][row] = s[i];
        }
        p.ExternalLayer(s);
        for (var f = 0; f < FullRounds; f++)
        {
            if (f == HalfFull)
            {
                for (var r = 0; r < Partials; r++)
                {
                    s[0] = Goldilocks.Pow7(Goldilocks.Add(s[0], p.InternalConstants[r]));
                    trace[firstColumn + _partialOffset[r]][row] = s[0];
                    p.InternalLayer(s);
                }
            }
            var constants = f < HalfFull
                ? p.ExternalInitialConstants.Slice(f * w, w)
                : p.ExternalFinalConstants.Slice((f - HalfFull) * w, w);
            for (var i = 0; i < w; i++)
            {
                s[i] = Goldilocks.Pow7(Goldilocks.Add(s[i], constants[i]));
            }
            p.ExternalLayer(s);
            for (var i = 0; i < w; i++)
            {
                trace[firstColumn + _fullOffset[f * w + i]][row] = s[i];
            }
        }
        s.CopyTo(output);
    }

    private static void CheckFirstColumn(int firstColumn)
    {
        if (firstColumn < 0)
        {
            throw new AirDefinitionException($"the gadget's first column {firstColumn} is negative");
        }
    }

    /// <summary>
    /// M_I over expressions: x_i * D_i + Σx. Diagonal entries 1, 2 and -2 (lanes 0..2 of both
    /// widths) cost additions instead of a multiplication.
    /// </summary>
    private static Expr[] InternalLayer(Expr[] x, ReadOnlySpan<ulong> diagonal)
    {
        var terms = new List<Expr>(x);
        var total = Sum(terms, 0, terms.Count)!;
        var result = new Expr[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            var d = diagonal[i];
            result[i] = d switch
            {
                1 => x[i] + total,
                2 => (x[i] + x[i]) + total,
                Goldilocks.Modulus - 2 => total - (x[i] + x[i]),
                _ => Expr.Const(d) * x[i] + total,
            };
        }
        return result;
    }

    private static Expr? Sum(List<Expr> terms, int start, int count) => count switch
    {
        0 => null,
        1 => terms[start],
        _ => Sum(terms, start, count / 2)! + Sum(terms, start + count / 2, count - count / 2)!,
    };

    /// <summary>M_E over expressions: Plonky3's MDSMat4 on each chunk of four (additions only), then each lane adds its column's sum over chunks.</summary>
    private static Expr[] ExternalLayer(Expr[] x)
    {
        var w = x.Length;
        var y = new Expr[w];
        for (var b = 0; b < w; b += 4)
        {
            // Rows [2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2].
            var (x0, x1, x2, x3) = (x[b], x[b + 1], x[b + 2], x[b + 3]);
            var t01 = x0 + x1;
            var t23 = x2 + x3;
            var t0123 = t01 + t23;
            var t01123 = t0123 + x1;
            var t01233 = t0123 + x3;
            y[b] = t01123 + t01;
            y[b + 1] = t01123 + (x2 + x2);
            y[b + 2] = t01233 + t23;
            y[b + 3] = t01233 + (x0 + x0);
        }
        var sums = new Expr[4];
        for (var k = 0; k < 4; k++)
        {
            var column = new List<Expr>();
            for (var b = 0; b < w; b += 4)
            {
                column.Add(y[b + k]);
            }
            sums[k] = Sum(column, 0, column.Count)!;
        }
        var result = new Expr[w];
        for (var i = 0; i < w; i++)
        {
            result[i] = y[i] + sums[i & 3];
        }
        return result;
    }
}
