using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Core.Ethereum;
using Keel.Node.Cli;
using Keel.Node.Service;
using Keel.Rollup.Genesis;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench finality --stage soft`: a 4-validator devnet in this process (own libp2p hosts on
/// loopback TCP, own RocksDB directories), a load generator of signed transfers over JSON-RPC
/// (HTTP keep-alive) at fixed rates split over both rollups, and the submit-to-receipt latency:
/// from the moment a transaction's eth_sendRawTransaction is sent to the moment its receipt exists
/// on the RPC node (the chain index adds it when the block commits). Soft finality only; proven and
/// settled need the prover and L1, outside this command.
/// </summary>
internal static class FinalityBench
{
    /// <summary>Funded senders the load spreads over (the mempool queues at most 64 per sender).</summary>
    public const int Senders = 400;

    /// <summary>Concurrent HTTP requests of the load generator.</summary>
    public const int MaxInFlightRequests = 64;

    /// <summary>Transactions generated per second of the "max" row (an upper bound; the row is paced by commits).</summary>
    public const int MaxRowOfferedRate = 20_000;

    /// <summary>
    /// The "max" row keeps at most this many accepted transactions without a receipt: it sends as fast
    /// as the devnet commits (a closed loop), so it measures sustained throughput rather than how fast a
    /// backlog grows.
    /// </summary>
    public const int MaxRowOutstanding = 3_000;

    private static readonly ulong[] Chains = [901, 902];

    public static Command Create()
    {
        var stage = new Option<string>("--stage") { Description = "finality stage to measure (soft)", DefaultValueFactory = _ => "soft" };
        var rates = new Option<string>("--rates") { Description = "comma-separated offered rates in tx/s, 'max' for as fast as accepted", DefaultValueFactory = _ => "1000,5000,max" };
        var seconds = new Option<double>("--seconds") { Description = "load time per row", DefaultValueFactory = _ => 10.0 };
        var blockTime = new Option<int>("--block-time") { Description = "minimum block interval (ms)", DefaultValueFactory = _ => NodeConfig.DefaultBlockTimeMs };
        var command = new Command("finality", "Submit-to-receipt latency and throughput of signed transfers against a 4-validator devnet.");
        command.Options.Add(stage);
        command.Options.Add(rates);
        command.Options.Add(seconds);
        command.Options.Add(blockTime);
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(stage) != "soft")
            {
                parse.InvocationConfiguration.Error.WriteLine("error: only --stage soft is measured by this command (proven and settled need the prover and L1)");
                return 1;
            }
            var rows = parse.GetValue(rates)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            var report = await RunAsync(rows, TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(blockTime), ct);
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    public static async Task<BenchReport> RunAsync(IReadOnlyList<string> rates, TimeSpan duration, int blockTimeMs, CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"keel-bench-finality-{Guid.NewGuid():N}");
        var options = new DevnetOptions
        {
            DataDir = dir,
            Validators = 4,
            Rollups = Chains,
            P2pPort = LoopbackPorts.FindConsecutiveFree(4),
            RpcPort = 0,
            MetricsPort = -1,
            BlockTimeMs = blockTimeMs,
        };
        // The state tree is the prover path's work, not soft finality's: the bench measures ordering and receipts.
        var configs = DevnetLayout.Prepare(options, fresh: true).Select(c => c with { Execute = false }).ToList();
        var nodes = new List<SequencerNode>();
        NodeEndpoints? endpoints = null;
        var report = new BenchReport("finality");
        try
        {
            foreach (var config in configs)
            {
                var node = new SequencerNode(config);
                nodes.Add(node);
                await node.StartAsync(ct);
            }
            endpoints = await NodeEndpoints.StartAsync(nodes[0], 0, -1, null, LogLevel.Warning, ct);
            var receipts = new ConcurrentDictionary<Hash32, long>();
            var committedTotal = new StrongBox<long>();
            foreach (var chainId in Chains)
            {
                nodes[0].Chain(chainId).BlockIndexed += b =>
                {
                    var now = Stopwatch.GetTimestamp();
                    foreach (var h in b.Transactions)
                    {
                        receipts.TryAdd(h, now);
                    }
                    Interlocked.Add(ref committedTotal.Value, b.Transactions.Count);
                };
            }
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = MaxInFlightRequests, UseProxy = false };
            using var http = new HttpClient(handler) { DefaultRequestVersion = HttpVersion.Version11, Timeout = TimeSpan.FromSeconds(30) };
            var rpc = endpoints.Rpc.ToDictionary(r => r.ChainId, r => r.Http);

            var senders = await FundSendersAsync(nodes[0], http, rpc, ct);
            var nonces = new ulong[Senders * Chains.Length];
            var table = report.AddTable($"soft finality: signed transfers over JSON-RPC, 4 validators in one process, block time {blockTimeMs} ms, {duration.TotalSeconds:F0} s per row",
                "offered tx/s", "sent tx/s", "committed tx/s", "committed %", "rejected", "blocks/s", "p50 ms", "p95 ms", "p99 ms", "max ms");
            // Warm-up (JIT, connections, gossip mesh), not reported.
            await LoadAsync(http, rpc, Sign(senders, nonces, 1_000), 500, receipts, null, ct);
            foreach (var rate in rates)
            {
                var offered = rate == "max" ? MaxRowOfferedRate : int.Parse(rate, CultureInfo.InvariantCulture);
                var count = (int)(offered * duration.TotalSeconds);
                var txs = Sign(senders, nonces, count);
                var heightBefore = nodes[0].Chain(Chains[0]).Head;
                var busyBefore = nodes.Select(n => n.Driver!.BusyTime).ToArray();
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var timeoutsBefore = nodes.Sum(n => n.TimeoutsSent);
                var rejectedBefore = nodes.Sum(n => n.Application.RejectedProposals);
                var lostBefore = nodes.Sum(n => n.Network!.DroppedSends + n.Driver!.DroppedEvents);
                var roundsBefore = nodes[0].RoundsEntered;
                var clock = Stopwatch.StartNew();
                var row = await LoadAsync(http, rpc, txs, offered, receipts, rate == "max" ? committedTotal : null, ct);
                var blocksPerSecond = Math.Round((nodes[0].Chain(Chains[0]).Head - heightBefore) / clock.Elapsed.TotalSeconds, 1);
                var busy = nodes.Select((n, i) => (n.Driver!.BusyTime - busyBefore[i]).TotalSeconds / clock.Elapsed.TotalSeconds).ToArray();
                var cpuCores = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / clock.Elapsed.TotalSeconds;
                var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
                report.Notes.Add($"row {rate}: this process used {cpuCores:F2} cores on average (machine load average {load}); consensus loop busy {string.Join(", ", busy.Select(b => b.ToString("P0", CultureInfo.InvariantCulture)))} of the time (validators 0..3); {nodes.Sum(n => n.TimeoutsSent) - timeoutsBefore} timeouts sent, {nodes[0].RoundsEntered - roundsBefore} rounds, {nodes.Sum(n => n.Network!.DroppedSends + n.Driver!.DroppedEvents) - lostBefore} consensus messages lost (sends dropped or failed, events dropped), {nodes.Sum(n => n.Application.RejectedProposals) - rejectedBefore} proposals refused{(nodes.Select(n => n.Application.LastRejection?.Message).FirstOrDefault(m => m is not null) is { } why ? $" (last: {why})" : "")}");
                table.AddRow(rate, row.SentPerSecond, row.CommittedPerSecond, row.CommittedPercent, row.Rejected, blocksPerSecond, row.P50, row.P95, row.P99, row.Max);
            }
            report.Notes.Add($"latency: from sending eth_sendRawTransaction to the receipt existing on the RPC node (committed by the 2-chain rule); {Environment.ProcessorCount} cores shared by the 4 validators, the RPC server and the load generator, on a machine shared with other work: timings are noisy");
            report.Notes.Add("the background rollup executor (Poseidon2 state tree) is off in this measurement: it is the proving path's work, not soft finality's");
            report.Notes.Add("committed tx/s: receipts that appeared while the row was sending, per second of sending; committed %: accepted transactions with a receipt within 30 s after the row; rows follow an unreported 2 s warm-up at 500 tx/s");
            report.Notes.Add($"load: {Senders} funded senders per rollup, transactions split evenly over rollups {string.Join(" and ", Chains)}, at most {MaxInFlightRequests} requests in flight; 'max' sends as fast as the devnet commits, keeping at most {MaxRowOutstanding} transactions without a receipt");
        }
        finally
        {
            if (endpoints is not null)
            {
                await endpoints.DisposeAsync();
            }
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        return report;
    }

    private sealed record SignedTx(ulong ChainId, Hash32 Hash, string Body);

    private sealed record Row(double SentPerSecond, double CommittedPerSecond, double CommittedPercent, long Rejected, double P50, double P95, double P99, double Max);

    /// <summary>Fresh keys funded by the ten dev accounts on every rollup (waits until the funding commits).</summary>
    private static async Task<byte[][]> FundSendersAsync(SequencerNode node, HttpClient http, IReadOnlyDictionary<ulong, Uri> rpc, CancellationToken ct)
    {
        var keys = Enumerable.Range(0, Senders).Select(_ => Secp256k1.CreatePrivateKey()).ToArray();
        var dev = DevnetLayout.FundedAccounts();
        var perDev = (Senders + dev.Count - 1) / dev.Count;
        var funding = new List<SignedTx>();
        foreach (var chainId in Chains)
        {
            for (var d = 0; d < dev.Count; d++)
            {
                var devKey = Hex.Decode(dev[d].PrivateKey);
                var nonce = node.Application.PendingNonce(chainId, dev[d].Address);
                for (var k = d * perDev; k < Math.Min(Senders, (d + 1) * perDev); k++)
                {
                    funding.Add(Build(chainId, devKey, nonce++, Address.FromPublicKey(Secp256k1.GetPublicKey(keys[k])), RollupGenesis.DevAccountBalance / 1000));
                }
            }
        }
        foreach (var tx in funding)
        {
            await SendAsync(http, rpc[tx.ChainId], tx.Body, ct);
        }
        var last = funding.Select(f => f.Hash).ToHashSet();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (last.Any(h => Chains.All(c => node.Chain(c).GetTransaction(h) is null)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new NodeConfigException("funding transfers did not commit within 60 s");
            }
            await Task.Delay(50, ct);
        }
        return keys;
    }

    private static List<SignedTx> Sign(byte[][] keys, ulong[] nonces, int count)
    {
        var txs = new SignedTx[count];
        Parallel.For(0, Senders * Chains.Length, slot =>
        {
            var chain = slot % Chains.Length;
            var sender = slot / Chains.Length;
            var to = Address.FromPublicKey(Secp256k1.GetPublicKey(keys[(sender + 1) % keys.Length]));
            for (var i = slot; i < count; i += Senders * Chains.Length)
            {
                txs[i] = Build(Chains[chain], keys[sender], nonces[slot]++, to, 1);
            }
        });
        return [.. txs];
    }

    private static SignedTx Build(ulong chainId, byte[] key, ulong nonce, Address to, UInt128 value)
    {
        var tx = new Transaction
        {
            Type = TransactionType.Eip1559,
            ChainId = chainId,
            Nonce = nonce,
            MaxFeePerGas = 10_000_000_000UL,
            MaxPriorityFeePerGas = 1_000_000_000UL,
            GasLimit = 21_000,
            To = to,
            Value = value,
        }.Sign(key);
        return new SignedTx(chainId, tx.Hash, $$"""{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["{{Hex.Encode(tx.Encode())}}"]}""");
    }

    private static async Task<bool> SendAsync(HttpClient http, Uri uri, string body, CancellationToken ct)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(uri, content, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return text.Contains("\"result\"", StringComparison.Ordinal);
    }

    private static async Task<Row> LoadAsync(HttpClient http, IReadOnlyDictionary<ulong, Uri> rpc, List<SignedTx> txs, int offered, ConcurrentDictionary<Hash32, long> receipts,
        StrongBox<long>? closedLoopCommits, CancellationToken ct)
    {
        var committedAtStart = closedLoopCommits is null ? 0 : Interlocked.Read(ref closedLoopCommits.Value);
        long accepted = 0;
        var loadStopwatch = Stopwatch.StartNew();
        var loadLimit = TimeSpan.FromSeconds(txs.Count / (double)offered);
        var sentAt = new long[txs.Count];
        var ok = new bool[txs.Count];
        var next = -1;
        long rejected = 0;
        var start = Stopwatch.GetTimestamp();
        var ticksPerTx = Stopwatch.Frequency / (double)offered;
        async Task Worker()
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= txs.Count)
                {
                    return;
                }
                while (closedLoopCommits is not null
                    && Interlocked.Read(ref accepted) - (Interlocked.Read(ref closedLoopCommits.Value) - committedAtStart) > MaxRowOutstanding)
                {
                    if (loadStopwatch.Elapsed > loadLimit)
                    {
                        return;
                    }
                    await Task.Delay(1, ct);
                }
                if (closedLoopCommits is not null && loadStopwatch.Elapsed > loadLimit)
                {
                    return; // the row's time is up: the rest is not sent
                }
                var due = start + (long)(i * ticksPerTx);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait, ct);
                }
                sentAt[i] = Stopwatch.GetTimestamp();
                try
                {
                    ok[i] = await SendAsync(http, rpc[txs[i].ChainId], txs[i].Body, ct);
                }
                catch (HttpRequestException)
                {
                    ok[i] = false;
                }
                if (!ok[i])
                {
                    Interlocked.Increment(ref rejected);
                }
                else
                {
                    Interlocked.Increment(ref accepted);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, MaxInFlightRequests).Select(_ => Task.Run(Worker, ct)));
        var sendSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Enumerable.Range(0, txs.Count).Any(i => ok[i] && !receipts.ContainsKey(txs[i].Hash)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }
        var latencies = new List<double>(txs.Count);
        var windowEnd = start + (long)(sendSeconds * Stopwatch.Frequency);
        var committedInWindow = 0;
        for (var i = 0; i < txs.Count; i++)
        {
            if (ok[i] && receipts.TryGetValue(txs[i].Hash, out var at))
            {
                latencies.Add(Stopwatch.GetElapsedTime(sentAt[i], at).TotalMilliseconds);
                if (at <= windowEnd)
                {
                    committedInWindow++;
                }
            }
        }
        latencies.Sort();
        double P(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
        var sent = ok.Count(x => x);
        return new Row(
            Math.Round(sent / sendSeconds),
            Math.Round(committedInWindow / sendSeconds),
            sent == 0 ? 0 : Math.Round(100.0 * latencies.Count / sent, 1),
            rejected,
            Math.Round(P(0.50), 1), Math.Round(P(0.95), 1), Math.Round(P(0.99), 1), Math.Round(latencies.Count == 0 ? double.NaN : latencies[^1], 1));
    }
}
