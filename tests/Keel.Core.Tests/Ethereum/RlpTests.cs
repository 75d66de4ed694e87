using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Ethereum;

namespace Keel.Core.Tests.Ethereum;

public class RlpTests
{
    private static RlpItem.Bytes B(string hex) => new(Hex.Decode(hex));
    private static RlpItem.Bytes Text(string text) => new(Encoding.ASCII.GetBytes(text));
    private static RlpItem.List L(params RlpItem[] items) => new(items);

    // The examples of the Ethereum RLP specification.
    public static TheoryData<RlpItem, string> SpecExamples => new()
    {
        { Text("dog"), "0x83646f67" },
        { L(Text("cat"), Text("dog")), "0xc88363617483646f67" },
        { B(""), "0x80" },
        { L(), "0xc0" },
        { B("0x00"), "0x00" },
        { B("0x0f"), "0x0f" },
        { B("0x7f"), "0x7f" },
        { B("0x80"), "0x8180" },
        { B("0x0400"), "0x820400" },
        { L(L(), L(L()), L(L(), L(L()))), "0xc7c0c1c0c3c0c1c0" },
        {
            Text("Lorem ipsum dolor sit amet, consectetur adipisicing elit"),
            "0xb8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974"
        },
    };

    [Theory]
    [MemberData(nameof(SpecExamples))]
    public void Spec_examples_encode_and_decode(RlpItem item, string hex)
    {
        Assert.Equal(hex, Hex.Encode(item.Encode()));
        Assert.Equal(item, RlpItem.Decode(Hex.Decode(hex)));
    }

    [Theory]
    [InlineData(0UL, "0x80")]
    [InlineData(15UL, "0x0f")]
    [InlineData(127UL, "0x7f")]
    [InlineData(128UL, "0x8180")]
    [InlineData(1024UL, "0x820400")]
    [InlineData(ulong.MaxValue, "0x88ffffffffffffffff")]
    public void Integers_are_minimal_big_endian(ulong value, string hex)
    {
        Assert.Equal(hex, Hex.Encode(new RlpWriter().WriteULong(value).ToArray()));
        Assert.Equal(hex, Hex.Encode(new RlpWriter().WriteUInt256(value).ToArray()));
        var reader = new RlpReader(Hex.Decode(hex));
        Assert.Equal(value, reader.ReadULong());
        reader.EnsureEnd();
    }

    [Fact]
    public void Long_lists_and_strings_use_the_long_form()
    {
        var payload = new byte[1000];
        var encoded = new RlpWriter().StartList().WriteBytes(payload).EndList().ToArray();
        Assert.Equal("0xf903eb" + "b903e8", Hex.Encode(encoded.AsSpan(0, 6)));
        var list = new RlpReader(encoded).ReadList();
        Assert.Equal(1000, list.ReadBytes().Length);
        list.EnsureEnd();
    }

    [Theory]
    [InlineData("0x8100", "single byte 0x00 below 0x80 encoded as a string", 0)]
    [InlineData("0x817f", "single byte 0x7f below 0x80 encoded as a string", 0)]
    [InlineData("0xb80100", "long form used for a length of 1", 0)]
    [InlineData("0xb800", "length has a leading zero byte", 0)]
    [InlineData("0xf800", "length has a leading zero byte", 0)]
    [InlineData("0xf83700", "long form used for a length of 55", 0)]
    [InlineData("0x836464", "length 3 runs past the end of the input", 0)]
    [InlineData("0xc38080", "length 3 runs past the end of the input", 0)]
    [InlineData("0xbf01", "length of length (8 bytes) runs past the end", 0)]
    [InlineData("0xbb01000000000000", "length 16777216 runs past the end", 0)]
    [InlineData("0xbc0100000000000000", "length takes 5 bytes", 0)]
    [InlineData("0x8080", "trailing byte", 1)]
    [InlineData("0xc28080ff", "trailing byte", 3)]
    [InlineData("0xc3808100", "single byte 0x00 below 0x80 encoded as a string", 2)]
    [InlineData("0x", "input ends where an item was expected", 0)]
    public void Non_canonical_or_truncated_input_is_rejected_with_offset(string hex, string problem, int offset)
    {
        var error = Assert.Throws<RlpException>(() => RlpItem.Decode(Hex.Decode(hex)));
        Assert.Contains(problem, error.Message);
        Assert.Equal(offset, error.Offset);
        Assert.Contains($"at offset {offset}", error.Message);
    }

