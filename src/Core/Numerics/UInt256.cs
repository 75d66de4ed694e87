using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace Keel.Core;

/// <summary>
/// An unsigned 256-bit integer for wei amounts and EVM words. Arithmetic operators are checked:
/// overflow and underflow throw <see cref="OverflowException"/> (a silently wrapped balance is
/// worse than a failed transaction); the Try* forms report it instead.
/// </summary>
public readonly struct UInt256 : IEquatable<UInt256>, IComparable<UInt256>, IComparable
{
    public const int Size = 32;

    // Little-endian limbs: _u0 holds the lowest 64 bits.
    private readonly ulong _u0, _u1, _u2, _u3;

    public UInt256(ulong u3, ulong u2, ulong u1, ulong u0)
    {
        _u0 = u0;
        _u1 = u1;
        _u2 = u2;
        _u3 = u3;
    }

    public static UInt256 Zero => default;
    public static UInt256 One => new(0, 0, 0, 1);
    public static UInt256 MaxValue => new(ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue);

    /// <summary>2^128 - 1: the largest balance the rollup's circuit represents.</summary>
    public static UInt256 MaxUInt128 => new(0, 0, ulong.MaxValue, ulong.MaxValue);

    public bool IsZero => (_u0 | _u1 | _u2 | _u3) == 0;

    /// <summary>True when the value fits in 64 bits.</summary>
    public bool FitsInUInt64 => (_u1 | _u2 | _u3) == 0;

    public bool FitsInUInt128 => (_u2 | _u3) == 0;

    /// <summary>Number of significant bits (0 for zero).</summary>
    public int BitLength =>
        _u3 != 0 ? 192 + 64 - BitOperations.LeadingZeroCount(_u3)
        : _u2 != 0 ? 128 + 64 - BitOperations.LeadingZeroCount(_u2)
        : _u1 != 0 ? 64 + 64 - BitOperations.LeadingZeroCount(_u1)
        : 64 - BitOperations.LeadingZeroCount(_u0);

    /// <summary>Bytes in the minimal big-endian form (0 for zero), as RLP writes integers.</summary>
    public int ByteLength => (BitLength + 7) / 8;

    public static implicit operator UInt256(ulong value) => new(0, 0, 0, value);

    public static implicit operator UInt256(UInt128 value) => new(0, 0, (ulong)(value >> 64), (ulong)value);

    /// <exception cref="OverflowException">the value does not fit in 64 bits</exception>
    public static explicit operator ulong(UInt256 value) =>
        value.FitsInUInt64 ? value._u0 : throw new OverflowException($"{value} does not fit in 64 bits");

    /// <exception cref="OverflowException">the value does not fit in 128 bits</exception>
    public static explicit operator UInt128(UInt256 value) =>
        value.FitsInUInt128 ? new UInt128(value._u1, value._u0) : throw new OverflowException($"{value} does not fit in 128 bits");

    public static implicit operator BigInteger(UInt256 value)
    {
        Span<byte> bytes = stackalloc byte[Size];
        value.WriteBigEndian(bytes);
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
    }

    /// <exception cref="OverflowException">negative or 2^256 and above</exception>
    public static explicit operator UInt256(BigInteger value)
    {
        if (value.Sign < 0 || value.GetBitLength() > 256)
        {
            throw new OverflowException($"{value} is outside 0 .. 2^256-1");
        }
        Span<byte> bytes = stackalloc byte[Size];
        bytes.Clear();
        var length = value.GetByteCount(isUnsigned: true);
        value.TryWriteBytes(bytes[(Size - length)..], out _, isUnsigned: true, isBigEndian: true);
        return FromBigEndian(bytes);
    }

    // ---------------------------------------------------------------- bytes

    /// <summary>Reads up to 32 big-endian bytes (shorter input is left-padded with zeros).</summary>
    public static UInt256 FromBigEndian(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > Size)
        {
            throw new ArgumentException($"a 256-bit integer has at most {Size} bytes, got {bytes.Length}", nameof(bytes));
        }
        Span<byte> padded = stackalloc byte[Size];
        padded.Clear();
        bytes.CopyTo(padded[(Size - bytes.Length)..]);
        return new UInt256(
            BinaryPrimitives.ReadUInt64BigEndian(padded),
            BinaryPrimitives.ReadUInt64BigEndian(padded[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(padded[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(padded[24..]));
    }

    /// <summary>Writes exactly 32 big-endian bytes (an EVM word).</summary>
    public void WriteBigEndian(Span<byte> output32)
    {
        if (output32.Length < Size)
        {
            throw new ArgumentException($"output needs {Size} bytes", nameof(output32));
        }
        BinaryPrimitives.WriteUInt64BigEndian(output32, _u3);
        BinaryPrimitives.WriteUInt64BigEndian(output32[8..], _u2);
        BinaryPrimitives.WriteUInt64BigEndian(output32[16..], _u1);
        BinaryPrimitives.WriteUInt64BigEndian(output32[24..], _u0);
    }

    public byte[] ToBigEndian()
    {
        var bytes = new byte[Size];
        WriteBigEndian(bytes);
        return bytes;
    }

    /// <summary>Big-endian without leading zeros; zero is the empty array.</summary>
    public byte[] ToBigEndianTrimmed() => ToBigEndian()[(Size - ByteLength)..];

    // ---------------------------------------------------------------- arithmetic

    public static bool TryAdd(UInt256 a, UInt256 b, out UInt256 sum)
    {
        ulong carry = 0;
        var r0 = AddWithCarry(a._u0, b._u0, ref carry);
        var r1 = AddWithCarry(a._u1, b._u1, ref carry);
        var r2 = AddWithCarry(a._u2, b._u2, ref carry);
        var r3 = AddWithCarry(a._u3, b._u3, ref carry);
        sum = new UInt256(r3, r2, r1, r0);
        return carry == 0;
    }

    public static bool TrySubtract(UInt256 a, UInt256 b, out UInt256 difference)
    {
        ulong borrow = 0;
        var r0 = SubtractWithBorrow(a._u0, b._u0, ref borrow);
        var r1 = SubtractWithBorrow(a._u1, b._u1, ref borrow);
        var r2 = SubtractWithBorrow(a._u2, b._u2, ref borrow);
        var r3 = SubtractWithBorrow(a._u3, b._u3, ref borrow);
        difference = new UInt256(r3, r2, r1, r0);
        return borrow == 0;
    }

    public static bool TryMultiply(UInt256 a, UInt256 b, out UInt256 product)
    {
        Span<ulong> x = [a._u0, a._u1, a._u2, a._u3];
        Span<ulong> y = [b._u0, b._u1, b._u2, b._u3];
        Span<ulong> r = stackalloc ulong[8];
        r.Clear();
        for (var i = 0; i < 4; i++)
        {
            if (x[i] == 0)
            {
                continue;
            }
            ulong carry = 0;
            for (var j = 0; j < 4; j++)
            {
                var high = Math.BigMul(x[i], y[j], out var low);
                ulong c = 0;
                var sum = AddWithCarry(r[i + j], low, ref c);
                sum = AddWithCarry(sum, carry, ref c);
                r[i + j] = sum;
                carry = high + c; // cannot overflow: high <= 2^64 - 2
            }
            r[i + 4] = carry;
        }
        product = new UInt256(r[3], r[2], r[1], r[0]);
        return (r[4] | r[5] | r[6] | r[7]) == 0;
    }

    /// <exception cref="DivideByZeroException">divisor is zero</exception>
    public static UInt256 DivRem(UInt256 dividend, UInt256 divisor, out UInt256 remainder)
    {
        if (divisor.IsZero)
        {
            throw new DivideByZeroException("UInt256 division by zero");
        }
        if (dividend.FitsInUInt64 && divisor.FitsInUInt64)
        {
            remainder = dividend._u0 % divisor._u0;
            return dividend._u0 / divisor._u0;
        }
        var q = BigInteger.DivRem(dividend, divisor, out var rem);
        remainder = (UInt256)rem;
        return (UInt256)q;
    }

    public static UInt256 operator +(UInt256 a, UInt256 b) =>
        TryAdd(a, b, out var sum) ? sum : throw new OverflowException($"{a} + {b} overflows 256 bits");

    public static UInt256 operator -(UInt256 a, UInt256 b) =>
        TrySubtract(a, b, out var difference) ? difference : throw new OverflowException($"{a} - {b} is negative");

    public static UInt256 operator *(UInt256 a, UInt256 b) =>
        TryMultiply(a, b, out var product) ? product : throw new OverflowException($"{a} * {b} overflows 256 bits");

    public static UInt256 operator /(UInt256 a, UInt256 b) => DivRem(a, b, out _);

    public static UInt256 operator %(UInt256 a, UInt256 b)
    {
        DivRem(a, b, out var remainder);
        return remainder;
    }

    private static ulong AddWithCarry(ulong a, ulong b, ref ulong carry)
    {
        var sum = a + b;
        var carryOut = sum < a ? 1UL : 0UL;
        var result = sum + carry;
        carryOut += result < sum ? 1UL : 0UL;
        carry = carryOut;
        return result;
    }

    private static ulong SubtractWithBorrow(ulong a, ulong b, ref ulong borrow)
    {
        var difference = a - b;
        var borrowOut = a < b ? 1UL : 0UL;
        var result = difference - borrow;
        borrowOut += difference < borrow ? 1UL : 0UL;
        borrow = borrowOut;
        return result;
    }

    // ---------------------------------------------------------------- comparison

    public int CompareTo(UInt256 other) =>
        _u3 != other._u3 ? _u3.CompareTo(other._u3)
        : _u2 != other._u2 ? _u2.CompareTo(other._u2)
        : _u1 != other._u1 ? _u1.CompareTo(other._u1)
        : _u0.CompareTo(other._u0);

    public int CompareTo(object? obj) => obj is UInt256 other ? CompareTo(other) : throw new ArgumentException("not a UInt256", nameof(obj));

    public bool Equals(UInt256 other) => _u0 == other._u0 && _u1 == other._u1 && _u2 == other._u2 && _u3 == other._u3;

    public override bool Equals(object? obj) => obj is UInt256 other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_u0, _u1, _u2, _u3);

    public static bool operator ==(UInt256 a, UInt256 b) => a.Equals(b);
    public static bool operator !=(UInt256 a, UInt256 b) => !a.Equals(b);
    public static bool operator <(UInt256 a, UInt256 b) => a.CompareTo(b) < 0;
    public static bool operator >(UInt256 a, UInt256 b) => a.CompareTo(b) > 0;
    public static bool operator <=(UInt256 a, UInt256 b) => a.CompareTo(b) <= 0;
    public static bool operator >=(UInt256 a, UInt256 b) => a.CompareTo(b) >= 0;

    public static UInt256 Min(UInt256 a, UInt256 b) => a <= b ? a : b;
    public static UInt256 Max(UInt256 a, UInt256 b) => a >= b ? a : b;

    // ---------------------------------------------------------------- text

    /// <summary>Decimal text.</summary>
    public override string ToString() =>
        FitsInUInt64 ? _u0.ToString(CultureInfo.InvariantCulture) : ((BigInteger)this).ToString(CultureInfo.InvariantCulture);

    /// <summary>0x-prefixed hex without leading zeros ("0x0" for zero): the JSON-RPC quantity form.</summary>
    public string ToHexString()
    {
        if (IsZero)
        {
            return "0x0";
        }
        var hex = Convert.ToHexStringLower(ToBigEndianTrimmed()).TrimStart('0');
        return "0x" + hex;
    }

    /// <summary>
    /// Parses decimal digits, or hex after a 0x prefix (as JSON-RPC quantities and CLI arguments
    /// are written). No sign, no spaces, no separators.
    /// </summary>
    /// <exception cref="FormatException">not a number of that form</exception>
    /// <exception cref="OverflowException">2^256 or more</exception>
    public static UInt256 Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParseCore(text, out var value, out var error, out var overflow) ? value
            : overflow ? throw new OverflowException(error) : throw new FormatException(error);
    }

    public static bool TryParse(string? text, out UInt256 value)
    {
        value = default;
        return text is not null && TryParseCore(text, out value, out _, out _);
    }

    private static bool TryParseCore(string text, out UInt256 value, out string? error, out bool overflow)
    {
        value = default;
        overflow = false;
        var span = text.AsSpan();
        var isHex = span.Length >= 2 && span[0] == '0' && (span[1] == 'x' || span[1] == 'X');
        var digits = isHex ? span[2..] : span;
        if (digits.IsEmpty)
        {
            error = $"'{text}' has no digits";
            return false;
        }
        foreach (var c in digits)
        {
            if (isHex ? !char.IsAsciiHexDigit(c) : !char.IsAsciiDigit(c))
            {
                error = $"'{text}' is not a {(isHex ? "hex" : "decimal")} number";
                return false;
            }
        }
        var number = isHex
            ? BigInteger.Parse("0" + digits.ToString(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
            : BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        if (number.GetBitLength() > 256)
        {
            error = $"{text} is 2^256 or more";
            overflow = true;
            return false;
        }
        value = (UInt256)number;
        error = null;
        return true;
    }
}
