using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Storage;

namespace Keel.Core.Tests.Storage;

/// <summary>The shared contract against the in-memory store, plus its crash model.</summary>
public sealed class InMemoryKeyValueStoreTests : KeyValueStoreContractTests
{
    private readonly InMemoryDisk _disk = new();

    protected override IKeyValueStore OpenStore(params string[] columnFamilies) => _disk.Open(columnFamilies);

    protected override IKeyValueStore OpenOtherStore(params string[] columnFamilies) => InMemoryKeyValueStore.Create(columnFamilies);

    private static byte[] K(int i) => Encoding.ASCII.GetBytes($"k{i:D4}");

    [Fact]
    public void A_crash_loses_buffered_writes_and_keeps_synced_ones()
    {
        var store = _disk.Open(Families);
        var alpha = store.GetColumnFamily("alpha");
        alpha.Put(B("synced"), B("1"), WriteDurability.Synced);
        alpha.Put(B("buffered"), B("2"));
        Assert.Equal(B("2"), alpha.Get(B("buffered")));
        Assert.Equal(1, _disk.UnsyncedWriteCount);

        Assert.Equal(1, store.Crash());

        Assert.Throws<StoreClosedException>(() => alpha.Get(B("synced")));
        using var reopened = _disk.Open(Families);
        Assert.Equal(B("1"), reopened.GetColumnFamily("alpha").Get(B("synced")));
        Assert.Null(reopened.GetColumnFamily("alpha").Get(B("buffered")));
    }

    [Fact]
    public void A_synced_write_makes_every_earlier_buffered_write_durable()
    {
        var store = _disk.Open(Families);
        store.GetColumnFamily("alpha").Put(B("early"), B("1"));
        store.GetColumnFamily("beta").Put(B("vote"), B("2"), WriteDurability.Synced);
        store.GetColumnFamily("alpha").Put(B("late"), B("3"));

        _disk.Crash();

        using var reopened = _disk.Open(Families);
        Assert.Equal(B("1"), reopened.GetColumnFamily("alpha").Get(B("early")));
        Assert.Equal(B("2"), reopened.GetColumnFamily("beta").Get(B("vote")));
        Assert.Null(reopened.GetColumnFamily("alpha").Get(B("late")));
    }

    [Fact]
    public void A_crash_rolls_back_overwrites_and_deletes_to_the_durable_values()
    {
        var store = _disk.Open(Families);
        var alpha = store.GetColumnFamily("alpha");
        alpha.Put(B("over"), B("durable"), WriteDurability.Synced);
        alpha.Put(B("del"), B("durable"), WriteDurability.Synced);
        alpha.Put(B("over"), B("lost-1"));
        alpha.Put(B("over"), B("lost-2"));
        alpha.Delete(B("del"));
        alpha.Put(B("new"), B("lost"));
        alpha.Delete(B("new"));

        _disk.Crash();

        using var reopened = _disk.Open(Families);
        var after = reopened.GetColumnFamily("alpha");
        Assert.Equal(B("durable"), after.Get(B("over")));
        Assert.Equal(B("durable"), after.Get(B("del")));
        Assert.Null(after.Get(B("new")));
    }

