using Keel.Core.Field;
using Keel.Prover.Polynomials;

namespace Keel.Prover.Air;

/// <summary>
/// A periodic column as a polynomial: with cycle length m over a trace of length n,
/// p(x) = q(x^(n/m)) where q interpolates the cycle over the subgroup of order m. Used by the
/// prover (extended over the LDE coset) and by the verifier (evaluated at the out-of-domain point).
/// </summary>
public sealed class PeriodicColumn
{
    private readonly ulong[] _coefficients;

    public PeriodicColumn(ulong[] cycle, int traceLength)
    {
        Cycle = cycle;
        TraceLength = traceLength;
        _coefficients = (ulong[])cycle.Clone();
        Ntt.Inverse(_coefficients, 1);
    }

    public ulong[] Cycle { get; }
    public int TraceLength { get; }
    public int CycleLength => Cycle.Length;

    /// <summary>Degree bound of p: (n/m)(m - 1).</summary>
    public long DegreeBound => (long)(TraceLength / CycleLength) * (CycleLength - 1);

    public GoldilocksExt2 EvaluateAt(GoldilocksExt2 x)
    {
        var y = GoldilocksExt2.Pow(x, (ulong)(TraceLength / CycleLength));
        return Ntt.EvaluateAt(_coefficients, y);
    }

    /// <summary>Values on the coset shift*&lt;w_(n*blowup)&gt;, one period: row i of the LDE reads entry i mod (m*blowup).</summary>
    public ulong[] ExtendOnCoset(int blowup, ulong shift)
    {
        var output = new ulong[CycleLength * blowup];
        Ntt.CosetEvaluate(_coefficients, Goldilocks.Pow(shift, (ulong)(TraceLength / CycleLength)), output, 1);
        return output;
    }
}
