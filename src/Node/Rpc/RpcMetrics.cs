using System.Diagnostics.Metrics;

namespace Keel.Node.Rpc;

/// <summary>
/// The JSON-RPC server's instruments (exported as keel_rpc_* by the Prometheus exporter). Every
/// series carries the chain id of its server; error codes and registered method names are the
/// only other tags, both bounded (an unknown method is never a tag).
/// </summary>
public static class RpcMetrics
{
    public const string MeterName = "Keel.Node.Rpc";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Requests =
        Meter.CreateCounter<long>("keel.rpc.requests", unit: "{request}", description: "HTTP requests and WebSocket messages processed (a batch is one).");

    public static readonly Counter<long> Calls =
        Meter.CreateCounter<long>("keel.rpc.calls", unit: "{call}", description: "Calls processed, batch entries counted one by one.");

    public static readonly Counter<long> Errors =
        Meter.CreateCounter<long>("keel.rpc.errors", unit: "{error}", description: "Error responses, by JSON-RPC error code.");

    public static readonly Histogram<double> CallDuration =
        Meter.CreateHistogram<double>("keel.rpc.call.duration", unit: "s", description: "Time a registered method took, by method.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] });

    public static readonly UpDownCounter<int> WebSocketConnections =
        Meter.CreateUpDownCounter<int>("keel.rpc.websocket.connections", unit: "{connection}", description: "Open WebSocket connections.");

    public static readonly Counter<long> SlowConsumerDisconnects =
        Meter.CreateCounter<long>("keel.rpc.websocket.slow_consumer_disconnects", unit: "{connection}",
            description: "WebSocket clients disconnected because their outbound queue was full.");

    public static readonly Counter<long> Notifications =
        Meter.CreateCounter<long>("keel.rpc.subscription.notifications", unit: "{notification}", description: "Subscription notifications queued, by kind.");
}
