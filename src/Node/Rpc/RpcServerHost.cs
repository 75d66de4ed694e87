using Keel.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Rpc;

/// <summary>
/// Puts an <see cref="RpcServer"/> on its own Kestrel port (one per rollup chain: 9545, 9546, ...)
/// inside a Keel web host. <see cref="Build"/> returns the application for a caller that adds
/// routes of its own (GET /devnet/info) before starting; <see cref="StartAsync"/> does it all.
/// </summary>
public sealed class RpcServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RpcServerHost(WebApplication app, RpcServer server, Uri httpUri)
    {
        _app = app;
        Server = server;
        HttpUri = httpUri;
        WebSocketUri = new UriBuilder(httpUri) { Scheme = httpUri.Scheme == "https" ? "wss" : "ws" }.Uri;
    }

    public RpcServer Server { get; }

    /// <summary>The bound address, with the real port when options asked for port 0.</summary>
    public Uri HttpUri { get; }
    public Uri WebSocketUri { get; }
    public int Port => HttpUri.Port;

    /// <summary>A web application that serves <paramref name="server"/> on its configured address and port.</summary>
    public static WebApplication Build(RpcServer server, HostSettings? settings = null)
    {
        var options = server.Options;
        var builder = KeelHost.CreateBuilder(settings ?? new HostSettings { MinimumLogLevel = LogLevel.Warning });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.BindAddress, options.Port);
            kestrel.AddServerHeader = false;
            // The endpoint enforces the body limit itself to answer with a JSON-RPC error body.
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.MaxConcurrentConnections = options.MaxHttpConnections;
            // WebSocket connections are counted by the server itself, which can answer 503 with a
            // JSON-RPC error; Kestrel's own upgrade limit would refuse without one.
        });
        var app = builder.Build();
        server.AttachLogger(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Keel.Node.Rpc"));
        app.UseKeelRpc(server);
        return app;
    }

    /// <summary>Starts <paramref name="server"/> on its own port and returns once it accepts connections.</summary>
    public static async Task<RpcServerHost> StartAsync(RpcServer server, HostSettings? settings = null, CancellationToken cancellation = default)
    {
        server.Methods.Freeze();
        var app = Build(server, settings);
        await app.StartAsync(cancellation).ConfigureAwait(false);
        var address = app.Urls.FirstOrDefault() ?? throw new InvalidOperationException("Kestrel started without an address");
        return new RpcServerHost(app, server, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(KeelHost.ShutdownTimeout);
        try
        {
            await _app.StopAsync(stop.Token).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}

public static class RpcApplicationExtensions
{
    /// <summary>
    /// Serves JSON-RPC for every request that no mapped endpoint took (so routes mapped on the same
    /// application, like GET /devnet/info, still work). Freezes the server's method table.
    /// </summary>
    public static IApplicationBuilder UseKeelRpc(this IApplicationBuilder app, RpcServer server)
    {
        server.Methods.Freeze();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = RpcWebSocketSession.KeepAliveInterval });
        return app.Use((context, next) =>
            context.GetEndpoint() is null ? RpcHttpEndpoint.HandleAsync(context, server) : next(context));
    }
}
