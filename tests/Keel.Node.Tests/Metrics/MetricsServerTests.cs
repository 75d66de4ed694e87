using System.Diagnostics.Metrics;
using System.Net;
using Keel.Node.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Tests.Metrics;

public sealed class MetricsServerTests
{
    [Fact]
    public async Task Get_metrics_on_loopback_returns_the_exposition_text()
    {
        using var meter = new Meter("Keel.Tests.Http." + Guid.NewGuid().ToString("N"));
        using var exporter = new PrometheusExporter(new PrometheusExporterOptions { MeterFilter = m => m == meter });
        meter.CreateCounter<long>("keel.test.http.requests", description: "Requests served.").Add(3, new KeyValuePair<string, object?>("method", "eth_chainId"));

        await using var server = await MetricsServer.StartAsync(exporter, IPAddress.Loopback, port: 0);
        Assert.NotEqual(0, server.Port);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}"), Timeout = TimeSpan.FromSeconds(30) };

        using var response = await client.GetAsync(PrometheusEndpointExtensions.DefaultPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PrometheusExporter.ContentType, response.Content.Headers.ContentType!.ToString());
        Assert.Equal(
            "# HELP keel_test_http_requests_total Requests served.\n" +
            "# TYPE keel_test_http_requests_total counter\n" +
            "keel_test_http_requests_total{method=\"eth_chainId\"} 3\n",
            await response.Content.ReadAsStringAsync());

        using var missing = await client.GetAsync("/other");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var post = await client.PostAsync(PrometheusEndpointExtensions.DefaultPath, new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task The_exporter_registered_in_the_host_serves_an_app_that_also_serves_other_routes()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var meterName = "Keel.Tests.Host." + Guid.NewGuid().ToString("N");
        builder.Services.AddPrometheusExporter(new PrometheusExporterOptions { MeterFilter = m => m.Name == meterName });
        await using var app = builder.Build();
        app.MapGet("/health", () => "ok");
        app.MapPrometheusMetrics();
        using var meter = new Meter(meterName);
        var blocks = meter.CreateCounter<long>("keel.test.blocks");
        await app.StartAsync();
        try
        {
            blocks.Add(2);
            var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal("# TYPE keel_test_blocks_total counter\nkeel_test_blocks_total 2\n", await client.GetStringAsync("/metrics"));
            Assert.Equal("ok", await client.GetStringAsync("/health"));
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
