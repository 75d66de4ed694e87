using FsCheck;
using FsCheck.Fluent;

namespace Keel.Core.Tests.Primitives;

public class HexTests
{
    [Fact]
    public void Encodes_lowercase_with_optional_prefix()
    {
        Assert.Equal("0x00ff1a", Hex.Encode([0x00, 0xff, 0x1a]));
        Assert.Equal("00ff1a", Hex.Encode([0x00, 0xff, 0x1a], prefix: false));
        Assert.Equal("0x", Hex.Encode([]));
    }

    [Theory]
    [InlineData("0x00FF1a")]
    [InlineData("00ff1A")]
    [InlineData("0X00ff1a")]
    public void Decodes_with_or_without_prefix_in_any_case(string text)
    {
        Assert.Equal(new byte[] { 0x00, 0xff, 0x1a }, Hex.Decode(text));
    }

    [Theory]
    [InlineData("0x")]
    [InlineData("")]
    public void Empty_hex_is_no_bytes(string text)
    {
        Assert.Empty(Hex.Decode(text));
    }

    [Theory]
    [InlineData("0x123", "odd")]
    [InlineData("0xzz", "'z' at digit 0")]
    [InlineData("0x0g", "'g' at digit 1")]
    [InlineData("0x 1", "' ' at digit 0")]
    public void Bad_hex_throws_a_format_exception_that_says_why(string text, string fragment)
    {
        var error = Assert.Throws<HexFormatException>(() => Hex.Decode(text));
        Assert.Contains(fragment, error.Message);
        Assert.IsAssignableFrom<FormatException>(error);
        Assert.False(Hex.TryDecode(text, out _));
    }

    [Fact]
    public void Round_trips_any_bytes()
    {
        Prop.ForAll<byte[]>(bytes => Hex.Decode(Hex.Encode(bytes)).AsSpan().SequenceEqual(bytes)
                                     && Hex.Decode(Hex.Encode(bytes, prefix: false).ToUpperInvariant()).AsSpan().SequenceEqual(bytes))
            .QuickCheckThrowOnFailure();
    }
}
