using FsCheck;
using FsCheck.Fluent;

namespace Keel.Core.Tests.Primitives;

public class AddressTests
{
    // The EIP-55 examples from the EIP itself.
    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")]
    [InlineData("0xde709f2102306220921060314715629080e2fb77")]
    public void Eip55_examples_round_trip(string checksummed)
    {
        var address = Address.Parse(checksummed.ToLowerInvariant());
        Assert.Equal(checksummed, address.ToString());
        Assert.Equal(address, Address.Parse(checksummed));
        Assert.Equal(address, Address.Parse(checksummed[2..]));
    }

    [Fact]
    public void Wrong_checksum_in_mixed_case_is_rejected()
    {
        var error = Assert.Throws<AddressFormatException>(() => Address.Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
        Assert.Contains("checksum", error.Message);
        Assert.False(Address.TryParse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", out _));
        // All upper case carries no checksum and is accepted.
        Assert.True(Address.TryParse("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", out var upper));
        Assert.Equal("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", upper.ToString());
    }

    [Theory]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg")]
    [InlineData("")]
    public void Malformed_addresses_are_rejected(string text)
    {
        Assert.Throws<AddressFormatException>(() => Address.Parse(text));
        Assert.False(Address.TryParse(text, out _));
    }

    [Fact]
    public void Zero_and_default_are_the_same_address()
    {
        Assert.Equal(Address.Zero, default);
        Assert.Equal(Address.Zero, Address.FromBytes(new byte[20]));
        Assert.Equal("0x0000000000000000000000000000000000000000", Address.Zero.ToString());
        Assert.True(Address.Zero.IsZero);
        Assert.Equal(20, Address.Zero.Bytes.Length);
    }

    [Fact]
    public void From_bytes_requires_20_bytes_and_copies()
    {
        Assert.Throws<ArgumentException>(() => Address.FromBytes(new byte[19]));
        var bytes = new byte[20];
        var address = Address.FromBytes(bytes);
        bytes[0] = 1;
        Assert.True(address.IsZero);
    }

    [Fact]
    public void Any_address_round_trips_through_its_checksummed_text()
    {
        Prop.ForAll<int>(seed =>
        {
            var bytes = new byte[20];
            new Random(seed).NextBytes(bytes);
            var address = Address.FromBytes(bytes);
            var text = address.ToString();
            return Address.Parse(text) == address && address.ToLowerHex() == text.ToLowerInvariant()
                && address.GetHashCode() == Address.FromBytes(bytes).GetHashCode();
        }).QuickCheckThrowOnFailure();
    }
}
