using Keel.Consensus;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Consensus.Simulation;
using Keel.Consensus.Storage;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Sequencer.Application;
using Keel.Sequencer.Availability;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Tests.TestData;

namespace Keel.Sequencer.Tests.Application;

/// <summary>
/// Real consensus nodes, each with its own sequencer application, stores and mempools, on a manual
/// clock and a FIFO network pumped by the test: transfers gossiped to every mempool end up committed,
/// in one order, on every node.
/// </summary>
public class SequencerClusterTests
{
    private sealed class Clock(long now) : IClock
    {
        public long NowMs { get; set; } = now;

        public void WakeAt(long localTimeMs)
        {
        }
    }

    private sealed class Network : IConsensusNetwork
    {
        public List<(int? To, ConsensusMessage Message)> Outbox { get; } = [];

        public void Broadcast(ConsensusMessage message) => Outbox.Add((null, message));

        public void Send(int validatorIndex, ConsensusMessage message) => Outbox.Add((validatorIndex, message));
    }

    private sealed class Cluster
    {
        private readonly ConsensusConfig _config = new() { MinBlockIntervalMs = 20, MaxEmptyIntervalMs = 200, PayloadPollIntervalMs = 10, RoundTimeoutMs = 1_000, MaxRoundTimeoutMs = 4_000 };
        private readonly StaticMembership _membership;
        private readonly SimSignatureScheme _scheme;

        public Cluster(int size)
        {
            _membership = StaticMembership.EqualStake(Enumerable.Range(0, size).Select(i => Address.FromBytes(Keccak256.Hash(BitConverter.GetBytes(i))[..20])));
            _scheme = new SimSignatureScheme(7, size, _config.NetworkId);
            Genesis = Block.CreateGenesis(AppHarness.StartMs);
            for (var i = 0; i < size; i++)
            {
                ConsensusStores.Add(new InMemoryConsensusStore());
                BlockStores.Add(new InMemoryBlockStore());
                Networks.Add(new Network());
                Sinks.Add(new RecordingSink());
                Apps.Add(null!);
                Nodes.Add(null!);
                Start(i);
            }
        }

        public Block Genesis { get; }
        public Clock Clock { get; } = new(AppHarness.StartMs + 1_000);
        public List<InMemoryConsensusStore> ConsensusStores { get; } = [];
        public List<InMemoryBlockStore> BlockStores { get; } = [];
        public List<Network> Networks { get; } = [];
        public List<RecordingSink> Sinks { get; } = [];
        public List<SequencerApplication> Apps { get; } = [];
        public List<ConsensusNode> Nodes { get; } = [];

        /// <summary>Validators cut off the network (nothing to or from them is delivered, their timers do not fire).</summary>
        public HashSet<int> Down { get; } = [];

        /// <summary>(Re)starts validator i from its stores, as a process restart would.</summary>
        public void Start(int i)
        {
            var store = ConsensusStores[i];
            Apps[i] = new SequencerApplication(new SequencerOptions
            {
                Namespaces = AppHarness.DefaultNamespaces(),
                Genesis = Genesis,
                BlockStore = BlockStores[i],
                CommitSink = Sinks[i],
                BlockLookup = store.GetBlock,
            });
            Nodes[i] = new ConsensusNode(_config, _membership, _scheme.SignerFor(i), _scheme, Networks[i], store, Apps[i], Clock, new DeterministicRandom((ulong)i + 1), Genesis);
            Nodes[i].Start();
        }

        /// <summary>Gossip: every reachable validator's mempool gets the transaction.</summary>
        public void Submit(ulong chainId, byte[] raw)
        {
            for (var i = 0; i < Apps.Count; i++)
            {
                if (!Down.Contains(i))
                {
                    Apps[i].Submit(chainId, raw);
                }
            }
        }

        public void Step(long ms)
        {
            Clock.NowMs += ms;
            for (var i = 0; i < Nodes.Count; i++)
            {
                if (!Down.Contains(i))
                {
                    Nodes[i].Handle(TimerFired.Instance);
                    Nodes[i].Handle(PayloadAvailable.Instance);
                }
            }
            Pump();
        }

