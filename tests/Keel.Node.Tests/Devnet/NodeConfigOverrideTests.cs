using Keel.Node.Service;
using Keel.Node.Tests.Storage;
using Microsoft.Extensions.Configuration;

namespace Keel.Node.Tests.Devnet;

/// <summary>The file, then KEEL_ environment variables, then flags: what an operator running `keel node` can rely on.</summary>
public sealed class NodeConfigOverrideTests
{
    [Fact]
    public void Overrides_win_over_the_file_and_unrelated_keys_are_ignored()
    {
        var dir = DevnetHarness.TempDir("override");
        try
        {
            DevnetLayout.Prepare(DevnetHarness.Options(dir, validators: 2), fresh: true);
            var path = DevnetLayout.ConfigPath(dir, 1);
            var fromFile = NodeConfig.Load(path);
            // The shape environment variables take (KEEL_p2p__port -> "p2p:port"), names in any case.
            var overrides = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["P2P:PORT"] = "40123",
                ["blocktimems"] = "250",
                ["execute"] = "false",
                ["SIM_SEEDS_PER_CASE"] = "5",
            }).Build();

            var loaded = NodeConfig.Load(path, overrides);

            Assert.Equal(40123, loaded.P2pPort);
            Assert.Equal(250, loaded.BlockTimeMs);
            Assert.False(loaded.Execute);
            Assert.Equal(fromFile.DataDir, loaded.DataDir);
            Assert.Equal(fromFile.Validators.Select(v => v.PeerId), loaded.Validators.Select(v => v.PeerId));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("p2p:port", "thirty")]
    [InlineData("rpc:port", "-1")]
    [InlineData("execute", "maybe")]
    public void A_malformed_override_is_refused_naming_it(string key, string value)
    {
        var dir = DevnetHarness.TempDir("override-bad");
        try
        {
            DevnetLayout.Prepare(DevnetHarness.Options(dir, validators: 1), fresh: true);
            var overrides = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
            var e = Assert.Throws<NodeConfigException>(() => NodeConfig.Load(DevnetLayout.ConfigPath(dir, 0), overrides));
            Assert.Contains(key, e.Message);
            Assert.Contains(value, e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Keel_node_takes_its_port_from_the_environment_and_stops_cleanly_on_sigterm()
    {
        var dir = DevnetHarness.TempDir("override-process");
        var ports = DevnetHarness.ConsecutiveFreePorts(4);
        try
        {
            DevnetLayout.Prepare(DevnetHarness.Options(dir, validators: 1), fresh: true);
            var environment = new Dictionary<string, string>
            {
                ["KEEL_p2p__port"] = ports.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["KEEL_rpc__port"] = (ports + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["KEEL_metrics__port"] = (ports + 3).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            using var process = KeelProcess.Start(environment, "node", "--config", DevnetLayout.ConfigPath(dir, 0));
            try
            {
                using var started = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                string? line;
                do
                {
                    line = await process.StandardOutput.ReadLineAsync(started.Token);
                }
                while (line is not null && !line.StartsWith("p2p: ", StringComparison.Ordinal));
                Assert.NotNull(line);
                Assert.Contains($"/tcp/{ports}/", line);

                KeelProcess.Signal(process, KeelProcess.SigTerm);
                using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await process.WaitForExitAsync(stopped.Token);
                Assert.Equal(0, process.ExitCode);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
