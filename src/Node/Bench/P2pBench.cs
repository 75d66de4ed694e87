using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Keel.Libp2p;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Gossipsub;
using Keel.Libp2p.Host;
using Keel.Libp2p.Interop;
using Keel.Node.Cli;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench p2p`: gossip throughput (1 KiB and 64 KiB messages) and connection handshake time
/// on loopback, Keel to Keel, Keel to js-libp2p, js to Keel and js to js, all in one run so that
/// the rows compare on the same machine at the same moment.
/// </summary>
internal static class P2pBench
{
    public const int DefaultSmallMessages = 2_000;
    public const int DefaultLargeMessages = 200;
    public const int DefaultHandshakes = 20;
    public const int SmallBytes = 1024;
    public const int LargeBytes = 64 * 1024;
    /// <summary>Each scenario gets this long before it is reported as timed out.</summary>
    public const int ScenarioTimeoutMs = 120_000;
    /// <summary>Local publishes between flushes, so that the bench measures the wire and not the drop policy of a full send queue.</summary>
    private const int PublishWindow = 256;
    private const int WarmupHandshakes = 3;

    private static readonly string[] AllPairs = ["keel->keel", "keel->js", "js->keel", "js->js"];
    private static readonly Multiaddr Loopback = Multiaddr.Parse("/ip4/127.0.0.1/tcp/0");

    public static Command Create()
    {
        var small = new Option<int>("--messages-1k") { Description = "messages per 1 KiB throughput run", DefaultValueFactory = _ => DefaultSmallMessages };
        var large = new Option<int>("--messages-64k") { Description = "messages per 64 KiB throughput run", DefaultValueFactory = _ => DefaultLargeMessages };
        var handshakes = new Option<int>("--handshakes") { Description = "fresh connections timed per pair", DefaultValueFactory = _ => DefaultHandshakes };
        var pairs = new Option<string[]>("--pair") { Description = "only these pairs (keel->keel, keel->js, js->keel, js->js); repeatable" };
        var command = new Command("p2p", "Gossip throughput and handshake time: Keel<->Keel, Keel<->js-libp2p, js<->js on loopback.");
        command.Options.Add(pairs);
        command.Options.Add(small);
        command.Options.Add(large);
        command.Options.Add(handshakes);
        command.SetAction(async (parse, ct) =>
        {
            var report = new BenchReport("p2p");
            var throughput = report.AddTable("gossip throughput (publisher -> subscriber, one connection, StrictSign)",
                "pair", "size", "messages", "seconds", "msg/s", "MB/s", "cpu-s", "msg/cpu-s");
            var sizes = new[] { (SmallBytes, parse.GetValue(small)), (LargeBytes, parse.GetValue(large)) };
            var selected = parse.GetValue(pairs) is { Length: > 0 } chosen ? chosen : AllPairs;
            foreach (var pair in selected)
            {
                foreach (var (bytes, count) in sizes)
                {
                    var (seconds, delivered, cpuSeconds) = await RunThroughputAsync(pair, bytes, count, ct);
                    throughput.AddRow(pair, bytes == SmallBytes ? "1 KiB" : "64 KiB", delivered == count ? count.ToString(CultureInfo.InvariantCulture) : $"{delivered}/{count} (timeout)",
                        Math.Round(seconds, 3), Math.Round(delivered / seconds, 0), Math.Round(delivered * (double)bytes / seconds / 1e6, 2),
                        Math.Round(cpuSeconds, 3), cpuSeconds > 0 ? Math.Round(delivered / cpuSeconds, 0) : double.NaN);
                }
            }
            var handshake = report.AddTable("handshake (TCP + multistream + Noise XX + yamux, fresh connection)",
                "dialer->listener", "connections", "median ms", "mean ms");
            foreach (var pair in selected)
            {
                var (n, median, mean) = await RunHandshakesAsync(pair, parse.GetValue(handshakes), ct);
                handshake.AddRow(pair, n, Math.Round(median, 3), Math.Round(mean, 3));
            }
            var crypto = report.AddTable("StrictSign cost per message (this process, 1 KiB data)", "operation", "count", "us/op", "cpu us/op");
            foreach (var (name, us, cpuUs) in MeasureSigning(SignCostIterations))
            {
                crypto.AddRow(name, SignCostIterations, Math.Round(us, 1), Math.Round(cpuUs, 1));
            }
            report.Notes.Add("loopback TCP; every process shares this machine's cores, so absolute figures are noisy: compare rows of one run");
            report.Notes.Add($"Keel publishers flush every {PublishWindow} messages (per-peer send queues drop when full by design); js publishers await each publish");
            report.Notes.Add("time runs from the first publish to the subscriber's last delivery; js rows include stdin/stdout hops of a few ms");
            report.Notes.Add("cpu-s = CPU time of every process in the pair (this one plus the js ones) during the run, idle waits excluded; msg/cpu-s estimates the rate on idle cores of a busy machine");
            report.Notes.Add($"Keel handshakes skip {WarmupHandshakes} warm-up dials (JIT); js rows are all dials of one process (V8 JIT included, median is the headline)");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    private const int SignCostIterations = 2_000;

    /// <summary>Sign and verify costs of a gossip message (wall and CPU time), which bound the small-message rows.</summary>
    private static List<(string Name, double MicrosPerOp, double CpuMicrosPerOp)> MeasureSigning(int iterations)
    {
        var key = Ed25519IdentityKey.Generate();
        var data = new byte[SmallBytes];
        var messages = new Keel.Libp2p.Protos.Message[iterations];
        var results = new List<(string, double, double)>();
        var process = Process.GetCurrentProcess();
        void Measure(string name, Action<int> op)
        {
            op(0); // warm-up (JIT, library load)
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < iterations; i++)
            {
                op(i);
            }
            var wall = Stopwatch.GetElapsedTime(started).TotalMicroseconds / iterations;
            process.Refresh();
            results.Add((name, wall, (process.TotalProcessorTime - cpuStart).TotalMicroseconds / iterations));
        }
        Measure("ed25519 sign", i => messages[i] = MessageSigning.Sign(key, "/keel/bench/sign/1", data, (ulong)i));
        Measure("ed25519 verify", i =>
        {
            if (MessageSigning.Verify(messages[i], out _, out var reason) is null)
            {
                throw new InvalidOperationException($"bench message failed verification: {reason}");
            }
        });
        return results;
    }

    private sealed class KeelNode : IAsyncDisposable
    {
        public required Libp2pHost Host { get; init; }
        public required GossipsubRouter Router { get; init; }
        private int _received;
        private int _target = int.MaxValue;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Received => Volatile.Read(ref _received);

        public static async Task<KeelNode> StartAsync(string? topic, bool listen = true)
        {
            var host = Libp2pHost.Create(new Libp2pHostOptions { Identity = Ed25519IdentityKey.Generate(), ListenAddresses = listen ? [Loopback] : [] });
            await host.StartAsync();
            var router = new GossipsubRouter(host);
            var node = new KeelNode { Host = host, Router = router };
            router.MessageReceived += _ =>
            {
                if (Interlocked.Increment(ref node._received) >= node._target)
                {
                    node.Done.TrySetResult();
                }
            };
            if (topic is not null)
            {
                await router.SubscribeAsync(topic);
            }
            return node;
        }

        public void Expect(int count) => _target = count;

        public async Task PublishAsync(string topic, int count, int bytes, CancellationToken ct)
        {
            var payload = new byte[bytes];
            for (var i = 0; i < count; i++)
            {
                BitConverter.TryWriteBytes(payload, i);
                await Router.PublishAsync(topic, payload, ct);
                if ((i + 1) % PublishWindow == 0)
                {
                    await Router.FlushAsync(ct);
                }
            }
            await Router.FlushAsync(ct);
        }

        public async ValueTask DisposeAsync()
        {
            await Router.DisposeAsync();
            await Host.DisposeAsync();
        }
    }

    /// <summary>CPU time of this process and every js process of a scenario: busy machines stretch wall time, not CPU time.</summary>
    private sealed class CpuMeter
    {
        private readonly List<Func<TimeSpan>> _sources = [() => Process.GetCurrentProcess().TotalProcessorTime];
        private TimeSpan[] _start = [];

        public void Add(JsPeer js) => _sources.Add(() => js.CpuTime);
        public void Start() => _start = [.. _sources.Select(s => s())];
        public double Seconds => _start.Length == 0 ? 0 : _sources.Select((s, i) => (s() - (i < _start.Length ? _start[i] : TimeSpan.Zero)).TotalSeconds).Sum();
    }

    private static async Task<(double Seconds, int Delivered, double CpuSeconds)> RunThroughputAsync(string pair, int bytes, int count, CancellationToken outer)
    {
        var topic = $"/keel/bench/{pair.Replace("->", "-", StringComparison.Ordinal)}-{bytes}/1";
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        cts.CancelAfter(ScenarioTimeoutMs);
        var ct = cts.Token;
        var clock = new Stopwatch();
        var cpu = new CpuMeter();
        Func<int> delivered = () => 0;
        var asyncDisposables = new List<IAsyncDisposable>();
        try
        {
            switch (pair)
            {
                case "keel->keel":
                {
                    var sub = await KeelNode.StartAsync(topic);
                    var pub = await KeelNode.StartAsync(null, listen: false);
                    asyncDisposables.AddRange([pub, sub]);
                    delivered = () => sub.Received;
                    await pub.Host.DialAsync(sub.Host.ListenAddresses[0], ct);
                    await pub.Router.WaitForTopicPeerAsync(topic, ct);
                    sub.Expect(count);
                    cpu.Start();
                    clock.Start();
                    await pub.PublishAsync(topic, count, bytes, ct);
                    await sub.Done.Task.WaitAsync(ct);
                    break;
                }
                case "keel->js":
                {
                    var js = await JsPeer.StartAsync("--topic", topic);
                    var pub = await KeelNode.StartAsync(null, listen: false);
                    asyncDisposables.AddRange([pub, js]);
                    cpu.Add(js);
                    await pub.Host.DialAsync(Multiaddr.Parse(js.ListenAddress), ct);
                    await pub.Router.WaitForTopicPeerAsync(topic, ct);
                    await js.SendAsync($"expect {topic} {count}");
                    await js.WaitForAsync("EXPECTING", ScenarioTimeoutMs);
                    cpu.Start();
                    clock.Start();
                    await pub.PublishAsync(topic, count, bytes, ct);
                    await js.WaitForAsync($"RECEIVED {topic}", ScenarioTimeoutMs);
                    delivered = () => count;
                    break;
                }
                case "js->keel":
                {
                    var sub = await KeelNode.StartAsync(topic);
                    asyncDisposables.Add(sub);
                    delivered = () => sub.Received;
                    var js = await JsPeer.StartAsync("--dial", sub.Host.ListenAddresses[0].ToString());
                    asyncDisposables.Insert(0, js);
                    cpu.Add(js);
                    await js.SendAsync($"waitsub {topic}");
                    await js.WaitForAsync("SUBSCRIBED-READY", ScenarioTimeoutMs);
                    sub.Expect(count);
                    cpu.Start();
                    clock.Start();
                    await js.SendAsync($"flood {topic} {count} {bytes}");
                    await sub.Done.Task.WaitAsync(ct);
                    break;
                }
                case "js->js":
                {
                    var sub = await JsPeer.StartAsync("--topic", topic);
                    asyncDisposables.Add(sub);
                    var pub = await JsPeer.StartAsync("--dial", sub.ListenAddress);
                    asyncDisposables.Insert(0, pub);
                    cpu.Add(sub);
                    cpu.Add(pub);
                    await pub.SendAsync($"waitsub {topic}");
                    await pub.WaitForAsync("SUBSCRIBED-READY", ScenarioTimeoutMs);
                    await sub.SendAsync($"expect {topic} {count}");
                    await sub.WaitForAsync("EXPECTING", ScenarioTimeoutMs);
                    cpu.Start();
                    clock.Start();
                    await pub.SendAsync($"flood {topic} {count} {bytes}");
                    await sub.WaitForAsync($"RECEIVED {topic}", ScenarioTimeoutMs);
                    delivered = () => count;
                    break;
                }
            }
            clock.Stop();
            return (clock.Elapsed.TotalSeconds, count, cpu.Seconds);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or Libp2pException)
        {
            Console.Error.WriteLine($"p2p bench: {pair} {bytes} B: {e.Message.Split('\n')[0]}");
            return (Math.Max(clock.Elapsed.TotalSeconds, 1e-9), delivered(), cpu.Seconds);
        }
        finally
        {
            foreach (var d in asyncDisposables)
            {
                await d.DisposeAsync();
            }
        }
    }

    private static async Task<(int Count, double MedianMs, double MeanMs)> RunHandshakesAsync(string pair, int count, CancellationToken ct)
    {
        var disposables = new List<IAsyncDisposable>();
        try
        {
            switch (pair)
            {
                case "keel->keel" or "keel->js":
                {
                    Multiaddr target;
                    if (pair == "keel->keel")
                    {
                        var server = await KeelNode.StartAsync(null);
                        disposables.Add(server);
                        target = server.Host.ListenAddresses[0];
                    }
                    else
                    {
                        var js = await JsPeer.StartAsync();
                        disposables.Add(js);
                        target = Multiaddr.Parse(js.ListenAddress);
                    }
                    var client = await KeelNode.StartAsync(null, listen: false);
                    disposables.Insert(0, client);
                    var times = new List<double>();
                    for (var i = 0; i < count + WarmupHandshakes; i++)
                    {
                        var started = Stopwatch.GetTimestamp();
                        var connection = await client.Host.DialAsync(target, ct);
                        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        if (i >= WarmupHandshakes)
                        {
                            times.Add(ms);
                        }
                        await connection.CloseAsync();
                        while (client.Host.IsConnected(connection.RemotePeer))
                        {
                            await Task.Delay(5, ct);
                        }
                    }
                    times.Sort();
                    return (times.Count, times[times.Count / 2], times.Average());
                }
                default:
                {
                    Multiaddr target;
                    if (pair == "js->keel")
                    {
                        var server = await KeelNode.StartAsync(null);
                        disposables.Add(server);
                        target = server.Host.ListenAddresses[0];
                    }
                    else
                    {
                        var server = await JsPeer.StartAsync();
                        disposables.Add(server);
                        target = Multiaddr.Parse(server.ListenAddress);
                    }
                    var js = await JsPeer.StartAsync();
                    disposables.Insert(0, js);
                    await js.SendAsync($"handshakes {target} {count}");
                    var parts = (await js.WaitForAsync("HANDSHAKES", ScenarioTimeoutMs)).Split(' ');
                    return (int.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture), double.Parse(parts[3], CultureInfo.InvariantCulture));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or Libp2pException)
        {
            Console.Error.WriteLine($"p2p bench: handshakes {pair}: {e.Message.Split('\n')[0]}");
            return (0, double.NaN, double.NaN);
        }
        finally
        {
            foreach (var d in disposables)
            {
                await d.DisposeAsync();
            }
        }
    }
}
