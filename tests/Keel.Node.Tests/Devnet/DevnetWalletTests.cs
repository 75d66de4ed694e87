using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Keel.Core;
using Keel.Node.Service;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Tests.Devnet;

/// <summary>
/// A four-validator devnet in this process (each validator with its own libp2p host on loopback TCP
/// and its own RocksDB directory) driven by ethers 6: at least 100 transfers per rollup from several
/// dev accounts, receipts, balances, nonces, refused bad transactions, newHeads. Then every node holds
/// the same committed chain, and a restart from the data directory resumes the same chains.
/// Needs node and devnet/node_modules (tests/run.sh installs them).
/// </summary>
public sealed class DevnetWalletTests
{
    private static readonly TimeSpan ScriptDeadline = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Ethers_wallet_transfers_on_both_rollups_then_all_nodes_agree_and_a_restart_resumes()
    {
        var root = DevnetHarness.RepositoryRoot();
        var devnetDir = Path.Combine(root, "devnet");
        Assert.True(File.Exists(Path.Combine(devnetDir, "node_modules", "ethers", "lib.esm", "index.js")),
            "devnet/node_modules/ethers is missing: run devnet/setup.sh (tests/run.sh does) to install the pinned npm tools");
        var dir = DevnetHarness.TempDir("wallet");
        try
        {
            var options = DevnetHarness.Options(dir);
            var configs = DevnetLayout.Prepare(options, fresh: true);
            long height;
            Hash32 someTx;
            await using (var devnet = await InProcessDevnet.StartAsync(configs, dir))
            {
                var result = await RunScript(root, devnetDir, devnet.InfoUri, 100);
                var chains = result["chains"]!.AsArray();
                Assert.Equal(2, chains.Count);
                Assert.All(chains, c => Assert.True((int)c!["transfers"]! >= 100));

                // The metrics the issue asks for: consensus, mempool, p2p and the soft-finality histogram.
                using (var http = new HttpClient())
                {
                    var metrics = await http.GetStringAsync(devnet.Endpoints.MetricsUri);
                    foreach (var family in new[] { "keel_consensus_rounds_total", "keel_consensus_height", "keel_mempool_size", "keel_p2p_peers", "keel_finality_soft_seconds_bucket" })
                    {
                        Assert.Contains(family, metrics);
                    }
                    Assert.Matches(@"keel_finality_soft_seconds_count\{chain=""901""\} [1-9]", metrics);
                }

                // Every committed transaction is on every node: same block hashes, same transactions.
                var target = devnet.Nodes[0].Chain(901).Head;
                await DevnetHarness.WaitUntil(() => devnet.Nodes.All(n => n.Chain(901).Head >= target && n.Chain(902).Head >= target), TimeSpan.FromSeconds(20), "all nodes to reach the first node's height");
                for (var h = 1L; h <= target; h++)
                {
                    foreach (var chainId in new ulong[] { 901, 902 })
                    {
                        var reference = devnet.Nodes[0].Chain(chainId).GetBlock(h)!;
                        foreach (var node in devnet.Nodes.Skip(1))
                        {
                            var other = node.Chain(chainId).GetBlock(h)!;
                            Assert.Equal(reference.Hash, other.Hash);
                            Assert.Equal(reference.Transactions, other.Transactions);
                        }
                    }
                }
                var committed = Enumerable.Range(1, (int)target).SelectMany(h => devnet.Nodes[0].Chain(901).GetBlock(h)!.Transactions).ToList();
                Assert.True(committed.Count >= 100, $"only {committed.Count} transactions committed on 901");
                Assert.All(devnet.Nodes, n => Assert.Equal(0, n.Equivocations));

                // The rollup executor (Poseidon2 tree) catches up in the background and agrees with the
                // receipts and balances the index made at commit.
                var executor = devnet.Nodes[0].Executor!;
                await DevnetHarness.WaitUntil(() => executor.ExecutedHeight >= target, TimeSpan.FromSeconds(60), "the rollup executor to catch up");
                Assert.Equal(0, executor.ReceiptMismatches);
                Assert.NotNull(executor.StateRoot(901, target));
                // The script's senders do nothing after it ends, so both views of them are final.
                foreach (var account in DevnetLayout.FundedAccounts().Take(5))
                {
                    Assert.Equal(devnet.Nodes[0].Chain(901).GetAccount(account.Address), executor.GetAccount(901, account.Address));
                    Assert.Equal(devnet.Nodes[0].Chain(902).GetAccount(account.Address), executor.GetAccount(902, account.Address));
                }
                someTx = committed[0];
                height = target;
            }

            // Restart from the same data directory: the same chains continue.
            var resumed = DevnetLayout.Prepare(options, fresh: false);
            Assert.Equal(configs[0].Validators.Select(v => v.Address), resumed[0].Validators.Select(v => v.Address));
            await using (var devnet = await InProcessDevnet.StartAsync(resumed, dir))
            {
                Assert.All(devnet.Nodes, n => Assert.True(n.Chain(901).Head >= height, $"node {n.ValidatorIndex} resumed at {n.Chain(901).Head}, below {height}"));
                Assert.NotNull(devnet.Nodes[0].Chain(901).GetTransaction(someTx));
                await DevnetHarness.WaitUntil(() => devnet.Nodes.All(n => n.Chain(901).Head > height + 2), TimeSpan.FromSeconds(30), "new blocks after the restart");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<JsonNode> RunScript(string root, string devnetDir, Uri info, int perChain)
    {
        var script = Path.Combine(root, "tests", "Keel.Node.Tests", "Devnet", "wallet-transfers.mjs");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { script, devnetDir, info.ToString(), perChain.ToString() })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var deadline = new CancellationTokenSource(ScriptDeadline);
            await process.WaitForExitAsync(deadline.Token);
            process.WaitForExit();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        Assert.True(process.ExitCode == 0, $"wallet script exited {process.ExitCode}: {stderr}{stdout}");
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = JsonNode.Parse(lines[^1])!;
        Assert.Empty(result["failures"]!.AsArray());
        return result;
    }
}

/// <summary>The validators of a devnet in this process, with RPC on the first (as `keel devnet` runs them).</summary>
internal sealed class InProcessDevnet : IAsyncDisposable
{
    private readonly List<SequencerNode> _nodes = [];
    private NodeEndpoints? _endpoints;

    public IReadOnlyList<SequencerNode> Nodes => _nodes;

    public NodeEndpoints Endpoints => _endpoints!;

    public Uri InfoUri => new(Endpoints.Rpc[0].Http, "/devnet/info");

    public static async Task<InProcessDevnet> StartAsync(IReadOnlyList<NodeConfig> configs, string dataDir)
    {
        var devnet = new InProcessDevnet();
        try
        {
            foreach (var config in configs)
            {
                var node = new SequencerNode(config);
                devnet._nodes.Add(node);
                await node.StartAsync();
            }
            IReadOnlyList<ChainEndpoint> rpc = [];
            Uri? metrics = null;
            devnet._endpoints = await NodeEndpoints.StartAsync(devnet._nodes[0], configs[0].RpcPort, configs[0].MetricsPort,
                () => DevnetLayout.Info(configs, rpc, metrics, dataDir), LogLevel.Warning, CancellationToken.None);
            rpc = devnet._endpoints.Rpc;
            metrics = devnet._endpoints.MetricsUri;
            return devnet;
        }
        catch
        {
            await devnet.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_endpoints is not null)
        {
            await _endpoints.DisposeAsync();
        }
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
