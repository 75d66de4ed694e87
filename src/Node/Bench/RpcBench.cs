using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
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

    /// <summary>Heads a fan-out row publishes.</summary>
    private const int FanOutHeads = 2_000;

    /// <summary>How far the publisher may run ahead of the slowest subscriber (below the per-connection queue bound).</summary>
    private const int FanOutWindow = 256;

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
        var fanOut = report.AddTable($"newHeads fan-out over WebSocket ({FanOutHeads} heads of about 1.2 KB each)",
            "subscribers", "heads/s", "notifications/s", "MB/s");
        foreach (var subscribers in new[] { 1, 16, 64 })
        {
            var (seconds, bytes) = await MeasureFanOutAsync(host, subscribers, cancellation).ConfigureAwait(false);
            fanOut.AddRow(subscribers, FanOutHeads / seconds, (double)FanOutHeads * subscribers / seconds, bytes / seconds / 1e6);
        }
        report.Notes.Add($"client and server share this process and its {Environment.ProcessorCount} cores; figures are relative, compare rows of one run");
        report.Notes.Add($"each row runs {duration.TotalSeconds:F1} s after a 0.5 s warm-up; latency is per HTTP request (a batch is one request)");
        return report;
    }

    /// <summary>
    /// Publishes heads to <paramref name="subscribers"/> WebSocket clients as fast as the slowest
    /// one reads (the publisher stays within <see cref="FanOutWindow"/> of it), until all have all.
    /// </summary>
    private static async Task<(double Seconds, long Bytes)> MeasureFanOutAsync(RpcServerHost host, int subscribers, CancellationToken cancellation)
    {
        var sockets = new List<ClientWebSocket>();
        var received = new long[subscribers];
        long bytes = 0;
        try
        {
            for (var i = 0; i < subscribers; i++)
            {
                var socket = new ClientWebSocket();
                sockets.Add(socket);
                await socket.ConnectAsync(host.WebSocketUri, cancellation).ConfigureAwait(false);
                await socket.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"""u8.ToArray(),
                    WebSocketMessageType.Text, true, cancellation).ConfigureAwait(false);
            }
            var readers = sockets.Select((socket, i) => Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                // The first message is the eth_subscribe answer; then one per head.
                for (var messages = 0; messages <= FanOutHeads;)
                {
                    var result = await socket.ReceiveAsync(buffer, cancellation).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        throw new InvalidOperationException("subscriber disconnected during the fan-out bench");
                    }
                    Interlocked.Add(ref bytes, result.Count);
                    if (result.EndOfMessage)
                    {
                        messages++;
                        if (messages > 1)
                        {
                            Volatile.Write(ref received[i], messages - 1);
                        }
                    }
                }
            }, cancellation)).ToArray();
            while (host.Server.Subscriptions.SubscriberCount(RpcSubscriptionHub.NewHeads) < subscribers)
            {
                await Task.Delay(1, cancellation).ConfigureAwait(false);
            }
            var header = SampleHeader();
            var clock = Stopwatch.StartNew();
            for (var n = 1; n <= FanOutHeads; n++)
            {
                while (n - SlowestReceived(received) > FanOutWindow)
                {
                    await Task.Delay(1, cancellation).ConfigureAwait(false);
                }
                header["number"] = RpcHex.EncodeQuantity((ulong)n);
                host.Server.Subscriptions.PublishNewHead(header);
            }
            await Task.WhenAll(readers).ConfigureAwait(false);
            return (clock.Elapsed.TotalSeconds, Interlocked.Read(ref bytes));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Abort();
                socket.Dispose();
            }
        }
    }

    private static long SlowestReceived(long[] received)
    {
        var min = long.MaxValue;
        for (var i = 0; i < received.Length; i++)
        {
            min = Math.Min(min, Volatile.Read(ref received[i]));
        }
        return min;
    }

    private static JsonObject SampleHeader()
    {
        var hash = "0x" + new string('a', 64);
        return new JsonObject
        {
            ["number"] = "0x1",
            ["hash"] = hash,
            ["parentHash"] = hash,
            ["stateRoot"] = hash,
            ["transactionsRoot"] = hash,
            ["receiptsRoot"] = hash,
            ["miner"] = "0x" + new string('0', 40),
            ["logsBloom"] = "0x" + new string('0', 512),
            ["gasLimit"] = "0x1c9c380",
            ["gasUsed"] = "0x5208",
            ["timestamp"] = "0x6553f100",
            ["baseFeePerGas"] = "0x7",
            ["extraData"] = "0x",
        };
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
