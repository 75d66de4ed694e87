using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Storage;

namespace Keel.Core.Tests.Storage;

/// <summary>
/// What every <see cref="IKeyValueStore"/> must do. Each implementation's test class derives from
/// this one (the in-memory store here, RocksDB in Keel.Node.Tests, which compiles this file in),
/// so both are held to the same behaviour the simulator and the node rely on.
/// </summary>
public abstract class KeyValueStoreContractTests : IDisposable
{
    protected static readonly string[] Families = ["alpha", "beta"];

    private readonly List<IKeyValueStore> _opened = [];

    /// <summary>Opens the test's store location (the same one on every call), creating it the first time.</summary>
    protected abstract IKeyValueStore OpenStore(params string[] columnFamilies);

    /// <summary>A store at a location of its own, for tests that need two stores at once.</summary>
    protected abstract IKeyValueStore OpenOtherStore(params string[] columnFamilies);

    protected IKeyValueStore Open(params string[] columnFamilies)
    {
        var store = OpenStore(columnFamilies.Length == 0 ? Families : columnFamilies);
        _opened.Add(store);
        return store;
    }

    protected IKeyValueStore OpenOther(params string[] columnFamilies)
    {
        var store = OpenOtherStore(columnFamilies.Length == 0 ? Families : columnFamilies);
        _opened.Add(store);
        return store;
    }

    public virtual void Dispose()
    {
        foreach (var store in _opened)
        {
            store.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    protected static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    protected static byte[] BigEndian(ulong value)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    private static List<byte[]> Keys(IKeyValueCursor cursor)
    {
        using (cursor)
        {
            var keys = new List<byte[]>();
            while (cursor.MoveNext())
            {
                keys.Add(cursor.Key.ToArray());
            }
            return keys;
        }
    }

    [Fact]
    public void Put_then_get_returns_the_value_and_absent_keys_return_null()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        alpha.Put(B("k1"), B("v1"));
        Assert.Equal(B("v1"), alpha.Get(B("k1")));
        Assert.Null(alpha.Get(B("k2")));
    }

    [Fact]
    public void Put_overwrites_and_delete_removes()
    {
        var alpha = Open().GetColumnFamily("alpha");
        alpha.Put(B("k"), B("one"));
        alpha.Put(B("k"), B("two"), WriteDurability.Synced);
        Assert.Equal(B("two"), alpha.Get(B("k")));
        alpha.Delete(B("k"));
        Assert.Null(alpha.Get(B("k")));
        alpha.Delete(B("never-written"), WriteDurability.Synced);
    }

    [Fact]
    public void Empty_values_are_values()
    {
        var alpha = Open().GetColumnFamily("alpha");
        alpha.Put(B("k"), ReadOnlySpan<byte>.Empty);
        Assert.Equal(Array.Empty<byte>(), alpha.Get(B("k")));
    }

    [Fact]
    public void Get_returns_a_copy_the_caller_may_change()
    {
        var alpha = Open().GetColumnFamily("alpha");
        var value = B("value");
        alpha.Put(B("k"), value);
        value[0] = (byte)'X';
        var read = alpha.Get(B("k"))!;
        read[1] = (byte)'Y';
        Assert.Equal(B("value"), alpha.Get(B("k")));
    }

    [Fact]
    public void TryGet_appends_the_value_to_the_writer()
    {
        var alpha = Open().GetColumnFamily("alpha");
        alpha.Put(B("k"), B("payload"));
        var writer = new ArrayBufferWriter<byte>();
        writer.Write(B(">"));
        Assert.True(alpha.TryGet(B("k"), writer));
        Assert.Equal(B(">payload"), writer.WrittenSpan.ToArray());
        Assert.False(alpha.TryGet(B("absent"), writer));
        Assert.Equal(8, writer.WrittenCount);
    }

    [Fact]
    public void Column_families_are_isolated_key_spaces()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        var beta = store.GetColumnFamily("beta");
        alpha.Put(B("shared"), B("a"));
        beta.Put(B("shared"), B("b"));
        alpha.Put(B("only-alpha"), B("a"));
        Assert.Equal(B("a"), alpha.Get(B("shared")));
        Assert.Equal(B("b"), beta.Get(B("shared")));
        Assert.Null(beta.Get(B("only-alpha")));
        Assert.Null(store.GetColumnFamily(ColumnFamilyNames.Default).Get(B("shared")));
        beta.Delete(B("shared"));
        Assert.Equal(B("a"), alpha.Get(B("shared")));
        Assert.Equal([B("only-alpha"), B("shared")], Keys(alpha.IteratePrefix([])));
    }

