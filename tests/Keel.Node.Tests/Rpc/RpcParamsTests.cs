using System.Text.Json;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

public class RpcParamsTests
{
    private static RpcParams Params(string json) => new(JsonDocument.Parse(json).RootElement);

    [Theory]
    [InlineData("\"latest\"", BlockTag.Latest, 0UL)]
    [InlineData("\"pending\"", BlockTag.Pending, 0UL)]
    [InlineData("\"earliest\"", BlockTag.Earliest, 0UL)]
    [InlineData("\"safe\"", BlockTag.Safe, 0UL)]
    [InlineData("\"finalized\"", BlockTag.Finalized, 0UL)]
    [InlineData("\"0x0\"", BlockTag.Number, 0UL)]
    [InlineData("\"0x1b4\"", BlockTag.Number, 436UL)]
    [InlineData("{\"blockNumber\":\"0x10\"}", BlockTag.Number, 16UL)]
    public void Block_selectors_parse_tags_numbers_and_eip1898(string json, BlockTag tag, ulong number)
    {
        var block = Params($"[{json}]").Get(0, RpcParam.Block("block"));
        Assert.Equal(tag, block.Tag);
        Assert.Equal(number, block.Number);
    }

    [Fact]
    public void Block_by_hash_keeps_hash_and_canonical_flag()
    {
        var hash = "0x" + new string('a', 64);
        var block = Params($$"""[{"blockHash":"{{hash}}","requireCanonical":true}]""").Get(0, RpcParam.Block("block"));
        Assert.Equal(BlockTag.Hash, block.Tag);
        Assert.True(block.RequireCanonical);
        Assert.Equal(hash, block.ToString());
    }

    [Theory]
    [InlineData("\"Latest\"", "latest, pending")]
    [InlineData("\"0x01\"", "leading zero")]
    [InlineData("12", "JSON string")]
    [InlineData("{}", "exactly one")]
    [InlineData("{\"blockHash\":\"0x12\"}", "want 64")]
    [InlineData("{\"blockHash\":\"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"requireCanonical\":1}", "boolean")]
    public void Bad_block_selectors_name_the_argument_and_reason(string json, string reason)
    {
        var e = Assert.Throws<RpcException>(() => Params($"[\"0x0\",{json}]").Get(1, RpcParam.Block("block")));
        Assert.Equal(RpcErrorCodes.InvalidParams, e.Code);
        Assert.Contains("argument 1 (block)", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Addresses_hashes_and_quantities_are_checked()
    {
        var p = Params($$"""["0x{{new string('1', 40)}}","0x{{new string('2', 64)}}","0x10",true,"abc"]""");
        Assert.Equal(20, p.Get(0, RpcParam.Address("to")).Length);
        Assert.Equal(32, p.Get(1, RpcParam.Hash("hash")).Length);
        Assert.Equal(16UL, p.Get(2, RpcParam.Quantity("n")));
        Assert.True(p.Get(3, RpcParam.Bool("full")));
        Assert.Equal("abc", p.Get(4, RpcParam.String("s")));
        var e = Assert.Throws<RpcException>(() => p.Get(1, RpcParam.Address("to")));
        Assert.Contains("argument 1 (to)", e.Message);
        e = Assert.Throws<RpcException>(() => p.Get(3, RpcParam.Quantity("n")));
        Assert.Contains("want a hex quantity as a JSON string, got a boolean", e.Message);
    }

    [Fact]
    public void Optional_parameters_take_their_default_when_absent_or_null()
    {
        var p = Params("[\"0x1\",null]");
        Assert.Equal(7UL, p.Get(1, RpcParam.Quantity("n").Optional(7)));
        Assert.Equal(7UL, p.Get(2, RpcParam.Quantity("n").Optional(7)));
        var e = Assert.Throws<RpcException>(() => p.Get(1, RpcParam.Quantity("n")));
        Assert.Contains("missing value for required argument 1 (n)", e.Message);
    }

    [Fact]
    public void Data_respects_its_size_bound()
    {
        var e = Assert.Throws<RpcException>(() => Params("[\"0x010203\"]").Get(0, RpcParam.Data("tx", 2)));
        Assert.Contains("limit of 2", e.Message);
    }
}