        private void Pump()
        {
            for (var guard = 0; guard < 100_000; guard++)
            {
                var any = false;
                for (var from = 0; from < Nodes.Count; from++)
                {
                    var batch = Networks[from].Outbox.ToList();
                    Networks[from].Outbox.Clear();
                    foreach (var (to, message) in batch)
                    {
                        any = true;
                        for (var target = 0; target < Nodes.Count; target++)
                        {
                            if (target != from && (to is null || to == target) && !Down.Contains(target) && !Down.Contains(from))
                            {
                                Nodes[target].Handle(ConsensusEvent.FromMessage(from, message));
                            }
                        }
                    }
                }
                if (!any)
                {
                    return;
                }
            }
            throw new InvalidOperationException("the network did not settle");
        }

        public bool RunUntil(Func<bool> done, long budgetMs = 30_000)
        {
            for (long t = 0; t < budgetMs; t += 10)
            {
                Step(10);
                if (done())
                {
                    return true;
                }
            }
            return false;
        }
    }

    [Fact]
    public void Transfers_submitted_to_the_mempools_commit_in_one_order_on_every_node()
    {
        var cluster = new Cluster(4);
        var a = new TxFactory(AppHarness.ChainA);
        var b = new TxFactory(AppHarness.ChainB);
        var submitted = new List<Hash32>();
        void Wave(int wave)
        {
            for (var sender = 0; sender < 6; sender++)
            {
                for (var k = 0; k < 3; k++)
                {
                    var nonce = (ulong)(wave * 3 + k);
                    var raw = sender % 2 == 0 ? a.Transfer(sender, nonce, value: 1_000 + nonce) : a.Legacy(sender, nonce, value: 2_000 + nonce);
                    cluster.Submit(AppHarness.ChainA, raw);
                    submitted.Add(Keccak256.HashToHash32(raw));
                }
            }
            var rb = b.Transfer(9, (ulong)wave);
            cluster.Submit(AppHarness.ChainB, rb);
            submitted.Add(Keccak256.HashToHash32(rb));
            byte[] blob = [0x0B, (byte)wave];
            cluster.Submit(AppHarness.OpaqueChain, blob);
            submitted.Add(Keccak256.HashToHash32(blob));
        }

        Wave(0);
        Assert.True(cluster.RunUntil(() => cluster.Apps.All(app => !app.HasPendingPayload && app.Mempools.All(m => m.Count == 0))), "first wave did not commit everywhere");

        // Validator 3 restarts from its stores between waves (replay of its block store).
        var before = cluster.Apps[3].CommittedHeight;
        cluster.Start(3);
        Assert.Equal(before, cluster.Apps[3].CommittedHeight);
        Wave(1);
        Assert.True(cluster.RunUntil(() => cluster.Apps.All(app => app.Mempools.All(m => m.Count == 0))), "second wave did not commit everywhere");
        var height = cluster.Apps.Min(app => app.CommittedHeight);
        Assert.True(cluster.RunUntil(() => cluster.Apps.All(app => app.CommittedHeight >= height + 2)));

        // One chain everywhere.
        var common = cluster.Apps.Min(app => app.CommittedHeight);
        for (var h = 1; h <= common; h++)
        {
            var hashes = cluster.BlockStores.Select(s => s.GetByHeight(h)!.Block.Hash).Distinct().ToList();
            Assert.Single(hashes);
        }
        // Every submitted transaction committed exactly once, in nonce order per sender.
        var chain = Enumerable.Range(1, (int)common).Select(h => cluster.BlockStores[0].GetByHeight(h)!).ToList();
        var included = chain.SelectMany(s => BlockPayloadCodec.Decode(s.Block.Payload.ToArray(), cluster.Apps[0].Namespaces)
            .SelectMany(ns => ns.Transactions.Select(t => Keccak256.HashToHash32(t.Span)))).ToList();
        Assert.Equal(included.Count, included.Distinct().Count());
        Assert.Equal(submitted.OrderBy(x => x), included.OrderBy(x => x));
        var nonces = cluster.Sinks[0].Blocks.SelectMany(c => c.Batches[0].Transfers!).GroupBy(t => t.From);
        Assert.All(nonces, g => Assert.Equal(Enumerable.Range(0, 6).Select(n => (ulong)n), g.Select(t => t.Nonce)));
        // The same committed state on every node.
        for (var i = 0; i < DevKeys.Count; i++)
        {
            var expected = cluster.Apps[0].CommittedAccounts(AppHarness.ChainA).GetAccount(DevKeys.Address(i));
            Assert.All(cluster.Apps, app => Assert.Equal(expected, app.CommittedAccounts(AppHarness.ChainA).GetAccount(DevKeys.Address(i))));
        }
        Assert.Equal(6UL, cluster.Apps[1].CommittedAccounts(AppHarness.ChainA).GetAccount(DevKeys.Address(4)).Nonce);
        Assert.Equal(2UL, cluster.Apps[2].CommittedAccounts(AppHarness.ChainB).GetAccount(DevKeys.Address(9)).Nonce);
        Assert.All(cluster.Apps, app => Assert.Equal(0, app.RejectedProposals));
        // A light client checks one namespace of a committed block from any node.
        var proof = cluster.Apps[2].GetNamespacePayload(1, AppHarness.ChainA)!;
        Assert.True(proof.Verify(AppHarness.ChainA));
    }