    [Fact]
    public void Declared_families_and_the_default_family_are_open()
    {
        var store = Open("x", "y", "x");
        Assert.Equal(ColumnFamilyNames.Default, store.ColumnFamilies[0]);
        Assert.Contains("x", store.ColumnFamilies);
        Assert.Contains("y", store.ColumnFamilies);
        Assert.Equal(3, store.ColumnFamilies.Count);
        Assert.Equal("y", store.GetColumnFamily("y").Name);
    }

    [Fact]
    public void An_unknown_column_family_is_a_typed_error_that_names_it()
    {
        var store = Open();
        var error = Assert.Throws<UnknownColumnFamilyException>(() => store.GetColumnFamily("gamma"));
        Assert.Equal("gamma", error.Name);
        Assert.Contains("gamma", error.Message);
        Assert.Contains("alpha", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/name")]
    public void Bad_column_family_names_are_rejected_at_open(string name)
    {
        Assert.Throws<InvalidStorageArgumentException>(() => Open("alpha", name));
    }

    [Fact]
    public void Empty_and_oversized_keys_are_rejected_everywhere()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        var huge = new byte[StorageLimits.MaxKeyBytes + 1];
        Assert.Throws<InvalidStorageArgumentException>(() => alpha.Put([], B("v")));
        Assert.Throws<InvalidStorageArgumentException>(() => alpha.Put(huge, B("v")));
        Assert.Throws<InvalidStorageArgumentException>(() => alpha.Get([]));
        Assert.Throws<InvalidStorageArgumentException>(() => alpha.Delete([]));
        Assert.Throws<InvalidStorageArgumentException>(() => alpha.IteratePrefix(huge));
        using var batch = store.CreateWriteBatch();
        Assert.Throws<InvalidStorageArgumentException>(() => batch.Put(alpha, [], B("v")));
        Assert.Throws<InvalidStorageArgumentException>(() => batch.Delete(alpha, huge));
        Assert.Equal(0, batch.Count);
        // The largest allowed key works.
        alpha.Put(new byte[StorageLimits.MaxKeyBytes], B("max"));
        Assert.Equal(B("max"), alpha.Get(new byte[StorageLimits.MaxKeyBytes]));
    }

    [Fact]
    public void An_undefined_durability_is_rejected_before_anything_is_written()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        Assert.Throws<InvalidStorageArgumentException>(() => alpha.Put(B("k"), B("v"), (WriteDurability)7));
        Assert.Throws<InvalidStorageArgumentException>(() => alpha.Delete(B("k"), (WriteDurability)(-1)));
        using var batch = store.CreateWriteBatch();
        batch.Put(alpha, B("k"), B("v"));
        Assert.Throws<InvalidStorageArgumentException>(() => store.Write(batch, (WriteDurability)2));
        Assert.Null(alpha.Get(B("k")));
    }

