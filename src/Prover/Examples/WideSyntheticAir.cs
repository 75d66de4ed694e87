using Keel.Core.Field;
using Keel.Prover.Air;

namespace Keel.Prover.Examples;

/// <summary>
/// A synthetic wide AIR shaped like an unrolled hash (many columns, one degree-7 S-box constraint
/// per column) for prover benchmarks and regression tests: next_j = (cur_j + j + 1)^7 + cur_(j+1 mod w).
/// Row 0 is fixed by assertions on every column; the public input is the width.
/// </summary>
public sealed class WideSyntheticAir : IAir
{
    public const string AirName = "wide-synthetic-v1";

    /// <summary>Widest trace accepted: the AIR context's limit.</summary>
    public const int MaxWidth = Stark.AirContext.MaxTraceWidth;

    public WideSyntheticAir(int traceLength, int width)
    {
        if (width < 1 || width > MaxWidth)
        {
            throw new AirDefinitionException($"width must be 1 to {MaxWidth}");
        }
        TraceLength = traceLength;
        TraceWidth = width;
        PublicInputs = [(ulong)width];
        var assertions = new Assertion[width];
        var constraints = new Expr[width];
        for (var j = 0; j < width; j++)
        {
            assertions[j] = new Assertion(j, 0, FirstRow(j));
            var t = Expr.Cur(j) + Expr.Const((ulong)j + 1);
            var t2 = t * t;
            var t4 = t2 * t2;
            constraints[j] = Expr.Next(j) - (t4 * t2 * t + Expr.Cur((j + 1) % width));
        }
        Assertions = assertions;
        TransitionConstraints = constraints;
    }

    public string Name => AirName;
    public int TraceWidth { get; }
    public int TraceLength { get; }
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns => [];

    private static ulong FirstRow(int column) => Goldilocks.Canonicalize(0x9E3779B97F4A7C15UL * ((ulong)column + 1));

    /// <summary>The column-major trace of <paramref name="traceLength"/> rows.</summary>
    public static ulong[][] BuildTrace(int traceLength, int width)
    {
        var trace = new ulong[width][];
        for (var j = 0; j < width; j++)
        {
            trace[j] = new ulong[traceLength];
            trace[j][0] = FirstRow(j);
        }
        for (var r = 1; r < traceLength; r++)
        {
            for (var j = 0; j < width; j++)
            {
                trace[j][r] = Goldilocks.Add(Goldilocks.Pow7(Goldilocks.Add(trace[j][r - 1], (ulong)j + 1)), trace[(j + 1) % width][r - 1]);
            }
        }
        return trace;
    }
}
