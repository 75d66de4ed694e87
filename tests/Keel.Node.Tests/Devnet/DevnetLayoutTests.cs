using Keel.Node.Service;
using Keel.Rollup.Genesis;

namespace Keel.Node.Tests.Devnet;

public sealed class DevnetLayoutTests
{
    [Fact]
    public void The_printed_dev_keys_are_exactly_the_funded_genesis_accounts()
    {
        var funded = DevnetLayout.FundedAccounts();
        Assert.Equal(RollupGenesis.AnvilDevAccounts, funded.Select(a => a.Address));
    }

    [Fact]
    public void Prepare_writes_loadable_configs_resumes_them_and_refuses_a_different_shape()
    {
        var dir = DevnetHarness.TempDir("layout");
        try
        {
            var options = DevnetHarness.Options(dir, validators: 3);
            var first = DevnetLayout.Prepare(options, fresh: true);
            Assert.Equal(3, first.Count);
            Assert.Equal(first[0].RpcPort, options.RpcPort);
            Assert.Equal(-1, first[1].RpcPort);
            var loaded = NodeConfig.Load(DevnetLayout.ConfigPath(dir, 2));
            Assert.Equal(first[2].P2pPort, loaded.P2pPort);
            Assert.Equal(first[0].Validators.Select(v => v.PeerId), loaded.Validators.Select(v => v.PeerId));

            var again = DevnetLayout.Prepare(options, fresh: false);
            Assert.Equal(first.Select(c => c.KeyFile), again.Select(c => c.KeyFile));
            Assert.Equal(first[0].Validators.Select(v => v.Address), again[0].Validators.Select(v => v.Address));

            Assert.Throws<NodeConfigException>(() => DevnetLayout.Prepare(options with { Validators = 4 }, fresh: false));
            var fresh = DevnetLayout.Prepare(options with { Validators = 4 }, fresh: true);
            Assert.Equal(4, fresh.Count);
            Assert.DoesNotContain(fresh[0].Validators[0].Address, first[0].Validators.Select(v => v.Address));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("{}", "validators")]
    [InlineData("{\"validators\": [], \"keyFile\": \"k\", \"dataDir\": \"d\"}", "empty")]
    [InlineData("{\"validators\": [{\"address\": \"0x12\", \"peerId\": \"x\", \"p2p\": \"/ip4/127.0.0.1/tcp/1\"}], \"keyFile\": \"k\", \"dataDir\": \"d\"}", "not an address")]
    [InlineData("{\"validators\": [{\"address\": \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\", \"peerId\": \"nope\", \"p2p\": \"/ip4/127.0.0.1/tcp/1\"}], \"keyFile\": \"k\", \"dataDir\": \"d\"}", "not a peer id")]
    [InlineData("[1,2]", "JSON object")]
    public void Bad_node_configs_are_refused_with_a_reason(string json, string reason)
    {
        var e = Assert.Throws<NodeConfigException>(() => NodeConfig.Parse(json, Path.GetTempPath()));
        Assert.Contains(reason, e.Message);
    }
}

public sealed class NodeConfigTests
{
    [Fact]
    public void A_config_written_as_json_reads_back_the_same()
    {
        var dir = DevnetHarness.TempDir("config");
        try
        {
            var config = DevnetLayout.Prepare(DevnetHarness.Options(dir, validators: 2), fresh: true)[0] with { MaxTxsPerBlock = 77, Execute = false, BlockTimeMs = 12 };
            var read = NodeConfig.Parse(config.ToJson().ToJsonString(), dir);
            Assert.Equal(config.ToJson().ToJsonString(), read.ToJson().ToJsonString());
            Assert.Equal(77, read.MaxTxsPerBlock);
            Assert.False(read.Execute);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("maxTxsPerBlock", 0)]
    [InlineData("blockTimeMs", 0)]
    public void Out_of_range_numbers_are_refused(string field, int value)
    {
        var json = $"{{\"keyFile\": \"k\", \"dataDir\": \"d\", \"{field}\": {value}, \"validators\": [{{\"address\": \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\", \"peerId\": \"12D3KooWMSyUmRwCKswR8jnw1NkF2HqEAvqpmiCcnCVC9FoU8KtE\", \"p2p\": \"/ip4/127.0.0.1/tcp/1\"}}]}}";
        var e = Assert.Throws<NodeConfigException>(() => NodeConfig.Parse(json, Path.GetTempPath()));
        Assert.Contains(field, e.Message);
    }
}
