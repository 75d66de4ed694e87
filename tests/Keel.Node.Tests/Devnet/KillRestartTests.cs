using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Keel.Core;
using Keel.Core.Ethereum;
using Keel.Node.Service;
using Keel.Node.Tests.Storage;

namespace Keel.Node.Tests.Devnet;

/// <summary>
/// Four `keel node` processes on loopback under a steady load of transfers on both rollups: one is
/// killed with SIGKILL for more than ten seconds and restarted from its data directory. Afterwards every
/// accepted transaction is committed on every node, all nodes hold the same blocks, and no validator
/// signed two different votes in one round (each node logs every vote that left it).
/// </summary>
public sealed class KillRestartTests
{
    private const int Validators = 4;
    private const int VictimIndex = 3;
    private static readonly TimeSpan Downtime = TimeSpan.FromSeconds(11);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);
    private static readonly ulong[] Chains = [901, 902];

    [Fact]
    public async Task A_validator_killed_for_ten_seconds_catches_up_and_nothing_is_lost_or_signed_twice()
    {
        var dir = DevnetHarness.TempDir("kill");
        var processes = new Process?[Validators];
        try
        {
            var options = DevnetHarness.Options(dir, Validators, processes: true, rpcPort: DevnetHarness.ConsecutiveFreePorts(Validators * Chains.Length));
            var configs = DevnetLayout.Prepare(options, fresh: true);
            for (var i = 0; i < Validators; i++)
            {
                processes[i] = StartNode(dir, i);
            }
            await Task.WhenAll(Enumerable.Range(0, Validators).Select(i => WaitReady(processes[i]!, i)));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            string Rpc(int node, int chain) => $"http://127.0.0.1:{configs[node].RpcPort + chain}/";

            var accepted = new ConcurrentBag<(int Chain, string Hash)>();
            using var stopLoad = new CancellationTokenSource();
            // Load goes to validator 0, which stays up; the victim must catch up on what it missed.
            var load = Task.WhenAll(Chains.Select((_, c) => Load(http, Rpc(0, c), Chains[c], c, accepted, stopLoad.Token)));

            await Task.Delay(TimeSpan.FromSeconds(3));
            processes[VictimIndex]!.Kill(); // SIGKILL: no shutdown code runs
            processes[VictimIndex]!.WaitForExit();
            var killedAt = Stopwatch.StartNew();
            await Task.Delay(Downtime);
            var heightWhileDown = await BlockNumber(http, Rpc(0, 0));
            processes[VictimIndex] = StartNode(dir, VictimIndex);
            await WaitReady(processes[VictimIndex]!, VictimIndex);
            Assert.True(killedAt.Elapsed >= TimeSpan.FromSeconds(10));
            await Task.Delay(TimeSpan.FromSeconds(3));
            stopLoad.Cancel();
            await load;
            Assert.True(accepted.Count >= 100, $"only {accepted.Count} transactions were accepted under load");

            // Every accepted transaction is committed on every node, the victim included.
            var deadline = DateTime.UtcNow + ConvergeTimeout;
            foreach (var node in Enumerable.Range(0, Validators))
            {
                foreach (var (chain, hash) in accepted)
                {
                    while (await Call(http, Rpc(node, chain), "eth_getTransactionReceipt", hash) is not JsonObject receipt || (string?)receipt["status"] != "0x1")
                    {
                        Assert.True(DateTime.UtcNow < deadline, $"node {node} has no successful receipt for {hash} on chain {Chains[chain]}");
                        await Task.Delay(100);
                    }
                }
            }
            var victimHeight = await BlockNumber(http, Rpc(VictimIndex, 0));
            Assert.True(victimHeight > heightWhileDown, $"victim at {victimHeight}, the others were at {heightWhileDown} while it was down");

            // Same blocks everywhere, up to the lowest head.
            var heads = await Task.WhenAll(Enumerable.Range(0, Validators).Select(n => BlockNumber(http, Rpc(n, 0))));
            for (var h = 1UL; h <= heads.Min(); h += Math.Max(1, heads.Min() / 50))
            {
                var hashes = await Task.WhenAll(Enumerable.Range(0, Validators).Select(async n =>
                    (string?)(await Call(http, Rpc(n, 0), "eth_getBlockByNumber", $"0x{h:x}", false))!["hash"]));
                Assert.Single(hashes.Distinct());
            }

            // No vote signed twice: per validator, at most one block hash per round across both lives.
            for (var i = 0; i < Validators; i++)
            {
                var log = Path.Combine(DevnetLayout.ValidatorDir(dir, i), SequencerNode.VoteLogFile);
                var votes = File.ReadAllLines(log).Select(l => l.Split(' ')).Where(p => p.Length == 2).ToList();
                Assert.NotEmpty(votes);
                var doubled = votes.GroupBy(p => p[0]).Where(g => g.Select(p => p[1]).Distinct().Count() > 1).Select(g => g.Key).ToList();
                Assert.True(doubled.Count == 0, $"validator {i} voted for two blocks in rounds {string.Join(", ", doubled)}");
                var info = await Call(http, Rpc(i, 0), "keel_nodeInfo");
                Assert.Equal(0, (long)info!["equivocations"]!);
                Assert.Empty((await Call(http, Rpc(i, 0), "keel_getEquivocations"))!.AsArray());
            }
        }
        finally
        {
            foreach (var p in processes)
            {
                if (p is { HasExited: false })
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5_000);
                }
                p?.Dispose();
            }
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static Process StartNode(string dir, int index) =>
        KeelProcess.Start("node", "--config", DevnetLayout.ConfigPath(dir, index), "--log-level", "warning");

    private static async Task WaitReady(Process process, int index)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                Assert.Fail($"node {index} exited before it was ready: {await process.StandardError.ReadToEndAsync()}");
            }
            if (line == "ready")
            {
                // Keep draining both streams so the child never blocks on a full pipe.
                _ = process.StandardOutput.ReadToEndAsync();
                _ = process.StandardError.ReadToEndAsync();
                return;
            }
        }
    }

    /// <summary>Signed transfers at a steady pace from one dev account per chain (nonces in order).</summary>
    private static async Task Load(HttpClient http, string rpc, ulong chainId, int chainSlot, ConcurrentBag<(int, string)> accepted, CancellationToken stop)
    {
        var (from, keyHex) = DevnetLayout.FundedAccounts()[5 + chainSlot];
        var key = Hex.Decode(keyHex);
        var to = DevnetLayout.FundedAccounts()[0].Address;
        var nonce = ulong.Parse(((string)(await Call(http, rpc, "eth_getTransactionCount", from.ToString(), "pending"))!)[2..], System.Globalization.NumberStyles.HexNumber);
        while (!stop.IsCancellationRequested)
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
                Value = 1_000UL + nonce,
            }.Sign(key);
            var result = await Call(http, rpc, "eth_sendRawTransaction", Hex.Encode(tx.Encode()));
            accepted.Add((chainSlot, (string)result!));
            nonce++;
            // About 40 transfers per second per chain: a steady load, not a benchmark.
            await Task.Delay(25, CancellationToken.None);
            if (nonce % 8 == 0)
            {
                // The mempool queues at most 64 per sender: while the dead validator's rounds time out,
                // commits slow down and the sender waits for them (as a wallet would).
                while (!stop.IsCancellationRequested && await PendingGap(http, rpc, from) > 40)
                {
                    await Task.Delay(50, CancellationToken.None);
                }
            }
        }
    }

    private static async Task<ulong> PendingGap(HttpClient http, string rpc, Address from)
    {
        var pending = Convert.ToUInt64((string)(await Call(http, rpc, "eth_getTransactionCount", from.ToString(), "pending"))!, 16);
        var latest = Convert.ToUInt64((string)(await Call(http, rpc, "eth_getTransactionCount", from.ToString(), "latest"))!, 16);
        return pending - latest;
    }

    private static async Task<ulong> BlockNumber(HttpClient http, string rpc) => Convert.ToUInt64((string)(await Call(http, rpc, "eth_blockNumber"))!, 16);

    private static async Task<JsonNode?> Call(HttpClient http, string rpc, string method, params object[] args)
    {
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = new JsonArray([.. args.Select(a => JsonValue.Create(a))]) };
        using var response = await http.PostAsJsonAsync(rpc, body);
        var json = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (json!["error"] is { } error)
        {
            throw new InvalidOperationException($"{method} on {rpc}: {error.ToJsonString()}");
        }
        return json["result"];
    }
}