    [Fact]
    public void Prefix_iteration_is_in_unsigned_byte_order_and_stays_inside_the_prefix()
    {
        var alpha = Open().GetColumnFamily("alpha");
        byte[][] inside =
        [
            [0x10], [0x10, 0x00], [0x10, 0x00, 0x00], [0x10, 0x01], [0x10, 0x7F], [0x10, 0x80], [0x10, 0xFF], [0x10, 0xFF, 0xFF],
        ];
        byte[][] outside = [[0x0F], [0x0F, 0xFF], [0x11], [0x11, 0x00], [0xFF]];
        // Written in a scrambled order: the store, not the caller, sorts.
        foreach (var key in inside.Concat(outside).OrderBy(k => Convert.ToHexString(k).GetHashCode(StringComparison.Ordinal)))
        {
            alpha.Put(key, key);
        }
        Assert.Equal(inside, Keys(alpha.IteratePrefix([0x10])));
        Assert.Equal([[0x10, 0xFF], [0x10, 0xFF, 0xFF]], Keys(alpha.IteratePrefix([0x10, 0xFF])));
        Assert.Equal([[0xFF]], Keys(alpha.IteratePrefix([0xFF])));
        Assert.Empty(Keys(alpha.IteratePrefix([0x12])));
        Assert.Equal(inside.Length + outside.Length, Keys(alpha.IteratePrefix([])).Count);
    }

    [Fact]
    public void Cursor_exposes_values_beside_keys()
    {
        var alpha = Open().GetColumnFamily("alpha");
        alpha.Put(B("p/1"), B("one"));
        alpha.Put(B("p/2"), B("two"));
        var entries = alpha.ReadPrefix(B("p/"), maxEntries: 10);
        Assert.Equal([B("one"), B("two")], entries.Select(e => e.Value));
        Assert.Single(alpha.ReadPrefix(B("p/"), maxEntries: 1));
    }