    [Fact]
    public void A_validator_cut_off_during_commits_catches_up_through_sync_and_agrees()
    {
        var cluster = new Cluster(4);
        var a = new TxFactory(AppHarness.ChainA);
        cluster.Down.Add(2);
        for (var k = 0; k < 4; k++)
        {
            for (ulong n = 0; n < 3; n++)
            {
                cluster.Submit(AppHarness.ChainA, a.Transfer(k, n, value: 10 + n));
            }
        }
        Assert.True(cluster.RunUntil(() => cluster.Apps[0].Mempools.All(m => m.Count == 0) && cluster.Apps[0].CommittedHeight >= 3), "three validators did not commit");
        Assert.Equal(0, cluster.Apps[2].CommittedHeight);

        cluster.Down.Remove(2);
        for (ulong n = 3; n < 5; n++)
        {
            cluster.Submit(AppHarness.ChainA, a.Transfer(5, n - 3, value: 99));
        }
        var target = cluster.Apps[0].CommittedHeight + 3;
        Assert.True(cluster.RunUntil(() => cluster.Apps.All(app => app.CommittedHeight >= target)), "the cut-off validator did not catch up");
        var common = cluster.Apps.Min(app => app.CommittedHeight);
        for (var h = 1; h <= common; h++)
        {
            Assert.Single(cluster.BlockStores.Select(s => s.GetByHeight(h)!.Block.Hash).Distinct());
        }
        for (var i = 0; i < DevKeys.Count; i++)
        {
            var expected = cluster.Apps[0].CommittedAccounts(AppHarness.ChainA).GetAccount(DevKeys.Address(i));
            Assert.Equal(expected, cluster.Apps[2].CommittedAccounts(AppHarness.ChainA).GetAccount(DevKeys.Address(i)));
        }
        Assert.Equal(3UL, cluster.Apps[2].CommittedAccounts(AppHarness.ChainA).GetAccount(DevKeys.Address(3)).Nonce);
        Assert.Equal(2UL, cluster.Apps[2].CommittedAccounts(AppHarness.ChainA).GetAccount(DevKeys.Address(5)).Nonce);
        // The blocks it missed reached its sink in order, with their batches, like everyone else's.
        Assert.Equal(Enumerable.Range(1, (int)cluster.Apps[2].CommittedHeight).Select(h => (long)h), cluster.Sinks[2].Blocks.Select(b => b.Height));
        // What it never saw in its mempool was not in its mempool to remove; nothing is left behind either.
        Assert.Equal(0, cluster.Apps[2].Mempools[0].Count);
    }
}
