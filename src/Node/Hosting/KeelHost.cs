using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Keel.Node.Hosting;

/// <summary>
/// Builds the generic host every long-running `keel` command runs in (node, devnet, p2p listen).
/// Configuration is layered, later sources winning: built-in defaults, the JSON file given with
/// --config, environment variables prefixed KEEL_ (sections separated by "__", as
/// KEEL_Metrics__Port=9500), then the command's own flags. One place decides the order so that an
/// operator can predict which value wins.
/// </summary>
public static class KeelHost
{
    /// <summary>Environment variables with this prefix are configuration (the prefix is removed).</summary>
    public const string EnvironmentPrefix = "KEEL_";

    /// <summary>How long hosted services get to stop after SIGINT/SIGTERM before the host gives up.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A web application builder (Kestrel serves /metrics and JSON-RPC) with Keel's configuration
    /// layers and console logging. Kestrel listens nowhere until a command adds an endpoint.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(HostSettings settings)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = "keel",
            EnvironmentName = Environments.Production,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        ConfigureSources(builder.Configuration, settings);

        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        builder.Logging.SetMinimumLevel(settings.MinimumLogLevel);
        // Kestrel and routing chatter at Information hides the node's own lines.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        return builder;
    }

    /// <summary>Adds the configuration layers in precedence order (exposed for tests).</summary>
    public static void ConfigureSources(IConfigurationBuilder configuration, HostSettings settings)
    {
        configuration.AddInMemoryCollection(settings.Defaults);
        if (settings.ConfigFile is { } file)
        {
            if (!File.Exists(file))
            {
                throw new HostConfigurationException($"config file not found: {file}");
            }
            try
            {
                // ConfigurationManager (what the host uses) loads a source as it is added, so a
                // malformed file fails here, where we can name it.
                configuration.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
            }
            catch (InvalidDataException e)
            {
                throw new HostConfigurationException($"config file {file} is not valid JSON: {e.InnerException?.Message ?? e.Message}");
            }
        }
        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddInMemoryCollection(settings.Flags);
    }
}

/// <summary>What a command passes to <see cref="KeelHost.CreateBuilder"/>.</summary>
public sealed record HostSettings
{
    /// <summary>The JSON file given with --config, if any.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Built-in defaults, lowest precedence (documented with each subsystem's options).</summary>
    public IReadOnlyDictionary<string, string?> Defaults { get; init; } = new Dictionary<string, string?>();

    /// <summary>Values given as flags on the command line, highest precedence.</summary>
    public IReadOnlyDictionary<string, string?> Flags { get; init; } = new Dictionary<string, string?>();

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;
}

/// <summary>Configuration that cannot be used: the message says which file or key and why.</summary>
public sealed class HostConfigurationException(string message) : Exception(message);
