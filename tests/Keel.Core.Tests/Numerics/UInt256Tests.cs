using System.Numerics;
using FsCheck;
using FsCheck.Fluent;

namespace Keel.Core.Tests.Numerics;

public class UInt256Tests
{
    private static readonly BigInteger Two256 = BigInteger.One << 256;

    private static UInt256 FromSeed(int seed, int bytes)
    {
        var buffer = new byte[Math.Clamp(bytes, 0, 32)];
        new Random(seed).NextBytes(buffer);
        return UInt256.FromBigEndian(buffer);
    }

    [Fact]
    public void Arithmetic_agrees_with_BigInteger_or_reports_overflow()
    {
        Prop.ForAll<int, int, int>((seedA, seedB, lengths) =>
        {
            var a = FromSeed(seedA, (lengths & 0xff) % 33);
            var b = FromSeed(seedB, ((lengths >> 8) & 0xff) % 33);
            BigInteger x = a, y = b;
            var addOk = UInt256.TryAdd(a, b, out var sum) == (x + y < Two256) && (x + y >= Two256 || (BigInteger)sum == x + y);
            var subOk = UInt256.TrySubtract(a, b, out var difference) == (x >= y) && (x < y || (BigInteger)difference == x - y);
            var mulOk = UInt256.TryMultiply(a, b, out var product) == (x * y < Two256) && (x * y >= Two256 || (BigInteger)product == x * y);
            var divOk = b.IsZero || ((BigInteger)(a / b) == x / y && (BigInteger)(a % b) == x % y);
            var cmpOk = a.CompareTo(b) == x.CompareTo(y) && (a == b) == (x == y);
            return addOk && subOk && mulOk && divOk && cmpOk;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Text_round_trips_in_decimal_and_hex()
    {
        Prop.ForAll<int, byte>((seed, length) =>
        {
            var value = FromSeed(seed, length % 33);
            BigInteger big = value;
            return value.ToString() == big.ToString()
                && UInt256.Parse(value.ToString()) == value
                && UInt256.Parse(value.ToHexString()) == value
                && UInt256.FromBigEndian(value.ToBigEndianTrimmed()) == value
                && value.ToBigEndianTrimmed().Length == value.ByteLength
                && (value.IsZero || value.ToBigEndianTrimmed()[0] != 0);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Boundaries()
    {
        var max = UInt256.Parse("115792089237316195423570985008687907853269984665640564039457584007913129639935");
        Assert.Equal(UInt256.MaxValue, max);
        Assert.Equal("0x" + new string('f', 64), max.ToHexString());
        Assert.Equal("0x0", UInt256.Zero.ToHexString());
        Assert.Equal("0x1", UInt256.One.ToHexString());
        Assert.Equal(UInt256.MaxUInt128, UInt256.Parse("0xffffffffffffffffffffffffffffffff"));
        Assert.Equal(256, max.BitLength);
        Assert.Equal(0, UInt256.Zero.BitLength);
        Assert.Empty(UInt256.Zero.ToBigEndianTrimmed());
        Assert.Equal(1_000_000_000_000_000_000UL, (ulong)UInt256.Parse("1000000000000000000"));
    }

    [Fact]
    public void Overflow_underflow_and_division_by_zero_throw()
    {
        Assert.Throws<OverflowException>(() => UInt256.MaxValue + UInt256.One);
        Assert.Throws<OverflowException>(() => UInt256.Zero - UInt256.One);
        Assert.Throws<OverflowException>(() => UInt256.MaxUInt128 * UInt256.MaxUInt128 * 2UL);
        Assert.Throws<DivideByZeroException>(() => UInt256.One / UInt256.Zero);
        Assert.Throws<OverflowException>(() => (ulong)UInt256.MaxUInt128);
        Assert.Throws<OverflowException>(() => UInt256.Parse("115792089237316195423570985008687907853269984665640564039457584007913129639936"));
        Assert.Throws<OverflowException>(() => UInt256.Parse("0x1" + new string('0', 64)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0x")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData(" 1")]
    [InlineData("0xg")]
    [InlineData("1e18")]
    public void Malformed_text_is_a_format_error(string text)
    {
        Assert.Throws<FormatException>(() => UInt256.Parse(text));
        Assert.False(UInt256.TryParse(text, out _));
    }

    [Fact]
    public void Big_endian_word_layout()
    {
        var value = UInt256.Parse("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
        Assert.Equal(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), value.ToBigEndian());
        Assert.Throws<ArgumentException>(() => UInt256.FromBigEndian(new byte[33]));
    }
}
