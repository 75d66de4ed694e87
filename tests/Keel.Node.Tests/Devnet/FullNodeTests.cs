using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Keel.Core;
using Keel.Core.Ethereum;
using Keel.Node.Cli;
using Keel.Node.Keys;
using Keel.Node.Service;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Tests.Devnet;

/// <summary>
/// A full (non-validator) node next to a 4-validator devnet: it follows committed blocks over
/// libp2p (checking certificates and the 2-chain rule), serves RPC, and a transaction sent to it
/// reaches the validators by gossip and comes back committed on both.
/// </summary>
public sealed class FullNodeTests
{
    [Fact]
    public async Task A_full_node_follows_the_committee_serves_receipts_and_forwards_transactions()
    {
        var dir = DevnetHarness.TempDir("fullnode");
        try
        {
            var configs = DevnetLayout.Prepare(DevnetHarness.Options(dir), fresh: true);
            var key = KeyFile.Generate();
            P2pNodeKey.EnsurePresent(key);
            var followerDir = Path.Combine(dir, "follower");
            Directory.CreateDirectory(followerDir);
            var keyPath = Path.Combine(followerDir, "node.key");
            key.Save(keyPath);
            var followerConfig = configs[0] with
            {
                KeyFile = keyPath,
                DataDir = followerDir,
                P2pPort = DevnetHarness.ConsecutiveFreePorts(1),
                RpcPort = 0,
                MetricsPort = -1,
            };
            await using var devnet = await InProcessDevnet.StartAsync(configs, dir);
            await using var follower = new SequencerNode(followerConfig);
            await follower.StartAsync();
            Assert.False(follower.IsValidator);
            await using var endpoints = await NodeEndpoints.StartAsync(follower, 0, -1, null, LogLevel.Warning, CancellationToken.None);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var rpc = endpoints.Rpc[0].Http;
            var (from, senderKey) = DevnetLayout.FundedAccounts()[7];
            var tx = new Transaction
            {
                Type = TransactionType.Eip1559,
                ChainId = 901,
                Nonce = 0,
                MaxFeePerGas = 10_000_000_000UL,
                MaxPriorityFeePerGas = 1_000_000_000UL,
                GasLimit = 21_000,
                To = DevnetLayout.FundedAccounts()[8].Address,
                Value = 12_345UL,
            }.Sign(Hex.Decode(senderKey));
            var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = "eth_sendRawTransaction", ["params"] = new JsonArray(Hex.Encode(tx.Encode())) };
            using (var response = await http.PostAsJsonAsync(rpc, body))
            {
                var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
                Assert.Equal(tx.Hash.ToString(), (string?)answer!["result"]);
            }

            await DevnetHarness.WaitUntil(() => follower.Chain(901).GetTransaction(tx.Hash) is not null && devnet.Nodes[0].Chain(901).GetTransaction(tx.Hash) is not null,
                TimeSpan.FromSeconds(30), "the transfer sent to the full node to commit on it and on validator 0");
            var onFollower = follower.Chain(901).GetTransaction(tx.Hash)!;
            var onValidator = devnet.Nodes[0].Chain(901).GetTransaction(tx.Hash)!;
            Assert.Equal(onValidator.BlockHash, onFollower.BlockHash);
            Assert.Equal(onValidator.BlockHeight, onFollower.BlockHeight);
            Assert.Equal(devnet.Nodes[0].Chain(901).GetAccount(from), follower.Chain(901).GetAccount(from));
            for (var h = 1L; h <= follower.Chain(901).Head; h++)
            {
                Assert.Equal(devnet.Nodes[1].Chain(902).GetBlock(h)!.Hash, follower.Chain(902).GetBlock(h)!.Hash);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
