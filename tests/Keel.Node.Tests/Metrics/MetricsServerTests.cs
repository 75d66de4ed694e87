using System.Diagnostics.Metrics;
using System.Net;
using Keel.Node.Metrics;

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
}
