using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

/// <summary>
/// ethers 6 (what dapps and scripts use) against a live server: network detection, batches, error
/// mapping, and newHeads over a WebSocketProvider. Needs node and devnet/node_modules, which
/// tests/run.sh installs (devnet/setup.sh); without them this fails and says so.
/// </summary>
public sealed class RpcEthersTests
{
    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Ethers_json_rpc_and_websocket_providers_work_against_the_server()
    {
        var root = Keel.Node.Tests.Devnet.DevnetHarness.RepositoryRoot();
        var devnet = Path.Combine(root, "devnet");
        var ethers = Path.Combine(devnet, "node_modules", "ethers", "lib.esm", "index.js");
        Assert.True(File.Exists(ethers), $"{ethers} is missing: run devnet/setup.sh (tests/run.sh does) to install the pinned npm tools");
        var script = Path.Combine(root, "tests", "Keel.Node.Tests", "Rpc", "ethers-client.mjs");

        await using var t = await RpcTestServer.StartAsync();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { script, devnet, t.Host.HttpUri.ToString(), t.Host.WebSocketUri.ToString(), "3" })
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
            using var deadline = new CancellationTokenSource(ProcessDeadline);
            // Publish only once ethers' newHeads subscription is live, then the three heads it waits for.
            while (t.Server.Subscriptions.SubscriberCount(RpcSubscriptionHub.NewHeads) == 0)
            {
                if (process.HasExited)
                {
                    process.WaitForExit();
                    Assert.Fail($"node exited early ({process.ExitCode}): {stderr}{stdout}");
                }
                Assert.False(deadline.IsCancellationRequested, $"ethers never subscribed: {stderr}{stdout}");
                await Task.Delay(20);
            }
            for (ulong n = 1; n <= 3; n++)
            {
                Assert.Equal(1, t.Server.Subscriptions.PublishNewHead(RpcWebSocketTests.Header(n)));
            }
            await process.WaitForExitAsync(deadline.Token);
            process.WaitForExit(); // flushes the redirected streams
            Assert.True(process.ExitCode == 0, $"node exited {process.ExitCode}: {stderr}{stdout}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seen = JsonNode.Parse(lines[^1])!;
        Assert.Equal("901", (string?)seen["chainId"]);
        Assert.StartsWith("keel/", (string?)seen["clientVersion"]);
        Assert.Equal(RpcServer.ClientVersion, (string?)seen["clientVersion"]);
        Assert.Equal("0x385", (string?)seen["batch"]!["chainId"]);
        Assert.Equal("901", (string?)seen["batch"]!["netVersion"]);
        Assert.Contains("eth", seen["batch"]!["modules"]!.AsArray().Select(m => (string?)m));
        Assert.Equal("UNSUPPORTED_OPERATION", (string?)seen["unknownMethod"]!["ethersCode"]);
        Assert.Equal(RpcErrorCodes.MethodNotFound, (int)seen["unknownMethod"]!["code"]!);
        Assert.Contains("eth_noSuchMethod", (string?)seen["unknownMethod"]!["message"]);
        Assert.Equal("901", (string?)seen["wsChainId"]);
        Assert.Equal([1, 2, 3], seen["blocks"]!.AsArray().Select(b => (int)b!).ToArray());
        // ethers' Promise.all went out as one batch request (3 calls in one HTTP request).
        Assert.True(t.Server.CallCount > t.Server.RequestCount, $"calls {t.Server.CallCount}, requests {t.Server.RequestCount}");
    }
}