    [Fact]
    public void A_crash_loses_a_batch_whole_or_not_at_all()
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var disk = new InMemoryDisk();
            var store = disk.Open(Families);
            var alpha = store.GetColumnFamily("alpha");
            var beta = store.GetColumnFamily("beta");
            for (var i = 0; i < 5; i++)
            {
                using var batch = store.CreateWriteBatch();
                batch.Put(alpha, K(i), B("a"));
                batch.Put(beta, K(i), B("b"));
                store.Write(batch);
            }
            disk.Crash(new Random(seed));
            using var reopened = disk.Open(Families);
            for (var i = 0; i < 5; i++)
            {
                var inAlpha = reopened.GetColumnFamily("alpha").Get(K(i)) is not null;
                var inBeta = reopened.GetColumnFamily("beta").Get(K(i)) is not null;
                Assert.Equal(inAlpha, inBeta);
            }
        }
    }

    [Fact]
    public void A_random_crash_keeps_a_prefix_of_the_unsynced_writes_never_one_with_holes()
    {
        var survivorCounts = new HashSet<int>();
        for (var seed = 0; seed < 100; seed++)
        {
            var disk = new InMemoryDisk();
            var store = disk.Open(Families);
            var alpha = store.GetColumnFamily("alpha");
            const int writes = 10;
            for (var i = 0; i < writes; i++)
            {
                alpha.Put(K(i), B("v"));
            }
            var lost = disk.Crash(new Random(seed));
            using var reopened = disk.Open(Families);
            var present = Enumerable.Range(0, writes).Select(i => reopened.GetColumnFamily("alpha").Get(K(i)) is not null).ToArray();
            var survivors = present.TakeWhile(p => p).Count();
            Assert.All(present.Skip(survivors), p => Assert.False(p));
            Assert.Equal(writes - lost, survivors);
            survivorCounts.Add(survivors);
        }
        // The random model explores partial losses, not only all-or-nothing.
        Assert.True(survivorCounts.Count > 5, $"only {survivorCounts.Count} distinct outcomes");
    }

    [Fact]
    public void What_survived_one_crash_is_not_lost_by_the_next()
    {
        var store = _disk.Open(Families);
        store.GetColumnFamily("alpha").Put(B("k"), B("v"));
        Assert.Equal(0, _disk.Crash(new LoseNothing()));
        _disk.Crash();
        using var reopened = _disk.Open(Families);
        Assert.Equal(B("v"), reopened.GetColumnFamily("alpha").Get(B("k")));
    }

    [Fact]
    public void A_clean_close_makes_everything_durable()
    {
        var store = _disk.Open(Families);
        store.GetColumnFamily("alpha").Put(B("k"), B("v"));
        store.Dispose();
        Assert.Equal(0, _disk.UnsyncedWriteCount);
        _disk.Crash();
        using var reopened = _disk.Open(Families);
        Assert.Equal(B("v"), reopened.GetColumnFamily("alpha").Get(B("k")));
    }

    [Fact]
    public void One_disk_holds_one_open_store_at_a_time()
    {
        using var store = _disk.Open(Families);
        Assert.Throws<StorageException>(() => _disk.Open(Families));
    }

    [Fact]
    public void The_undo_log_is_bounded_and_the_oldest_writes_become_durable()
    {
        var disk = new InMemoryDisk(maxUnsyncedOperations: 1000);
        var store = disk.Open(Families);
        var alpha = store.GetColumnFamily("alpha");
        using (var big = store.CreateWriteBatch())
        {
            for (var i = 0; i < disk.MaxUnsyncedOperations; i++)
            {
                big.Put(alpha, BigEndian((ulong)i), []);
            }
            store.Write(big);
        }
        alpha.Put(B("newest"), B("v"));
        Assert.Equal(1, disk.UnsyncedWriteCount);
        disk.Crash();
        using var reopened = disk.Open(Families);
        Assert.NotNull(reopened.GetColumnFamily("alpha").Get(BigEndian(0)));
        Assert.Null(reopened.GetColumnFamily("alpha").Get(B("newest")));
    }

    [Fact]
    public void After_any_crash_the_store_holds_the_state_after_some_write_no_earlier_than_the_last_synced_one()
    {
        var opGen = from key in Gen.Choose(0, 5)
                    from kind in Gen.Choose(0, 3)
                    from synced in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
                    select (Key: K(key), Delete: kind == 0, Value: BigEndian((ulong)kind), Synced: synced);
        var caseGen = from count in Gen.Choose(0, 25)
                      from ops in Gen.ArrayOf(opGen, count)
                      from seed in Gen.Choose(0, int.MaxValue - 1)
                      select (Ops: ops, Seed: seed);
        Prop.ForAll(caseGen.ToArbitrary(), testCase =>
        {
            var disk = new InMemoryDisk();
            var store = disk.Open(Families);
            var alpha = store.GetColumnFamily("alpha");
            var model = new Dictionary<string, string>();
            var states = new List<Dictionary<string, string>> { new(model) };
            var lastSynced = 0;
            foreach (var (key, delete, value, synced) in testCase.Ops)
            {
                var durability = synced ? WriteDurability.Synced : WriteDurability.Buffered;
                if (delete)
                {
                    alpha.Delete(key, durability);
                    model.Remove(Convert.ToHexString(key));
                }
                else
                {
                    alpha.Put(key, value, durability);
                    model[Convert.ToHexString(key)] = Convert.ToHexString(value);
                }
                states.Add(new(model));
                if (synced)
                {
                    lastSynced = states.Count - 1;
                }
            }

            disk.Crash(new Random(testCase.Seed));

            using var reopened = disk.Open(Families);
            var after = reopened.GetColumnFamily("alpha").ReadPrefix([], int.MaxValue)
                .ToDictionary(e => Convert.ToHexString(e.Key), e => Convert.ToHexString(e.Value));
            var matches = states.Skip(lastSynced).Any(state => state.Count == after.Count && !state.Except(after).Any());
            Assert.True(matches, $"state after crash matches no write at or after the last synced one ({lastSynced} of {states.Count - 1})");
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>A random source that always picks "lose no batch": the crash keeps every unsynced write.</summary>
    private sealed class LoseNothing : Random
    {
        public override int Next(int maxValue) => 0;
    }
}
