using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Consensus.Simulation;
using Keel.Core;

namespace Keel.Consensus.Tests.Simulation;

public sealed class SimStoreTests
{
    private static Block MakeBlock(long height, byte tag) => new(height, height, Hash32.Zero, 1, Address.Zero, [], [tag]);

    [Fact]
    public void A_crash_loses_unsynced_writes_and_keeps_synced_ones()
    {
        var store = new SimStore();
        var genesisQc = QuorumCertificate.ForGenesis(Hash32.Zero);
        var durable = MakeBlock(1, 1);
        store.PutBlock(durable);
        store.WriteSafetyDataSync(SafetyData.Initial(genesisQc) with { LastVotedRound = 7 });
        var volatileBlocks = Enumerable.Range(0, 50).Select(i => MakeBlock(2 + i, (byte)i)).ToList();
        volatileBlocks.ForEach(store.PutBlock);

        store.Crash(new DeterministicRandom(1));

        Assert.NotNull(store.GetBlock(durable.Hash)); // flushed by the sync write after it
        Assert.Equal(7, store.ReadSafetyData()!.LastVotedRound);
        var survived = volatileBlocks.Count(b => store.GetBlock(b.Hash) is not null);
        Assert.True(survived < volatileBlocks.Count);
        Assert.Equal(volatileBlocks.Count - survived, store.LostWrites);
        // What survives is a prefix of the write order, as from a log.
        Assert.All(volatileBlocks.Take(survived), b => Assert.NotNull(store.GetBlock(b.Hash)));
    }

    [Fact]
    public void Committed_writes_are_durable()
    {
        var store = new SimStore();
        var block = MakeBlock(1, 9);
        var qc = new QuorumCertificate(1, block.Hash, [1], [new byte[32]]);
        store.WriteCommittedSync(block, qc);
        store.Crash(new DeterministicRandom(2));
        Assert.Equal((1L, block.Hash), store.ReadCommittedTip());
        Assert.Equal(block.Hash, store.GetCommittedHash(1));
        Assert.Same(qc, store.GetCertificate(block.Hash));
    }
}
