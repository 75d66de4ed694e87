using Keel.Node.Hosting;
using Microsoft.Extensions.Configuration;

namespace Keel.Node.Tests.Hosting;

public class KeelHostTests
{
    [Fact]
    public void Later_layers_win_defaults_then_file_then_environment_then_flags()
    {
        var file = Path.Combine(Path.GetTempPath(), $"keel-host-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "HostTest": { "FromFile": "file", "Shadowed": "file", "ByEnv": "file", "ByFlag": "file" } }""");
        // Unique names: the process environment is shared by tests running in parallel.
        var envKey = $"{KeelHost.EnvironmentPrefix}HostTest__ByEnv";
        var envFlagKey = $"{KeelHost.EnvironmentPrefix}HostTest__ByFlag";
        Environment.SetEnvironmentVariable(envKey, "env");
        Environment.SetEnvironmentVariable(envFlagKey, "env");
        try
        {
            var settings = new HostSettings
            {
                ConfigFile = file,
                Defaults = new Dictionary<string, string?> { ["HostTest:Default"] = "default", ["HostTest:Shadowed"] = "default" },
                Flags = new Dictionary<string, string?> { ["HostTest:ByFlag"] = "flag" },
            };
            var builder = new ConfigurationBuilder();
            KeelHost.ConfigureSources(builder, settings);
            var config = builder.Build();

            Assert.Equal("default", config["HostTest:Default"]);
            Assert.Equal("file", config["HostTest:FromFile"]);
            Assert.Equal("file", config["HostTest:Shadowed"]);
            Assert.Equal("env", config["HostTest:ByEnv"]);
            Assert.Equal("flag", config["HostTest:ByFlag"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(envKey, null);
            Environment.SetEnvironmentVariable(envFlagKey, null);
            File.Delete(file);
        }
    }

    [Fact]
    public void A_missing_config_file_is_a_clear_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"keel-missing-{Guid.NewGuid():N}.json");
        var e = Assert.Throws<HostConfigurationException>(() =>
            KeelHost.ConfigureSources(new ConfigurationBuilder(), new HostSettings { ConfigFile = missing }));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void A_malformed_config_file_is_reported_with_its_name()
    {
        var file = Path.Combine(Path.GetTempPath(), $"keel-bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, "{ not json");
        try
        {
            // The host's configuration manager loads each source as it is added.
            var e = Assert.Throws<HostConfigurationException>(() =>
                KeelHost.ConfigureSources(new ConfigurationManager(), new HostSettings { ConfigFile = file }));
            Assert.Contains(file, e.Message);
            Assert.Contains("not valid JSON", e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
