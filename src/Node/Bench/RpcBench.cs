using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Keel.Node.Cli;
using Keel.Node.Rpc;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench rpc`: JSON-RPC requests per second over HTTP keep-alive on loopback (client and
/// server in one process), single calls and 100-call batches of eth_chainId, which isolates the
/// server's own cost (parse, dispatch, serialize, Kestrel) from any method's work.
/// </summary>
internal static class RpcBench
{
    private const ulong ChainId = 901;
    private const int BatchCalls = 100;

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "measured time per row", DefaultValueFactory = _ => 2.0 };
        var connections = new Option<string>("--connections") { Description = "comma-separated client connection counts", DefaultValueFactory = _ => "1,4,16" };
        var command = new Command("rpc", "JSON-RPC server throughput: eth_chainId over HTTP keep-alive on loopback.");
        command.Options.Add(seconds);
        command.Options.Add(connections);
        command.SetAction(async (parse, cancellation) =>
        {
            var counts = parse.GetValue(connections)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            var report = await RunAsync(TimeSpan.FromSeconds(parse.GetValue(seconds)), counts, cancellation).ConfigureAwait(false);
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    public static async Task<BenchReport> RunAsync(TimeSpan duration, IReadOnlyList<int> connectionCounts, CancellationToken cancellation)
    {
        var server = new RpcServer(new RpcServerOptions { ChainId = ChainId, Port = 0 });
        await using var host = await RpcServerHost.StartAsync(server, cancellation: cancellation).ConfigureAwait(false);
        var single = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}""");
        var batch = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, BatchCalls)
            .Select(i => $$"""{"jsonrpc":"2.0","id":{{i}},"method":"eth_chainId","params":[]}""")) + "]");

        var report = new BenchReport("rpc");
        var table = report.AddTable("eth_chainId over HTTP/1.1 keep-alive (loopback)",
            "workload", "connections", "requests/s", "calls/s", "p50 us", "p99 us");
        foreach (var connections in connectionCounts)
        {
            foreach (var (name, body, calls) in new[] { ("single", single, 1), ($"batch x{BatchCalls}", batch, BatchCalls) })
            {
                var (requests, seconds, p50, p99) = await MeasureAsync(host.HttpUri, body, connections, duration, cancellation).ConfigureAwait(false);
                table.AddRow(name, connections, requests / seconds, requests * calls / seconds, p50, p99);
            }
        }
        report.Notes.Add($"client and server share this process and its {Environment.ProcessorCount} cores; figures are relative, compare rows of one run");
        report.Notes.Add($"each row runs {duration.TotalSeconds:F1} s after a 0.5 s warm-up; latency is per HTTP request (a batch is one request)");
        return report;
    }

    private static async Task<(long Requests, double Seconds, double P50Us, double P99Us)> MeasureAsync(
        Uri uri, byte[] body, int connections, TimeSpan duration, CancellationToken cancellation)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = uri, DefaultRequestVersion = HttpVersion.Version11 };
        await RunWorkersAsync(client, body, connections, TimeSpan.FromMilliseconds(500), null, cancellation).ConfigureAwait(false);
        var latencies = new List<long>[connections];
        for (var i = 0; i < connections; i++)
        {
            latencies[i] = new List<long>(1 << 16);
        }
        var clock = Stopwatch.StartNew();
        await RunWorkersAsync(client, body, connections, duration, latencies, cancellation).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all.Length == 0 ? 0 : Stopwatch.GetElapsedTime(0, all[Math.Min(all.Length - 1, (int)(p * all.Length))]).TotalMicroseconds;
        return (all.Length, seconds, Percentile(0.50), Percentile(0.99));
    }

    private static Task RunWorkersAsync(HttpClient client, byte[] body, int connections, TimeSpan duration, List<long>[]? latencies, CancellationToken cancellation)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        return Task.WhenAll(Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end && !cancellation.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await client.PostAsync("/", content, cancellation).ConfigureAwait(false);
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellation).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK || bytes.Length == 0)
                {
                    throw new InvalidOperationException($"bench request failed: HTTP {(int)response.StatusCode}");
                }
                latencies?[worker].Add(Stopwatch.GetTimestamp() - started);
            }
        }, cancellation)));
    }
}
