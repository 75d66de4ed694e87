using System.Runtime.CompilerServices;

namespace Keel.Core.Field;

/// <summary>
/// The quadratic extension F_p[u]/(u^2 - 7) (7 generates F_p*, so it is a non-residue and the
/// polynomial is irreducible; Plonky3 uses the same binomial). Out-of-domain points, constraint
/// mixing coefficients and FRI challenges live here: the base field alone caps soundness near
/// 64 bits. Elements are (A0 + A1*u) with both coordinates canonical.
/// </summary>
public readonly struct GoldilocksExt2 : IEquatable<GoldilocksExt2>
{
    /// <summary>The non-residue W in u^2 = W.</summary>
    public const ulong W = 7;

    public readonly ulong A0;
    public readonly ulong A1;

    public GoldilocksExt2(ulong a0, ulong a1)
    {
        A0 = a0;
        A1 = a1;
    }

    public static GoldilocksExt2 Zero => default;
    public static GoldilocksExt2 One => new(1, 0);

    public static GoldilocksExt2 FromBase(ulong a) => new(a, 0);

    public bool IsZero => (A0 | A1) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GoldilocksExt2 Add(GoldilocksExt2 a, GoldilocksExt2 b) => new(Goldilocks.Add(a.A0, b.A0), Goldilocks.Add(a.A1, b.A1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GoldilocksExt2 Sub(GoldilocksExt2 a, GoldilocksExt2 b) => new(Goldilocks.Sub(a.A0, b.A0), Goldilocks.Sub(a.A1, b.A1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GoldilocksExt2 Neg(GoldilocksExt2 a) => new(Goldilocks.Neg(a.A0), Goldilocks.Neg(a.A1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GoldilocksExt2 Mul(GoldilocksExt2 a, GoldilocksExt2 b)
    {
        // (a0 + a1 u)(b0 + b1 u) = a0 b0 + W a1 b1 + (a0 b1 + a1 b0) u, with Karatsuba for the middle term.
        var t0 = Goldilocks.Mul(a.A0, b.A0);
        var t1 = Goldilocks.Mul(a.A1, b.A1);
        var cross = Goldilocks.Mul(Goldilocks.Add(a.A0, a.A1), Goldilocks.Add(b.A0, b.A1));
        var c0 = Goldilocks.Add(t0, Goldilocks.Mul(W, t1));
        var c1 = Goldilocks.Sub(Goldilocks.Sub(cross, t0), t1);
        return new(c0, c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GoldilocksExt2 MulBase(GoldilocksExt2 a, ulong b) => new(Goldilocks.Mul(a.A0, b), Goldilocks.Mul(a.A1, b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GoldilocksExt2 AddBase(GoldilocksExt2 a, ulong b) => new(Goldilocks.Add(a.A0, b), a.A1);

    public static GoldilocksExt2 Square(GoldilocksExt2 a) => Mul(a, a);

    public static GoldilocksExt2 Pow(GoldilocksExt2 a, ulong exponent)
    {
        var result = One;
        var b = a;
        while (exponent != 0)
        {
            if ((exponent & 1) != 0)
            {
                result = Mul(result, b);
            }
            b = Mul(b, b);
            exponent >>= 1;
        }
        return result;
    }

    /// <summary>1/(a0 + a1 u) = (a0 - a1 u) / (a0^2 - W a1^2); the norm is non-zero for non-zero input.</summary>
    public static GoldilocksExt2 Inverse(GoldilocksExt2 a)
    {
        if (a.IsZero)
        {
            throw new FieldDivisionByZeroException();
        }
        var norm = Goldilocks.Sub(Goldilocks.Square(a.A0), Goldilocks.Mul(W, Goldilocks.Square(a.A1)));
        var inv = Goldilocks.Inverse(norm);
        return new(Goldilocks.Mul(a.A0, inv), Goldilocks.Neg(Goldilocks.Mul(a.A1, inv)));
    }

    /// <summary>Montgomery's trick over the extension; <paramref name="result"/> may alias <paramref name="values"/>.</summary>
    public static void BatchInverse(ReadOnlySpan<GoldilocksExt2> values, Span<GoldilocksExt2> result)
    {
        if (result.Length != values.Length)
        {
            throw new ArgumentException("result length differs from input length", nameof(result));
        }
        var n = values.Length;
        if (n == 0)
        {
            return;
        }
        var prefix = new GoldilocksExt2[n];
        var acc = One;
        for (var i = 0; i < n; i++)
        {
            if (values[i].IsZero)
            {
                throw new FieldDivisionByZeroException(i);
            }
            prefix[i] = acc;
            acc = Mul(acc, values[i]);
        }
        var inv = Inverse(acc);
        for (var i = n - 1; i >= 0; i--)
        {
            var v = values[i];
            result[i] = Mul(inv, prefix[i]);
            inv = Mul(inv, v);
        }
    }

    public static GoldilocksExt2 operator +(GoldilocksExt2 a, GoldilocksExt2 b) => Add(a, b);
    public static GoldilocksExt2 operator -(GoldilocksExt2 a, GoldilocksExt2 b) => Sub(a, b);
    public static GoldilocksExt2 operator -(GoldilocksExt2 a) => Neg(a);
    public static GoldilocksExt2 operator *(GoldilocksExt2 a, GoldilocksExt2 b) => Mul(a, b);
    public static GoldilocksExt2 operator /(GoldilocksExt2 a, GoldilocksExt2 b) => Mul(a, Inverse(b));
    public static bool operator ==(GoldilocksExt2 a, GoldilocksExt2 b) => a.A0 == b.A0 && a.A1 == b.A1;
    public static bool operator !=(GoldilocksExt2 a, GoldilocksExt2 b) => !(a == b);

    public bool Equals(GoldilocksExt2 other) => this == other;
    public override bool Equals(object? obj) => obj is GoldilocksExt2 e && this == e;
    public override int GetHashCode() => HashCode.Combine(A0, A1);
    public override string ToString() => A1 == 0 ? $"{A0}" : $"{A0} + {A1}*u";
}
