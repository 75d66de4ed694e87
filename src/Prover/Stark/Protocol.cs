using System.Text;
using Keel.Core;
using Keel.Core.Field;
using Keel.Prover.Crypto;

namespace Keel.Prover.Stark;

/// <summary>The steps of the Fiat-Shamir protocol that prover and verifier must perform identically.</summary>
public static class Protocol
{
    public static readonly byte[] DomainSeparator = "keel-stark-v1"u8.ToArray();

    /// <summary>Bound on redraws of the out-of-domain point (each needed with probability about 2^-100).</summary>
    public const int MaxOodDrawAttempts = 8;

    /// <summary>
    /// The transcript's opening: proof version, options, the AIR's name, shape and compiled
    /// constraints, its public inputs and assertions, and the prover's address, so a proof made for
    /// one prover, statement or constraint set verifies for no other.
    /// </summary>
    public static Transcript Begin(AirContext ctx, Address prover)
    {
        var t = new Transcript(DomainSeparator);
        t.AbsorbUInt64(StarkProof.CurrentVersion);
        var o = ctx.Options;
        t.AbsorbElements([(ulong)o.LogBlowup, (ulong)o.Queries, (ulong)o.GrindingBits, (ulong)o.LogFoldingFactor, (ulong)o.LogMaxRemainderSize]);
        var name = Encoding.UTF8.GetBytes(ctx.Air.Name);
        t.AbsorbUInt64((ulong)name.Length);
        t.Absorb(name);
        t.AbsorbElements([(ulong)ctx.TraceWidth, (ulong)ctx.TraceLength]);
        var program = ctx.Program.Serialize();
        t.AbsorbUInt64((ulong)program.Length);
        t.Absorb(program);
        t.AbsorbUInt64((ulong)ctx.Air.PublicInputs.Count);
        foreach (var v in ctx.Air.PublicInputs)
        {
            t.AbsorbUInt64(v);
        }
        t.AbsorbUInt64((ulong)ctx.Air.Assertions.Count);
        foreach (var a in ctx.Air.Assertions)
        {
            t.AbsorbElements([(ulong)a.Column, (ulong)a.Row, a.Value]);
        }
        t.AbsorbUInt64((ulong)ctx.Air.PeriodicColumns.Count);
        foreach (var cycle in ctx.Air.PeriodicColumns)
        {
            t.AbsorbUInt64((ulong)cycle.Length);
            t.AbsorbElements(cycle);
        }
        t.Absorb(prover.Bytes);
        return t;
    }

    /// <summary>The out-of-domain point: off the trace domain (z^n != 1) and off the LDE coset.</summary>
    public static GoldilocksExt2 DrawOodPoint(Transcript t, AirContext ctx)
    {
        var shiftInv = GoldilocksExt2.FromBase(Goldilocks.Inverse(ctx.DomainShift));
        for (var attempt = 0; attempt < MaxOodDrawAttempts; attempt++)
        {
            var z = t.DrawExt();
            var zn = GoldilocksExt2.Pow(z, (ulong)ctx.TraceLength);
            var onCoset = GoldilocksExt2.Pow(z * shiftInv, (ulong)ctx.LdeSize) == GoldilocksExt2.One;
            if (zn != GoldilocksExt2.One && !onCoset && !z.IsZero)
            {
                return z;
            }
        }
        throw new InvalidOperationException("no out-of-domain point found");
    }

    /// <summary>Sorted distinct positions of a list.</summary>
    public static int[] SortedDistinct(IEnumerable<int> positions)
    {
        var set = new SortedSet<int>(positions);
        return [.. set];
    }

    /// <summary>
    /// The composition check's right-hand side at z: random combination of transition constraint
    /// values divided by (z^n - 1)/(z - g^(n-1)), plus assertion quotients.
    /// </summary>
    public static GoldilocksExt2 CompositionAt(AirContext ctx, GoldilocksExt2 z, ReadOnlySpan<GoldilocksExt2> current, ReadOnlySpan<GoldilocksExt2> next,
        ReadOnlySpan<GoldilocksExt2> transitionCoefficients, ReadOnlySpan<GoldilocksExt2> assertionCoefficients)
    {
        var periodic = new GoldilocksExt2[ctx.Periodic.Count];
        for (var k = 0; k < periodic.Length; k++)
        {
            periodic[k] = ctx.Periodic[k].EvaluateAt(z);
        }
        var values = ctx.Program.EvaluateAt(current, next, periodic, ctx.Air.PublicInputs);
        var acc = GoldilocksExt2.Zero;
        for (var c = 0; c < values.Length; c++)
        {
            acc += transitionCoefficients[c] * values[c];
        }
        var n = (ulong)ctx.TraceLength;
        var lastRow = GoldilocksExt2.FromBase(Goldilocks.Pow(ctx.TraceGenerator, n - 1));
        var result = acc * (z - lastRow) / (GoldilocksExt2.Pow(z, n) - GoldilocksExt2.One);
        var assertions = ctx.Air.Assertions;
        for (var a = 0; a < assertions.Count; a++)
        {
            var point = GoldilocksExt2.FromBase(Goldilocks.Pow(ctx.TraceGenerator, (ulong)assertions[a].Row));
            result += assertionCoefficients[a] * (current[assertions[a].Column] - GoldilocksExt2.FromBase(assertions[a].Value)) / (z - point);
        }
        return result;
    }
}

/// <summary>FRI folding shared by prover and verifier.</summary>
public static class FriFolding
{
    /// <summary>
    /// Folds the F values of f on the coset x*&lt;w_F&gt; (v_t = f(x w_F^t)) into f'(x^F), where
    /// f(X) = sum_s X^s f_s(X^F) and f' = sum_s beta^s f_s: the inverse DFT of v gives
    /// c_s = x^s f_s(x^F), so f'(x^F) = sum_s (beta / x)^s c_s.
    /// </summary>
    public static GoldilocksExt2 FoldCoset(ReadOnlySpan<GoldilocksExt2> values, ulong xInverse, GoldilocksExt2 beta, ReadOnlySpan<ulong> inverseRootPowers, ulong inverseF)
    {
        var f = values.Length;
        var y = GoldilocksExt2.MulBase(beta, xInverse);
        var acc = GoldilocksExt2.Zero;
        for (var s = f - 1; s >= 0; s--)
        {
            var c = GoldilocksExt2.Zero;
            for (var t = 0; t < f; t++)
            {
                c += GoldilocksExt2.MulBase(values[t], inverseRootPowers[(t * s) % f]);
            }
            acc = acc * y + c;
        }
        return GoldilocksExt2.MulBase(acc, inverseF);
    }

    /// <summary>w_F^(-i) for i &lt; F.</summary>
    public static ulong[] InverseRootPowers(int foldingFactor)
    {
        var logF = System.Numerics.BitOperations.Log2((uint)foldingFactor);
        var powers = new ulong[foldingFactor];
        Goldilocks.Powers(1, Goldilocks.Inverse(Goldilocks.RootOfUnity(logF)), powers);
        return powers;
    }

    /// <summary>Evaluates the remainder polynomial (extension coefficients, low first) at a base point.</summary>
    public static GoldilocksExt2 EvaluateRemainder(ReadOnlySpan<GoldilocksExt2> coefficients, ulong x)
    {
        var acc = GoldilocksExt2.Zero;
        for (var i = coefficients.Length - 1; i >= 0; i--)
        {
            acc = GoldilocksExt2.MulBase(acc, x) + coefficients[i];
        }
        return acc;
    }
}