    [Fact]
    public void Big_endian_heights_iterate_in_numeric_order_across_many_entries()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        const int count = 1000;
        using (var batch = store.CreateWriteBatch())
        {
            for (var i = count - 1; i >= 0; i--)
            {
                batch.Put(alpha, BigEndian((ulong)i * 300), BigEndian((ulong)i));
            }
            store.Write(batch);
        }
        var expected = 0UL;
        using var cursor = alpha.IteratePrefix([]);
        while (cursor.MoveNext())
        {
            Assert.Equal(BigEndian(expected * 300), cursor.Key.ToArray());
            Assert.Equal(BigEndian(expected), cursor.Value.ToArray());
            expected++;
        }
        Assert.Equal((ulong)count, expected);
    }

    [Fact]
    public void Range_iteration_is_half_open_and_empty_bounds_are_unbounded()
    {
        var alpha = Open().GetColumnFamily("alpha");
        for (ulong i = 1; i <= 5; i++)
        {
            alpha.Put(BigEndian(i), B("v"));
        }
        Assert.Equal([BigEndian(2), BigEndian(3)], Keys(alpha.IterateRange(BigEndian(2), BigEndian(4))));
        Assert.Equal([BigEndian(1), BigEndian(2)], Keys(alpha.IterateRange([], BigEndian(3))));
        Assert.Equal([BigEndian(4), BigEndian(5)], Keys(alpha.IterateRange(BigEndian(4), [])));
        Assert.Equal(5, Keys(alpha.IterateRange([], [])).Count);
        Assert.Empty(Keys(alpha.IterateRange(BigEndian(3), BigEndian(3))));
        Assert.Empty(Keys(alpha.IterateRange(BigEndian(4), BigEndian(2))));
        Assert.Empty(Keys(alpha.IterateRange(BigEndian(6), [])));
    }

    [Fact]
    public void A_cursor_not_on_an_entry_refuses_to_read()
    {
        var alpha = Open().GetColumnFamily("alpha");
        alpha.Put(B("k"), B("v"));
        using var cursor = alpha.IteratePrefix([]);
        Assert.Throws<InvalidOperationException>(() => cursor.Key.Length);
        Assert.True(cursor.MoveNext());
        Assert.Equal(B("k"), cursor.Key.ToArray());
        Assert.False(cursor.MoveNext());
        Assert.False(cursor.MoveNext());
        Assert.Throws<InvalidOperationException>(() => cursor.Value.Length);
    }

    [Fact]
    public void A_batch_is_invisible_until_written_then_applies_across_families_in_order()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        var beta = store.GetColumnFamily("beta");
        alpha.Put(B("old"), B("x"));
        using var batch = store.CreateWriteBatch();
        batch.Put(alpha, B("a1"), B("1"));
        batch.Put(beta, B("b1"), B("2"));
        batch.Delete(alpha, B("old"));
        batch.Put(alpha, B("twice"), B("first"));
        batch.Put(alpha, B("twice"), B("second"));
        batch.Put(beta, B("gone"), B("x"));
        batch.Delete(beta, B("gone"));
        Assert.Equal(7, batch.Count);
        Assert.Null(alpha.Get(B("a1")));
        Assert.Equal(B("x"), alpha.Get(B("old")));

        store.Write(batch, WriteDurability.Synced);

        Assert.Equal(B("1"), alpha.Get(B("a1")));
        Assert.Equal(B("2"), beta.Get(B("b1")));
        Assert.Null(alpha.Get(B("old")));
        Assert.Equal(B("second"), alpha.Get(B("twice")));
        Assert.Null(beta.Get(B("gone")));

        batch.Clear();
        Assert.Equal(0, batch.Count);
        batch.Put(alpha, B("reused"), B("r"));
        store.Write(batch);
        Assert.Equal(B("r"), alpha.Get(B("reused")));
    }

    [Fact]
    public void Batches_and_families_of_another_store_are_rejected()
    {
        var store = Open();
        var other = OpenOther();
        using var foreignBatch = other.CreateWriteBatch();
        Assert.Throws<InvalidStorageArgumentException>(() => store.Write(foreignBatch));
        using var batch = store.CreateWriteBatch();
        Assert.Throws<InvalidStorageArgumentException>(() => batch.Put(other.GetColumnFamily("alpha"), B("k"), B("v")));
    }

    [Fact]
    public void Writes_survive_a_clean_close_and_reopen()
    {
        var store = Open();
        store.GetColumnFamily("alpha").Put(B("buffered"), B("1"));
        store.GetColumnFamily("beta").Put(B("synced"), B("2"), WriteDurability.Synced);
        using (var batch = store.CreateWriteBatch())
        {
            batch.Put(store.GetColumnFamily("alpha"), B("batched"), B("3"));
            store.Write(batch);
        }
        store.Dispose();

        var reopened = Open();
        Assert.Equal(B("1"), reopened.GetColumnFamily("alpha").Get(B("buffered")));
        Assert.Equal(B("2"), reopened.GetColumnFamily("beta").Get(B("synced")));
        Assert.Equal(B("3"), reopened.GetColumnFamily("alpha").Get(B("batched")));
    }

    [Fact]
    public void Families_already_in_the_store_stay_open_when_not_declared_again()
    {
        var store = Open("alpha", "beta");
        store.GetColumnFamily("beta").Put(B("k"), B("v"));
        store.Dispose();

        var reopened = Open("alpha");
        Assert.Contains("beta", reopened.ColumnFamilies);
        Assert.Equal(B("v"), reopened.GetColumnFamily("beta").Get(B("k")));
    }

    [Fact]
    public void A_closed_store_refuses_every_call_with_a_typed_error()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        store.Dispose();
        store.Dispose();
        Assert.Throws<StoreClosedException>(() => alpha.Put(B("k"), B("v")));
        Assert.Throws<StoreClosedException>(() => alpha.Get(B("k")));
        Assert.Throws<StoreClosedException>(() => alpha.IteratePrefix([]).MoveNext());
        Assert.Throws<StoreClosedException>(() => store.GetColumnFamily("alpha"));
    }

    [Fact]
    public void Concurrent_writers_and_readers_lose_nothing()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        const int threads = 4;
        const int perThread = 500;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < perThread; i++)
            {
                var key = BigEndian((ulong)(t * perThread + i));
                if (i % 50 == 0)
                {
                    using var batch = store.CreateWriteBatch();
                    batch.Put(alpha, key, key);
                    store.Write(batch);
                }
                else
                {
                    alpha.Put(key, key);
                }
                Assert.Equal(key, alpha.Get(key));
                if (i % 100 == 0)
                {
                    // Iterating while others write must neither fail nor go out of order.
                    var seen = Keys(alpha.IteratePrefix([]));
                    for (var j = 1; j < seen.Count; j++)
                    {
                        Assert.True(KeyOrder.Compare(seen[j - 1], seen[j]) < 0);
                    }
                }
            }
        });
        Assert.Equal(threads * perThread, Keys(alpha.IteratePrefix([])).Count);
    }

    [Fact]
    public async Task Disposing_while_other_threads_read_write_and_iterate_fails_them_cleanly()
    {
        var store = Open();
        var alpha = store.GetColumnFamily("alpha");
        for (ulong i = 0; i < 100; i++)
        {
            alpha.Put(BigEndian(i), BigEndian(i));
        }
        using var started = new CountdownEvent(4);
        var workers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var operations = 0L;
            try
            {
                for (ulong i = 0; ; i++)
                {
                    var key = BigEndian(i % 100);
                    switch ((t + (int)i) % 4)
                    {
                        case 0: alpha.Get(key); break;
                        case 1: alpha.Put(key, key); break;
                        case 2:
                            using (var cursor = alpha.IteratePrefix([]))
                            {
                                while (cursor.MoveNext())
                                {
                                    _ = cursor.Value.Length;
                                }
                            }
                            break;
                        default:
                            using (var batch = store.CreateWriteBatch())
                            {
                                batch.Put(alpha, key, key);
                                store.Write(batch);
                            }
                            break;
                    }
                    if (operations++ == 0)
                    {
                        // Dispose only once every worker is really inside the store.
                        started.Signal();
                    }
                }
            }
            catch (StoreClosedException)
            {
                return operations;
            }
        })).ToArray();
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "workers did not start");
        await Task.Delay(20);
        store.Dispose();
        var counts = await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(counts, count => Assert.True(count > 0));
        // Every handle let go of the database: it opens again, intact.
        var reopened = Open();
        Assert.Equal(100, reopened.GetColumnFamily("alpha").ReadPrefix([], 1000).Count);
    }

    [Fact]
    public void Random_operations_match_a_sorted_model()
    {
        // Keys from a small alphabet so that overwrites, deletes and shared prefixes are common.
        var keyGen = from length in Gen.Choose(1, 4)
                     from key in Gen.ArrayOf(Gen.Elements<byte>(0x00, 0x01, 0x7F, 0x80, 0xFF), length)
                     select key;
        var opGen = from key in keyGen
                    from kind in Gen.Choose(0, 3)
                    from length in Gen.Choose(0, 4)
                    from value in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), length)
                    select (Key: key, Delete: kind == 0, Value: value);
        var prefixGen = from length in Gen.Choose(0, 2)
                        from prefix in Gen.ArrayOf(Gen.Elements<byte>(0x00, 0x7F, 0x80, 0xFF), length)
                        select prefix;
        var opsGen = from count in Gen.Choose(0, 40)
                     from ops in Gen.ArrayOf(opGen, count)
                     select ops;
        var store = Open();
        var round = 0;
        Prop.ForAll(
            opsGen.ToArbitrary(),
            prefixGen.ToArbitrary(),
            (ops, prefix) =>
            {
                // A fresh family per case would need a reopen; distinct key spaces do the job.
                var space = BigEndian((ulong)round++);
                var family = store.GetColumnFamily(round % 2 == 0 ? "alpha" : "beta");
                var model = new SortedDictionary<byte[], byte[]>(Comparer<byte[]>.Create((a, b) => KeyOrder.Compare(a, b)));
                foreach (var (key, delete, value) in ops)
                {
                    var full = space.Concat(key).ToArray();
                    if (delete)
                    {
                        family.Delete(full);
                        model.Remove(full);
                    }
                    else
                    {
                        family.Put(full, value);
                        model[full] = value;
                    }
                }
                var fullPrefix = space.Concat(prefix).ToArray();
                var expected = model.Where(e => e.Key.AsSpan().StartsWith(fullPrefix)).ToList();
                var actual = family.ReadPrefix(fullPrefix, int.MaxValue);
                Assert.Equal(expected.Select(e => e.Key), actual.Select(e => e.Key));
                Assert.Equal(expected.Select(e => e.Value), actual.Select(e => e.Value));
            }).QuickCheckThrowOnFailure();
    }
}
