using Keel.Consensus;
using Keel.Consensus.Model;
using Keel.Core;
using Keel.Core.Storage;
using Keel.Node.Sequencing;
using Keel.Node.Storage;
using Keel.Sequencer.Availability;
using Keel.Sequencer.Blocks;

namespace Keel.Node.Tests.Sequencing;

/// <summary>
/// The consensus store and the sequencer's block store over the key-value port: round trips, what a
/// crash keeps (synced writes) on the in-memory disk model, and the same on RocksDB across reopen.
/// </summary>
public sealed class KvStoresTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"keel-kvstores-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static Hash32 H(byte b)
    {
        var bytes = new byte[32];
        bytes[0] = b;
        bytes[31] = (byte)(b * 7 + 1);
        return Hash32.FromBytes(bytes);
    }

    private static byte[] Sig(byte b) => Enumerable.Repeat(b, 65).ToArray();

    private static QuorumCertificate Qc(long round, Hash32 hash) => new(round, hash, [0b0000_0111], [Sig(1), Sig(2), Sig(3)]);

    private static Block MakeBlock(long height, long round, Hash32 parent, byte fill) =>
        new(height, round, parent, 1_700_000_000_000 + height, Address.Zero, new byte[96], Enumerable.Repeat(fill, 100).ToArray());

    private static SafetyData Safety(long round)
    {
        var qc = Qc(round - 1, H(9));
        var tc = new TimeoutCertificate(round - 1, [0b0000_1011], [round - 2, round - 2, round - 3], [Sig(4), Sig(5), Sig(6)]);
        return new SafetyData(round, qc, new VoteMessage(round, H(10), 2, Sig(7)), new TimeoutMessage(round, qc, tc, 2, Sig(8)), tc);
    }

    [Fact]
    public void Consensus_store_round_trips_every_record()
    {
        using var kv = InMemoryKeyValueStore.Create(ColumnFamilyNames.All);
        var store = new KvConsensusStore(kv);
        Assert.Null(store.ReadSafetyData());
        Assert.Null(store.ReadCommittedTip());

        var safety = Safety(12);
        store.WriteSafetyDataSync(safety);
        var read = store.ReadSafetyData()!;
        Assert.Equal(12, read.LastVotedRound);
        Assert.Equal(safety.OneChainQc.Round, read.OneChainQc.Round);
        Assert.Equal(safety.OneChainQc.BlockHash, read.OneChainQc.BlockHash);
        Assert.Equal(safety.LastVote!.BlockHash, read.LastVote!.BlockHash);
        Assert.Equal(safety.LastVote.Signature, read.LastVote.Signature);
        Assert.Equal(safety.LastTimeout!.Round, read.LastTimeout!.Round);
        Assert.Equal(safety.HighTc!.HighQcRounds, read.HighTc!.HighQcRounds);

        var genesis = Block.CreateGenesis(0);
        var b1 = MakeBlock(1, 1, genesis.Hash, 0xAA);
        store.PutBlock(b1);
        store.PutCertificate(Qc(1, b1.Hash));
        Assert.Equal(b1.Hash, store.GetBlock(b1.Hash)!.Hash);
        Assert.Equal(b1.Payload.ToArray(), store.GetBlock(b1.Hash)!.Payload.ToArray());
        Assert.Equal(1, store.GetCertificate(b1.Hash)!.Round);
        Assert.Null(store.GetBlock(H(77)));

        store.WriteCommittedSync(b1, Qc(1, b1.Hash));
        Assert.Equal((1L, b1.Hash), store.ReadCommittedTip());
        Assert.Equal(b1.Hash, store.GetCommittedHash(1));
        Assert.Null(store.GetCommittedHash(2));
    }

    [Fact]
    public void A_crash_keeps_synced_safety_data_and_commits()
    {
        var disk = new InMemoryDisk();
        var genesis = Block.CreateGenesis(0);
        var b1 = MakeBlock(1, 1, genesis.Hash, 1);
        var b2 = MakeBlock(2, 2, b1.Hash, 2);
        using (var kv = disk.Open(ColumnFamilyNames.All))
        {
            var store = new KvConsensusStore(kv);
            store.WriteSafetyDataSync(Safety(5));
            store.WriteCommittedSync(b1, Qc(1, b1.Hash));
            store.PutBlock(b2); // buffered: may be lost
            kv.Crash(new Random(1));
        }
        using (var kv = disk.Open(ColumnFamilyNames.All))
        {
            var store = new KvConsensusStore(kv);
            Assert.Equal(5, store.ReadSafetyData()!.LastVotedRound);
            Assert.Equal((1L, b1.Hash), store.ReadCommittedTip());
            Assert.NotNull(store.GetBlock(b1.Hash));
            Assert.NotNull(store.GetCertificate(b1.Hash));
        }
    }

    [Fact]
    public void A_corrupt_safety_record_is_a_store_error()
    {
        using var kv = InMemoryKeyValueStore.Create(ColumnFamilyNames.All);
        kv.GetColumnFamily(ColumnFamilyNames.Safety).Put("safety"u8, [0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 1, 0]);
        Assert.Throws<ConsensusStoreException>(() => new KvConsensusStore(kv).ReadSafetyData());
    }

    [Fact]
    public void Block_store_keeps_contiguous_heights_tables_and_hash_index()
    {
        using var kv = InMemoryKeyValueStore.Create(ColumnFamilyNames.All);
        var store = new KvBlockStore(kv);
        var genesis = Block.CreateGenesis(0);
        var b1 = MakeBlock(1, 1, genesis.Hash, 1);
        var entries = new[] { new NamespaceEntry(901, 3, H(1), H(2)), new NamespaceEntry(902, 0, H(3), Hash32.Zero) };
        Assert.Equal(0, store.Height);
        Assert.Throws<ConsensusStoreException>(() => store.PutCommitted(new StoredBlock(MakeBlock(2, 2, b1.Hash, 2), Qc(2, H(5)), entries)));
        store.PutCommitted(new StoredBlock(b1, Qc(1, b1.Hash), entries));
        Assert.Equal(1, store.Height);
        var read = store.GetByHeight(1)!;
        Assert.Equal(b1.Hash, read.Block.Hash);
        Assert.Equal(entries, read.Table);
        Assert.Equal(b1.Hash, store.GetByHash(b1.Hash)!.Block.Hash);
        Assert.Null(store.GetByHeight(2));
        Assert.Null(store.GetByHash(H(99)));
        Assert.Equal(1, new KvBlockStore(kv).Height);
    }

    [Fact]
    public void Both_stores_survive_closing_and_reopening_RocksDB()
    {
        var genesis = Block.CreateGenesis(0);
        var b1 = MakeBlock(1, 3, genesis.Hash, 0x11);
        using (var db = NodeDatabase.Open(_dir))
        {
            var consensus = new KvConsensusStore(db);
            consensus.WriteSafetyDataSync(Safety(4));
            consensus.WriteCommittedSync(b1, Qc(3, b1.Hash));
            new KvBlockStore(db).PutCommitted(new StoredBlock(b1, Qc(3, b1.Hash), [new NamespaceEntry(901, 0, H(1), Hash32.Zero)]));
        }
        using (var db = NodeDatabase.Open(_dir))
        {
            var consensus = new KvConsensusStore(db);
            Assert.Equal(4, consensus.ReadSafetyData()!.LastVotedRound);
            Assert.Equal((1L, b1.Hash), consensus.ReadCommittedTip());
            var blocks = new KvBlockStore(db);
            Assert.Equal(1, blocks.Height);
            Assert.Equal(b1.Payload.ToArray(), blocks.GetByHeight(1)!.Block.Payload.ToArray());
        }
    }
}
