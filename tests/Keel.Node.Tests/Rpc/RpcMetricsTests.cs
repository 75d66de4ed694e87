using System.Diagnostics.Metrics;
using System.Text;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

public class RpcMetricsTests
{
    [Fact]
    public async Task Requests_calls_errors_and_durations_are_measured_per_chain()
    {
        // A chain id no other test uses: listeners see every server in the process.
        const ulong chain = 777_001;
        var server = new RpcServer(new RpcServerOptions { ChainId = chain });
        var seen = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RpcMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }
            if (map.TryGetValue("chain", out var c) && c is ulong id && id == chain)
            {
                lock (seen)
                {
                    seen.Add((instrument.Name, value, map));
                }
            }
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await server.ExecuteAsync(Encoding.UTF8.GetBytes("""
            [{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"nope"}]
            """));

        lock (seen)
        {
            Assert.Equal(1, seen.Count(m => m.Name == "keel.rpc.requests"));
            Assert.Equal(2, seen.Count(m => m.Name == "keel.rpc.calls"));
            var error = Assert.Single(seen, m => m.Name == "keel.rpc.errors");
            Assert.Equal(RpcErrorCodes.MethodNotFound, error.Tags["code"]);
            var duration = Assert.Single(seen, m => m.Name == "keel.rpc.call.duration");
            Assert.Equal("eth_chainId", duration.Tags["method"]);
            Assert.True(duration.Value >= 0);
        }
    }
}
