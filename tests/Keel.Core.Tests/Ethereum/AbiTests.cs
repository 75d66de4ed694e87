using Keel.Core.Ethereum;

namespace Keel.Core.Tests.Ethereum;

/// <summary>Expected encodings from ethers 6 AbiCoder.defaultAbiCoder().encode(types, values).</summary>
public class AbiTests
{
    private static readonly Address Anvil0 = Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    private static readonly Hash32 EmptyKeccak = Hash32.Parse("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

    private const string StaticTuple = "0x00000000000000000000000000000000000000000000000000000000075bcd15000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb922660000000000000000000000000000000000000000000000000000000000000001c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";
    private const string MixedTuple = "0x0000000000000000000000000000000000000000000000000000000000000001000000000000000000000000000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000000000000000e000000000000000000000000000000000000000000000000000000000000001600000000000000000000000000000000000000000000000000000000000000021ababababababababababababababababababababababababababababababababab00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000300000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000000000000000000000000000000000000000000000000000000000046b65656c00000000000000000000000000000000000000000000000000000000";
    private const string ArraysTuple = "0x000000000000000000000000000000000000000000000000000000000000006000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb9226600000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

    [Fact]
    public void Static_tuple_matches_ethers()
    {
        var encoded = new AbiEncoder().UInt64(123456789).Address(Anvil0).Bool(true).Bytes32(EmptyKeccak).ToArray();
        Assert.Equal(StaticTuple, Hex.Encode(encoded));
        var decoder = new AbiDecoder(encoded);
        Assert.Equal(123456789UL, decoder.ReadUInt64());
        Assert.Equal(Anvil0, decoder.ReadAddress());
        Assert.True(decoder.ReadBool());
        Assert.Equal(EmptyKeccak, decoder.ReadBytes32());
    }

    [Fact]
    public void Dynamic_values_match_ethers()
    {
        Assert.Equal(
            "0x000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000050102030405000000000000000000000000000000000000000000000000000000",
            Hex.Encode(new AbiEncoder().Bytes([1, 2, 3, 4, 5]).ToArray()));

        var bytes33 = Enumerable.Repeat((byte)0xab, 33).ToArray();
        UInt256[] numbers = [1UL, 2UL, UInt256.MaxValue];
        var encoded = new AbiEncoder().UInt256(1UL).Bytes(bytes33).UInt256Array(numbers).String("keel").ToArray();
        Assert.Equal(MixedTuple, Hex.Encode(encoded));
        var decoder = new AbiDecoder(encoded);
        Assert.Equal(UInt256.One, decoder.ReadUInt256());
        Assert.Equal(bytes33, decoder.ReadBytes());
        Assert.Equal(numbers, decoder.ReadUInt256Array());
        Assert.Equal("keel", decoder.ReadString());
    }

    [Fact]
    public void Arrays_and_empty_bytes_match_ethers()
    {
        var encoded = new AbiEncoder().Bytes32Array([Hash32.Zero]).AddressArray([Anvil0, Address.Zero]).Bytes([]).ToArray();
        Assert.Equal(ArraysTuple, Hex.Encode(encoded));
        var decoder = new AbiDecoder(encoded);
        Assert.Equal([Hash32.Zero], decoder.ReadBytes32Array());
        Assert.Equal([Anvil0, Address.Zero], decoder.ReadAddressArray());
        Assert.Empty(decoder.ReadBytes());
    }

    [Fact]
    public void Selector_and_calldata()
    {
        Assert.Equal("0xa9059cbb", Hex.Encode(Abi.Selector("transfer(address,uint256)")));
        var calldata = new AbiEncoder().Address(Anvil0).UInt64(5).ToCalldata("transfer(address,uint256)");
        Assert.Equal(4 + 64, calldata.Length);
        Assert.Equal("0xa9059cbb", Hex.Encode(calldata.AsSpan(0, 4)));
        // Transfer(address,address,uint256), the ERC-20 event topic.
        Assert.Equal("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", Abi.EventTopic("Transfer(address,address,uint256)").ToString());
    }

    [Theory]
    [InlineData("0x0000000000000000000000000000000000000000000000000000000000000002", "bool must be 0 or 1")]
    [InlineData("0x00", "runs past the end")]
    public void Bad_bools_are_rejected(string hex, string problem)
    {
        var error = Assert.Throws<AbiException>(() => new AbiDecoder(Hex.Decode(hex)).ReadBool());
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Malformed_dynamic_data_is_rejected()
    {
        Assert.Contains("non-zero high bytes", Assert.Throws<AbiException>(() =>
            new AbiDecoder(Hex.Decode("0x" + new string('f', 64))).ReadAddress()).Message);

        var good = Hex.Decode("0x000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000050102030405000000000000000000000000000000000000000000000000000000");
        var badOffset = (byte[])good.Clone();
        badOffset[31] = 0x21;
        Assert.Contains("not word-aligned", Assert.Throws<AbiException>(() => new AbiDecoder(badOffset).ReadBytes()).Message);
        var hugeLength = (byte[])good.Clone();
        hugeLength[63] = 0xff;
        Assert.Contains("length 255 exceeds the data", Assert.Throws<AbiException>(() => new AbiDecoder(hugeLength).ReadBytes()).Message);
        var dirtyPadding = (byte[])good.Clone();
        dirtyPadding[^1] = 1;
        Assert.Contains("non-zero padding", Assert.Throws<AbiException>(() => new AbiDecoder(dirtyPadding).ReadBytes()).Message);
        Assert.Contains("runs past the end", Assert.Throws<AbiException>(() => new AbiDecoder(good[..^1]).ReadBytes()).Message);

        var arrayClaim = new AbiEncoder().UInt256Array([1UL]).ToArray();
        arrayClaim[60] = 0x7f; // count becomes enormous
        Assert.Throws<AbiException>(() => new AbiDecoder(arrayClaim).ReadUInt256Array());
    }
}