    [Theory]
    [InlineData("0x820001", "a leading zero byte")]
    [InlineData("0x8900ffffffffffffffff", "a leading zero byte")]
    [InlineData("0x89010000000000000000", "9 bytes, at most 8")]
        public void Integers_must_be_canonical_and_fit(string hex, string problem)
    {
        var error = Assert.Throws<RlpException>(() => new RlpReader(Hex.Decode(hex)).ReadULong("nonce"));
        Assert.Contains("nonce: integer has " + problem, error.Message);
    }

    [Fact]
    public void Typed_readers_check_sizes()
    {
        Assert.Contains("expected a string, found a list", Assert.Throws<RlpException>(() => new RlpReader(Hex.Decode("0xc0")).ReadULong()).Message);
        Assert.Contains("20 bytes", Assert.Throws<RlpException>(() => new RlpReader(Hex.Decode("0x820102")).ReadAddress("to")).Message);
        Assert.Null(new RlpReader(Hex.Decode("0x80")).ReadOptionalAddress());
        Assert.Contains("32 bytes", Assert.Throws<RlpException>(() => new RlpReader(Hex.Decode("0x820102")).ReadHash32()).Message);
        Assert.Contains("expected a list", Assert.Throws<RlpException>(() => new RlpReader(Hex.Decode("0x80")).ReadList("tx")).Message);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_rejected()
    {
        byte[] bytes = [0xc0];
        for (var i = 0; i < RlpItem.MaxDepth; i++)
        {
            bytes = new RlpWriter().StartList().WriteEncoded(bytes).EndList().ToArray();
        }
        Assert.Contains("nested deeper", Assert.Throws<RlpException>(() => RlpItem.Decode(bytes)).Message);
    }

    private static Gen<RlpItem> Items(int size) => size <= 0
        ? ArbMap.Default.GeneratorFor<byte[]>().Select(b => (RlpItem)new RlpItem.Bytes(b))
        : Gen.OneOf(
            ArbMap.Default.GeneratorFor<byte[]>().Select(b => (RlpItem)new RlpItem.Bytes(b)),
            Gen.Choose(0, 60).Select(n => (RlpItem)new RlpItem.Bytes(new byte[n * 3].Select((_, i) => (byte)(i * 7 + n)).ToArray())),
            Items(size / 2).ListOf().Select(items => (RlpItem)new RlpItem.List([.. items])));

    [Fact]
    public void Any_tree_round_trips()
    {
        Prop.ForAll(Gen.Sized(Items).ToArbitrary(), item => RlpItem.Decode(item.Encode()).Equals(item))
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Any_accepted_input_is_the_canonical_encoding_of_what_it_decodes_to()
    {
        // Random bytes: either an RlpException, or decoding then encoding gives the same bytes.
        Prop.ForAll<byte[]>(bytes =>
        {
            RlpItem item;
            try
            {
                item = RlpItem.Decode(bytes);
            }
            catch (RlpException)
            {
                return true;
            }
            return item.Encode().AsSpan().SequenceEqual(bytes);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Writer_refuses_unbalanced_lists()
    {
        var writer = new RlpWriter().StartList();
        Assert.Throws<InvalidOperationException>(() => writer.ToArray());
        Assert.Throws<InvalidOperationException>(() => new RlpWriter().EndList());
    }
}
