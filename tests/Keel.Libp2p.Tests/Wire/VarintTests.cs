using FsCheck;
using FsCheck.Fluent;
using Keel.Libp2p.Wire;

namespace Keel.Libp2p.Tests.Wire;

public sealed class VarintTests
{
    [Fact]
    public void Round_trips_every_63_bit_value()
    {
        Prop.ForAll<ulong>(v =>
        {
            v &= long.MaxValue;
            var bytes = Varint.Encode(v);
            return bytes.Length == Varint.Size(v) && Varint.Read(bytes, out var used) == v && used == bytes.Length;
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(1UL, "01")]
    [InlineData(127UL, "7f")]
    [InlineData(128UL, "8001")]
    [InlineData(300UL, "ac02")]
    [InlineData(16384UL, "808001")]
    public void Known_encodings(ulong value, string hex) =>
        Assert.Equal(hex, Convert.ToHexString(Varint.Encode(value)).ToLowerInvariant());

    [Theory]
    [InlineData("8000")]
    [InlineData("ffffffffffffffffff01")]
    [InlineData("80")]
    public void Non_minimal_overlong_and_truncated_are_refused(string hex)
    {
        Assert.Throws<MalformedDataException>(() => Varint.Read(Convert.FromHexString(hex), out _));
    }

    [Fact]
    public async Task Length_prefixed_reader_refuses_oversize_before_reading_the_body()
    {
        var stream = new MemoryStream([.. Varint.Encode(10_000), 1, 2, 3]);
        var e = await Assert.ThrowsAsync<MessageTooLargeException>(async () => await LengthPrefixed.ReadAsync(stream, 1000, default));
        Assert.Equal(10_000, e.Size);
        Assert.Null(await LengthPrefixed.ReadAsync(new MemoryStream(), 1000, default));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await LengthPrefixed.ReadAsync(new MemoryStream([5, 1, 2]), 1000, default));
    }
}
