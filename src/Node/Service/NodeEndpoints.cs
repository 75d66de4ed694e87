using System.Net;
using System.Text.Json.Nodes;
using Keel.Node.Hosting;
using Keel.Node.Metrics;
using Keel.Node.Rpc;
using Keel.Node.Rpc.Methods;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Service;

/// <summary>An RPC endpoint of one chain.</summary>
public sealed record ChainEndpoint(ulong ChainId, Uri Http, Uri WebSocket);

/// <summary>
/// The HTTP side of a node: one JSON-RPC server per chain on consecutive ports (the first also answers
/// GET /devnet/info when a devnet runs, and GET /metrics), and the Prometheus exporter on its own port.
/// </summary>
public sealed class NodeEndpoints : IAsyncDisposable
{
    private static readonly Lazy<PrometheusExporter> SharedExporter = new(() => new PrometheusExporter());

    private readonly List<WebApplication> _apps = [];
    private MetricsServer? _metrics;

    private NodeEndpoints()
    {
    }

    public IReadOnlyList<ChainEndpoint> Rpc { get; private set; } = [];

    public Uri? MetricsUri { get; private set; }

    /// <param name="rpcPort">port of the first chain's server (0 picks free ports; -1 starts no RPC)</param>
    /// <param name="metricsPort">Prometheus port (0 picks a free one; -1 none)</param>
    /// <param name="devnetInfo">the body of GET /devnet/info on the first RPC port, when given</param>
    public static async Task<NodeEndpoints> StartAsync(SequencerNode node, int rpcPort, int metricsPort, Func<JsonObject>? devnetInfo, LogLevel logLevel, CancellationToken ct)
    {
        var endpoints = new NodeEndpoints();
        try
        {
            var exporter = SharedExporter.Value;
            if (metricsPort >= 0)
            {
                endpoints._metrics = await MetricsServer.StartAsync(exporter, IPAddress.Loopback, metricsPort, ct).ConfigureAwait(false);
                endpoints.MetricsUri = new Uri($"http://127.0.0.1:{endpoints._metrics.Port}/metrics");
            }
            if (rpcPort >= 0)
            {
                var rpc = new List<ChainEndpoint>();
                for (var i = 0; i < node.Config.Chains.Count; i++)
                {
                    var chainId = node.Config.Chains[i];
                    var server = new RpcServer(new RpcServerOptions { ChainId = chainId, Port = rpcPort == 0 ? 0 : rpcPort + i });
                    ChainRpcMethods.Register(server, node, chainId);
                    var app = RpcServerHost.Build(server, new HostSettings { MinimumLogLevel = logLevel });
                    if (i == 0)
                    {
                        app.MapPrometheusMetrics(exporter);
                        if (devnetInfo is not null)
                        {
                            app.MapGet("/devnet/info", async context =>
                            {
                                context.Response.ContentType = "application/json";
                                await context.Response.WriteAsync(devnetInfo().ToJsonString(), context.RequestAborted);
                            });
                        }
                    }
                    await app.StartAsync(ct).ConfigureAwait(false);
                    endpoints._apps.Add(app);
                    var http = new Uri(app.Urls.First());
                    rpc.Add(new ChainEndpoint(chainId, http, new UriBuilder(http) { Scheme = "ws" }.Uri));
                }
                endpoints.Rpc = rpc;
            }
            return endpoints;
        }
        catch
        {
            await endpoints.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            using var stop = new CancellationTokenSource(KeelHost.ShutdownTimeout);
            try
            {
                await app.StopAsync(stop.Token).ConfigureAwait(false);
            }
            finally
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }
        _apps.Clear();
        if (_metrics is not null)
        {
            await _metrics.DisposeAsync().ConfigureAwait(false);
        }
    }
}
