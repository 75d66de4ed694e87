using System.Numerics;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

public class RpcHexTests
{
    [Theory]
    [InlineData(0UL, "0x0")]
    [InlineData(1UL, "0x1")]
    [InlineData(0x41UL, "0x41")]
    [InlineData(0x400UL, "0x400")]
    [InlineData(ulong.MaxValue, "0xffffffffffffffff")]
    public void Quantities_have_no_leading_zeros(ulong value, string encoded)
    {
        Assert.Equal(encoded, RpcHex.EncodeQuantity(value));
        Assert.True(RpcHex.TryParseQuantity(encoded, out var back, out _));
        Assert.Equal(value, back);
    }

    [Theory]
    [InlineData(new byte[0], "0x0")]
    [InlineData(new byte[] { 0, 0, 0 }, "0x0")]
    [InlineData(new byte[] { 0, 0x0a, 0xbc }, "0xabc")]
    [InlineData(new byte[] { 0x10, 0x00 }, "0x1000")]
    public void Big_endian_quantities_strip_leading_zero_nibbles(byte[] bigEndian, string encoded)
    {
        Assert.Equal(encoded, RpcHex.EncodeQuantity(bigEndian));
        Assert.Equal($"\"{encoded}\"", RpcResult.Quantity(bigEndian).ToString());
    }

    [Theory]
    [InlineData("", "without 0x")]
    [InlineData("12", "without 0x")]
    [InlineData("0x", "\"0x\"")]
    [InlineData("0x01", "leading zero")]
    [InlineData("0x00", "leading zero")]
    [InlineData("0xg", "invalid hex")]
    [InlineData("0x10000000000000000", "> 64 bits")]
    public void Malformed_quantities_are_refused_with_a_reason(string text, string reason)
    {
        Assert.False(RpcHex.TryParseQuantity(text, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Big_quantities_parse_up_to_their_bit_limit()
    {
        var max = "0x" + new string('f', 64);
        Assert.True(RpcHex.TryParseQuantity(max, 256, out var value, out _));
        Assert.Equal(BigInteger.Pow(2, 256) - 1, value);
        Assert.False(RpcHex.TryParseQuantity("0x1" + new string('0', 64), 256, out _, out var error));
        Assert.Contains("> 256 bits", error);
        Assert.True(RpcHex.TryParseQuantity("0xabc", 256, out value, out _));
        Assert.Equal(0xabc, (int)value);
    }

    [Theory]
    [InlineData("0x", 0)]
    [InlineData("0x00", 1)]
    [InlineData("0xDeadBEEF", 4)]
    public void Data_parses_even_length_hex(string text, int length)
    {
        Assert.True(RpcHex.TryParseData(text, -1, 100, out var bytes, out _));
        Assert.Equal(length, bytes.Length);
        Assert.Equal(text.ToLowerInvariant(), RpcHex.EncodeData(bytes));
    }

    [Theory]
    [InlineData("0x0", -1, "odd length")]
    [InlineData("abcd", -1, "without 0x")]
    [InlineData("0xzz", -1, "invalid hex")]
    [InlineData("0x1234", 20, "want 40")]
    [InlineData("0x" + "00000000000000000000", -1, "limit of 8")]
    public void Malformed_data_is_refused_with_a_reason(string text, int exact, string reason)
    {
        Assert.False(RpcHex.TryParseData(text, exact, 8, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Quantity_and_data_round_trip_through_json_for_any_value()
    {
        Prop.ForAll<ulong>(value =>
        {
            var json = RpcResult.Quantity(value).ToString();
            var text = JsonSerializer.Deserialize<string>(json)!;
            return RpcHex.TryParseQuantity(text, out var back, out _) && back == value
                && text == "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        }).QuickCheckThrowOnFailure();

        Prop.ForAll<byte[]>(data =>
        {
            var json = RpcResult.Data(data).ToString();
            var text = JsonSerializer.Deserialize<string>(json)!;
            return RpcHex.TryParseData(text, -1, int.MaxValue, out var back, out _) && back.AsSpan().SequenceEqual(data)
                && text.Length == 2 + 2 * data.Length;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Large_data_is_written_correctly_past_the_stack_buffer()
    {
        var data = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var text = JsonSerializer.Deserialize<string>(RpcResult.Data(data).ToString())!;
        Assert.Equal("0x" + Convert.ToHexStringLower(data), text);
    }

    [Fact]
    public void Results_have_ethereum_shapes()
    {
        Assert.Equal("null", RpcResult.Null.ToString());
        Assert.Equal("null", RpcResult.Json(null).ToString());
        Assert.Equal("true", RpcResult.Bool(true).ToString());
        Assert.Equal("\"0x\"", RpcResult.Data(Array.Empty<byte>()).ToString());
        Assert.Equal("\"0x0\"", RpcResult.Quantity(BigInteger.Zero).ToString());
        Assert.Equal("{\"a\":1}", RpcResult.RawJson("{\"a\":1}"u8.ToArray()).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => RpcResult.Quantity(BigInteger.MinusOne));
    }
}
