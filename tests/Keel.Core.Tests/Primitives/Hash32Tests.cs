namespace Keel.Core.Tests.Primitives;

public class Hash32Tests
{
    [Fact]
    public void Parses_and_prints_lowercase_hex()
    {
        const string text = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";
        var hash = Hash32.Parse(text.ToUpperInvariant().Replace("0X", "0x"));
        Assert.Equal(text, hash.ToString());
        Assert.Equal(hash, Hash32.Parse(text[2..]));
        Assert.Equal(hash, Hash32.FromBytes(Hex.Decode(text)));
        Assert.NotEqual(Hash32.Zero, hash);
    }

    [Fact]
    public void Zero_is_default_and_prints_64_zeros()
    {
        Assert.Equal(Hash32.Zero, default);
        Assert.Equal("0x" + new string('0', 64), Hash32.Zero.ToString());
        Assert.True(default(Hash32).IsZero);
    }

    [Theory]
    [InlineData("0x1234")]
    [InlineData("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a47")]
    [InlineData("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a4zz")]
    public void Wrong_length_or_bad_hex_is_rejected(string text)
    {
        Assert.Throws<HexFormatException>(() => Hash32.Parse(text));
        Assert.False(Hash32.TryParse(text, out _));
        Assert.Throws<ArgumentException>(() => Hash32.FromBytes(new byte[31]));
    }
}
