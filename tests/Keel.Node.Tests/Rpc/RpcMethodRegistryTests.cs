using Microsoft.Extensions.Configuration;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

public class RpcMethodRegistryTests
{
    [Fact]
    public void Duplicate_and_late_registrations_fail_at_start_up()
    {
        var registry = new RpcMethodRegistry();
        registry.Add("a_b", _ => RpcResult.Null);
        Assert.Throws<InvalidOperationException>(() => registry.Add("a_b", _ => RpcResult.Null));
        registry.Freeze();
        var e = Assert.Throws<InvalidOperationException>(() => registry.Add("a_c", _ => RpcResult.Null));
        Assert.Contains("a_c", e.Message);
        Assert.True(registry.Contains("a_b"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("rpc.discover")]
    [InlineData("eth chainId")]
    [InlineData("eth-chainId")]
    public void Bad_method_names_are_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => new RpcMethodRegistry().Add(name, _ => RpcResult.Null));
    }

    [Fact]
    public void Every_server_starts_with_the_standard_methods()
    {
        var server = new RpcServer(new RpcServerOptions { ChainId = 1 });
        foreach (var name in new[] { "web3_clientVersion", "eth_chainId", "net_version", "rpc_modules", "eth_subscribe", "eth_unsubscribe" })
        {
            Assert.True(server.Methods.Contains(name), name);
        }
    }

    [Fact]
    public void Options_relations_are_checked()
    {
        Assert.Throws<ArgumentException>(() => new RpcServer(new RpcServerOptions { ChainId = 1, MaxBatchLength = 0 }));
        var e = Assert.Throws<ArgumentException>(() => new RpcServer(new RpcServerOptions
        {
            ChainId = 1,
            MaxPendingMessagesPerConnection = 4,
            MaxConcurrentCallsPerConnection = 8,
        }));
        Assert.Contains("MaxPendingMessagesPerConnection", e.Message);
    }
}

public class RpcServerOptionsTests
{
    [Fact]
    public void Options_come_from_the_rpc_configuration_section_with_defaults()
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Rpc:MaxBatchLength"] = "7", ["Rpc:RequestTimeoutMs"] = "0" })
            .Build();
        var options = RpcServerOptions.FromConfiguration(config, 902, 9546);
        Assert.Equal(902UL, options.ChainId);
        Assert.Equal(9546, options.Port);
        Assert.Equal(7, options.MaxBatchLength);
        Assert.Equal(Timeout.InfiniteTimeSpan, options.RequestTimeout);
        Assert.Equal(RpcServerOptions.DefaultMaxRequestBodyBytes, options.MaxRequestBodyBytes);
        Assert.Equal(System.Net.IPAddress.Loopback, options.BindAddress);
    }

    [Fact]
    public void Bad_configuration_values_name_the_key()
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Rpc:MaxBatchLength"] = "many" })
            .Build();
        var e = Assert.Throws<Keel.Node.Hosting.HostConfigurationException>(() => RpcServerOptions.FromConfiguration(config, 1, 9545));
        Assert.Contains("Rpc:MaxBatchLength", e.Message);
        config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Rpc:MaxSubscriptionsPerConnection"] = "-1" })
            .Build();
        e = Assert.Throws<Keel.Node.Hosting.HostConfigurationException>(() => RpcServerOptions.FromConfiguration(config, 1, 9545));
        Assert.Contains("MaxSubscriptionsPerConnection", e.Message);
    }
}
