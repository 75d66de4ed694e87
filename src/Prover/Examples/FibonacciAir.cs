using Keel.Core.Field;
using Keel.Prover.Air;

namespace Keel.Prover.Examples;

/// <summary>
/// Fibonacci over Goldilocks in two columns, two terms per row (Winterfell's "fib2" layout):
/// (a, b) -> (a + b, a + 2b). Row 0 is (1, 1); the public input is column 1 of the last row,
/// the Fibonacci number F(2n) for n rows.
/// </summary>
public sealed class FibonacciAir : IAir
{
    public const string AirName = "fibonacci-v1";

    public FibonacciAir(int traceLength, ulong result)
    {
        TraceLength = traceLength;
        Result = result;
        PublicInputs = [result];
        Assertions = [new Assertion(0, 0, 1), new Assertion(1, 0, 1), new Assertion(1, traceLength - 1, result)];
        TransitionConstraints =
        [
            Expr.Next(0) - (Expr.Cur(0) + Expr.Cur(1)),
            Expr.Next(1) - (Expr.Cur(1) + Expr.Next(0)),
        ];
    }

    public ulong Result { get; }
    public string Name => AirName;
    public int TraceWidth => 2;
    public int TraceLength { get; }
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns => [];

    /// <summary>The trace for <paramref name="traceLength"/> rows and the result it ends with.</summary>
    public static (ulong[][] Trace, ulong Result) BuildTrace(int traceLength)
    {
        var a = new ulong[traceLength];
        var b = new ulong[traceLength];
        a[0] = 1;
        b[0] = 1;
        for (var i = 1; i < traceLength; i++)
        {
            a[i] = Goldilocks.Add(a[i - 1], b[i - 1]);
            b[i] = Goldilocks.Add(b[i - 1], a[i]);
        }
        return ([a, b], b[traceLength - 1]);
    }
}
