using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Metrics;

/// <summary>Wires a <see cref="PrometheusExporter"/> into the generic host and serves it as GET /metrics on a Kestrel app.</summary>
public static class PrometheusEndpointExtensions
{
    public const string DefaultPath = "/metrics";

    /// <summary>Registers one exporter for the process (it starts listening to meters when first resolved).</summary>
    public static IServiceCollection AddPrometheusExporter(this IServiceCollection services, PrometheusExporterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddSingleton(_ => new PrometheusExporter(options));
    }

    /// <summary>GET /metrics from the exporter registered by <see cref="AddPrometheusExporter"/>.</summary>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string path = DefaultPath) =>
        endpoints.MapPrometheusMetrics(endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>(), path);

    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, PrometheusExporter exporter, string path = DefaultPath)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        return endpoints.MapGet(path, async context =>
        {
            // Rendered to a string first so that a failure becomes a 500, not half a scrape.
            var body = exporter.Collect();
            context.Response.ContentType = PrometheusExporter.ContentType;
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.WriteAsync(body, context.RequestAborted);
        });
    }
}

/// <summary>
/// A small Kestrel server with only GET /metrics, for commands that host nothing else
/// (`keel node`, `keel prover`, the devnet's processes). Port 0 picks a free port; <see cref="Port"/>
/// tells which.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    /// <summary>The port Prometheus exporters conventionally use for OpenTelemetry-style exporters; free of Keel's RPC (9545) and p2p (30400) ranges.</summary>
    public const int DefaultPort = 9464;

    private readonly WebApplication _app;

    private MetricsServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The bound port (the real one when 0 was asked for).</summary>
    public int Port { get; }

    public static async Task<MetricsServer> StartAsync(PrometheusExporter exporter, IPAddress address, int port = DefaultPort, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        var builder = WebApplication.CreateSlimBuilder();
        // The node's own logging owns the console; Kestrel's start-up chatter is not wanted there.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port));
        var app = builder.Build();
        app.MapPrometheusMetrics(exporter);
        await app.StartAsync(cancellationToken);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var actualPort = bound is null ? port : new Uri(bound).Port;
        return new MetricsServer(app, actualPort);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
