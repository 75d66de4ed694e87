using System.Globalization;
using System.Runtime.CompilerServices;

namespace Keel.Core.Field;

/// <summary>
/// An element of the Goldilocks field p = 2^64 - 2^32 + 1, always held in canonical form (&lt; p) so
/// that equality, hashing and serialization need no normalization. The static ulong methods are
/// the hot-path API (NTT, Poseidon2, constraint evaluation work on ulong spans); the struct and its
/// operators are for readable code elsewhere.
/// </summary>
public readonly struct Goldilocks : IEquatable<Goldilocks>
{
    public const ulong Modulus = 0xFFFF_FFFF_0000_0001;

    /// <summary>2^64 mod p = 2^32 - 1: what a carry out of bit 64 is worth.</summary>
    public const ulong Epsilon = 0xFFFF_FFFF;

    /// <summary>Multiplicative generator (Plonky3 and Winterfell both use 7); also the LDE coset shift.</summary>
    public const ulong GeneratorValue = 7;

    /// <summary>p - 1 = 2^32 * (2^32 - 1): subgroups of every power-of-two order up to 2^32.</summary>
    public const int TwoAdicity = 32;

    /// <summary>A primitive 2^32-th root of unity, 7^((p-1)/2^32) (Plonky3's TWO_ADIC_GENERATORS[32]).</summary>
    public const ulong TwoAdicRoot = 0x185629dcda58878c;

    public readonly ulong Value;

    private Goldilocks(ulong canonical) => Value = canonical;

    public static Goldilocks Zero => default;
    public static Goldilocks One => new(1);
    public static Goldilocks Generator => new(GeneratorValue);

    /// <summary>Reduces any 64-bit integer into the field.</summary>
    public static Goldilocks FromUInt64(ulong value) => new(Canonicalize(value));

    /// <summary>Wraps a value that must already be canonical; anything else is rejected.</summary>
    public static Goldilocks FromCanonical(ulong value)
    {
        if (value >= Modulus)
        {
            throw new NonCanonicalFieldElementException(value);
        }
        return new(value);
    }

    public static bool IsCanonical(ulong value) => value < Modulus;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Canonicalize(ulong value) => value >= Modulus ? value - Modulus : value;

    // ---- hot-path operations on canonical ulongs -------------------------------------------

    // Carries and borrows that happen about half the time with random operands are branch-free
    // (mispredicted branches made a width-8 Poseidon2 permutation about 1.7x slower): comparisons
    // turned into 0/1 (the JIT emits setcc), half the instructions of deriving them from sign bits.
    // The reduction's two corrections that happen about 2^-32 of the time are branches, which the
    // predictor gets right: an NTT butterfly ran 2x faster than with the sign-bit formulas.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bit(bool condition) => condition ? 1UL : 0UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Add(ulong a, ulong b)
    {
        // a + b < 2p. On a carry out of 64 bits the true sum is sum + 2^64 = sum + Epsilon (mod p),
        // and that is below p; without a carry, sum >= p needs sum - p = sum + Epsilon (mod 2^64).
        var sum = a + b;
        var fix = Bit(sum < a) | Bit(sum >= Modulus);
        return sum + ((0UL - fix) & Epsilon);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Sub(ulong a, ulong b)
    {
        var diff = a - b;
        // A borrow wrapped by 2^64; p = 2^64 - Epsilon, so subtracting Epsilon turns it into + p.
        return diff - ((0UL - Bit(a < b)) & Epsilon);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Neg(ulong a) => a == 0 ? 0 : Modulus - a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mul(ulong a, ulong b)
    {
        var hi = Math.BigMul(a, b, out var lo);
        return Reduce128(hi, lo);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Square(ulong a)
    {
        var hi = Math.BigMul(a, a, out var lo);
        return Reduce128(hi, lo);
    }

    /// <summary>
    /// Reduces hi*2^64 + lo, using 2^64 = 2^32 - 1 and 2^96 = -1 (mod p); works for any 128-bit
    /// input and returns a canonical value.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Reduce128(ulong hi, ulong lo)
    {
        var hiHi = hi >> 32;
        var hiLo = (ulong)(uint)hi;
        var t0 = lo - hiHi;
        if (lo < hiHi)
        {
            // A borrow adds p back: - Epsilon modulo 2^64 (cannot underflow again because hiHi < 2^32).
            // A branch: lo < hiHi < 2^32 is rare (the low word of a product is small about 2^-32 of the time).
            t0 -= Epsilon;
        }
        var t1 = (hiLo << 32) - hiLo; // hiLo * Epsilon < 2^64
        var t2 = t0 + t1;
        // A carry out of 64 bits is worth Epsilon; the sum then stays below 2^64. Frequent: no branch.
        t2 += (0UL - Bit(t2 < t1)) & Epsilon;
        if (t2 >= Modulus)
        {
            // Rare as well: t2 in [p, 2^64) is a range of 2^32 - 1 values.
            t2 -= Modulus;
        }
        return t2;
    }

    public static ulong Pow(ulong a, ulong exponent)
    {
        ulong result = 1;
        var b = a;
        while (exponent != 0)
        {
            if ((exponent & 1) != 0)
            {
                result = Mul(result, b);
            }
            b = Square(b);
            exponent >>= 1;
        }
        return result;
    }

    /// <summary>x^7: the Poseidon2 S-box.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Pow7(ulong x)
    {
        var x2 = Square(x);
        var x3 = Mul(x2, x);
        var x4 = Square(x2);
        return Mul(x3, x4);
    }

    /// <summary>Multiplicative inverse by Fermat (a^(p-2)); zero has none.</summary>
    public static ulong Inverse(ulong a)
    {
        if (a == 0)
        {
            throw new FieldDivisionByZeroException();
        }
        return Pow(a, Modulus - 2);
    }

    /// <summary>
    /// Montgomery's trick: n inverses for one inversion and 3(n-1) multiplications. Every input
    /// must be non-zero; a zero is reported with its index. <paramref name="result"/> may alias
    /// <paramref name="values"/>.
    /// </summary>
    public static void BatchInverse(ReadOnlySpan<ulong> values, Span<ulong> result)
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
        // prefix[i] = v0 * ... * v(i-1); kept in a scratch array because result may alias values.
        var prefix = n <= 256 ? stackalloc ulong[n] : new ulong[n];
        ulong acc = 1;
        for (var i = 0; i < n; i++)
        {
            if (values[i] == 0)
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

    /// <summary>The generator of the subgroup of order 2^logOrder (Plonky3's convention: w_(k+1)^2 = w_k).</summary>
    public static ulong RootOfUnity(int logOrder)
    {
        if ((uint)logOrder > TwoAdicity)
        {
            throw new ArgumentOutOfRangeException(nameof(logOrder), logOrder, "Goldilocks has roots of unity up to order 2^32");
        }
        var root = TwoAdicRoot;
        for (var i = logOrder; i < TwoAdicity; i++)
        {
            root = Square(root);
        }
        return root;
    }

    /// <summary>Powers start, start*step, ... into <paramref name="output"/>.</summary>
    public static void Powers(ulong start, ulong step, Span<ulong> output)
    {
        var acc = start;
        for (var i = 0; i < output.Length; i++)
        {
            output[i] = acc;
            acc = Mul(acc, step);
        }
    }

    // ---- struct API ---------------------------------------------------------------------------

    public static Goldilocks operator +(Goldilocks a, Goldilocks b) => new(Add(a.Value, b.Value));
    public static Goldilocks operator -(Goldilocks a, Goldilocks b) => new(Sub(a.Value, b.Value));
    public static Goldilocks operator -(Goldilocks a) => new(Neg(a.Value));
    public static Goldilocks operator *(Goldilocks a, Goldilocks b) => new(Mul(a.Value, b.Value));
    public static Goldilocks operator /(Goldilocks a, Goldilocks b) => new(Mul(a.Value, Inverse(b.Value)));
    public static bool operator ==(Goldilocks a, Goldilocks b) => a.Value == b.Value;
    public static bool operator !=(Goldilocks a, Goldilocks b) => a.Value != b.Value;
    public static implicit operator Goldilocks(uint small) => new(small);

    public Goldilocks Inverse() => new(Inverse(Value));
    public Goldilocks Pow(ulong exponent) => new(Pow(Value, exponent));
    public Goldilocks Square() => new(Square(Value));
    public bool IsZero => Value == 0;

    public bool Equals(Goldilocks other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is Goldilocks g && g.Value == Value;
    public override int GetHashCode() => Value.GetHashCode();
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses a decimal (or 0x-prefixed hex) canonical element.</summary>
    public static Goldilocks Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        ulong value;
        var ok = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok)
        {
            throw new FormatException($"'{text}' is not a 64-bit unsigned integer");
        }
        return FromCanonical(value);
    }
}
