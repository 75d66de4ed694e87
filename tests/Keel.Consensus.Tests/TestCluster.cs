using Keel.Consensus.Crypto;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Consensus.Simulation;
using Keel.Consensus.Storage;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Tests;

/// <summary>A manual clock: time moves only when a test says so.</summary>
internal sealed class ManualClock(long startMs) : IClock
{
    public long NowMs { get; set; } = startMs;
    public long? RequestedWakeMs { get; private set; }

    public void WakeAt(long localTimeMs) => RequestedWakeMs = localTimeMs;
}

/// <summary>An application that always has something to order and accepts everything not marked bad.</summary>
internal sealed class TestApplication : IApplication
{
    public List<(Block Block, QuorumCertificate Cert)> Committed { get; } = [];
    public bool HasPendingPayload { get; set; } = true;
    public bool Accept { get; set; } = true;
    private int _counter;

    public ProposalContent PrepareProposal(ProposalContext context) =>
        new([], BitConverter.GetBytes(++_counter));

    public bool ProcessProposal(Block block) => Accept;

    public void Commit(Block block, QuorumCertificate certificate) => Committed.Add((block, certificate));
}

/// <summary>Captures what a node sends; the test decides what gets delivered.</summary>
internal sealed class CapturingNetwork : IConsensusNetwork
{
    public List<(int? To, ConsensusMessage Message)> Sent { get; } = [];
    public Action<int?, ConsensusMessage>? OnSend { get; set; }

    public void Broadcast(ConsensusMessage message)
    {
        OnSend?.Invoke(null, message);
        Sent.Add((null, message));
    }

    public void Send(int validatorIndex, ConsensusMessage message)
    {
        OnSend?.Invoke(validatorIndex, message);
        Sent.Add((validatorIndex, message));
    }
}

/// <summary>
/// n validators with in-memory stores on one manual clock, the simulator's fast signatures and a
/// network the test pumps by hand (FIFO, nothing lost unless the test drops it).
/// </summary>
internal sealed class TestCluster
{
    public const long StartMs = 1_700_000_000_000;

    public TestCluster(int validators, ConsensusConfig? config = null)
    {
        Config = config ?? new ConsensusConfig { MinBlockIntervalMs = 0, MaxEmptyIntervalMs = 100, RoundTimeoutMs = 1_000, MaxRoundTimeoutMs = 4_000 };
        Membership = StaticMembership.EqualStake(Enumerable.Range(0, validators).Select(TestKeys.AddressOf));
        Scheme = new SimSignatureScheme(42, validators, Config.NetworkId);
        Genesis = Block.CreateGenesis(StartMs - 1_000);
        Clock = new ManualClock(StartMs);
        for (var i = 0; i < validators; i++)
        {
            Stores.Add(new InMemoryConsensusStore());
            Apps.Add(new TestApplication());
            Networks.Add(new CapturingNetwork());
            Nodes.Add(null!);
            Restart(i);
        }
    }

    public ConsensusConfig Config { get; }
    public StaticMembership Membership { get; }
    public SimSignatureScheme Scheme { get; }
    public Block Genesis { get; }
    public ManualClock Clock { get; }
    public List<ConsensusNode> Nodes { get; } = [];
    public List<InMemoryConsensusStore> Stores { get; } = [];
    public List<TestApplication> Apps { get; } = [];
    public List<CapturingNetwork> Networks { get; } = [];
    public HashSet<int> Down { get; } = [];

    public ConsensusNode Create(int i) => new(Config, Membership, Scheme.SignerFor(i), Scheme, Networks[i], Stores[i], Apps[i], Clock, new DeterministicRandom((ulong)i), Genesis);

    /// <summary>A fresh node object on the same store (a restart).</summary>
    public void Restart(int i)
    {
        Networks[i].Sent.Clear();
        Nodes[i] = Create(i);
        Nodes[i].Start();
    }

    /// <summary>Delivers every captured message (and what that causes) until the network is quiet.</summary>
    public int Pump(int maxMessages = 100_000)
    {
        var delivered = 0;
        while (true)
        {
            var any = false;
            for (var from = 0; from < Nodes.Count; from++)
            {
                var batch = Networks[from].Sent.ToList();
                Networks[from].Sent.Clear();
                foreach (var (to, message) in batch)
                {
                    any = true;
                    for (var target = 0; target < Nodes.Count; target++)
                    {
                        if (target == from || Down.Contains(target) || Down.Contains(from) || (to is { } t && t != target))
                        {
                            continue;
                        }
                        Nodes[target].Handle(ConsensusEvent.FromMessage(from, message));
                        if (++delivered > maxMessages)
                        {
                            throw new InvalidOperationException("pump did not settle");
                        }
                    }
                }
            }
            if (!any)
            {
                return delivered;
            }
        }
    }

    /// <summary>Moves the clock and fires every node's timer.</summary>
    public void Advance(long ms)
    {
        Clock.NowMs += ms;
        for (var i = 0; i < Nodes.Count; i++)
        {
            if (!Down.Contains(i))
            {
                Nodes[i].Handle(TimerFired.Instance);
            }
        }
    }

    /// <summary>Advances in steps, pumping after each, until the predicate holds or the budget ends.</summary>
    public bool RunUntil(Func<bool> done, long budgetMs = 60_000, long stepMs = 50)
    {
        for (long t = 0; t < budgetMs; t += stepMs)
        {
            Pump();
            if (done())
            {
                return true;
            }
            Advance(stepMs);
        }
        Pump();
        return done();
    }
}

internal static class TestKeys
{
    public static Address AddressOf(int i) => Address.FromBytes(Keccak256.Hash(BitConverter.GetBytes(i + 1000))[..20]);
}
