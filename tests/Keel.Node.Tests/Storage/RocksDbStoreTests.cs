using System.Text;
using Keel.Core.Storage;
using Keel.Core.Tests.Storage;
using Keel.Node.Metrics;
using Keel.Node.Storage;

namespace Keel.Node.Tests.Storage;

/// <summary>The shared contract against real RocksDB, plus what only a real engine can show.</summary>
public sealed class RocksDbStoreTests : KeyValueStoreContractTests
{
    private readonly TempDirectory _temp = new();

    protected override IKeyValueStore OpenStore(params string[] columnFamilies) =>
        RocksDbStore.Open(_temp.Sub("db"), new RocksDbStoreOptions { ColumnFamilies = columnFamilies });

    protected override IKeyValueStore OpenOtherStore(params string[] columnFamilies) =>
        RocksDbStore.Open(_temp.Sub("other-" + Guid.NewGuid().ToString("N")), new RocksDbStoreOptions { ColumnFamilies = columnFamilies });

    public override void Dispose()
    {
        base.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public void A_missing_library_is_a_typed_error_naming_the_debian_package()
    {
        var error = RocksDbNative.ProbeLibrary("librocksdb.so.0.0-not-installed");
        Assert.NotNull(error);
        Assert.IsAssignableFrom<StorageException>(error);
        Assert.Equal("librocksdb7.8", error.DebianPackage);
        Assert.Contains("librocksdb7.8", error.Message);
        Assert.Null(RocksDbNative.ProbeLibrary(RocksDbNative.LibraryFileName));
    }

    [Fact]
    public void A_second_open_of_the_same_directory_reports_the_lock_as_a_typed_error()
    {
        using var first = RocksDbStore.Open(_temp.Sub("locked"));
        var error = Assert.Throws<RocksDbException>(() => RocksDbStore.Open(_temp.Sub("locked")));
        Assert.Contains("lock", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("another keel process using this data directory", error.Message);
        Assert.Equal(error.Message, ((StorageException)error).Message);
    }

    [Fact]
    public void Opening_without_create_refuses_a_path_with_no_database()
    {
        var path = _temp.Sub("absent");
        var error = Assert.Throws<StorageException>(() => RocksDbStore.Open(path, new RocksDbStoreOptions { CreateIfMissing = false }));
        Assert.Contains(path, error.Message);
        Assert.False(Directory.Exists(path));
    }

    [Fact]
    public void The_node_families_are_created_by_default_and_reported_by_properties()
    {
        using var store = RocksDbStore.Open(_temp.Sub("node"));
        Assert.Equal(ColumnFamilyNames.All, store.ColumnFamilies);
        var blocks = store.GetColumnFamily(ColumnFamilyNames.Blocks);
        for (var i = 0; i < 100; i++)
        {
            blocks.Put(BigEndian((ulong)i), Encoding.ASCII.GetBytes("block"));
        }
        Assert.Equal(100UL, store.GetIntProperty(ColumnFamilyNames.Blocks, "rocksdb.estimate-num-keys"));
        Assert.Null(store.GetIntProperty(ColumnFamilyNames.Blocks, "rocksdb.no-such-property"));
    }

    [Fact]
    public void Disposing_while_a_cursor_is_open_keeps_the_cursor_safe_until_it_is_disposed()
    {
        var store = RocksDbStore.Open(_temp.Sub("cursor"), new RocksDbStoreOptions { ColumnFamilies = Families });
        var alpha = store.GetColumnFamily("alpha");
        alpha.Put(B("a"), B("1"));
        alpha.Put(B("b"), B("2"));
        var cursor = alpha.IteratePrefix([]);
        Assert.True(cursor.MoveNext());
        // The database stays open underneath (the iterator holds it) until the cursor goes.
        store.Dispose();
        Assert.True(cursor.MoveNext());
        Assert.Equal(B("2"), cursor.Value.ToArray());
        cursor.Dispose();
        Assert.Throws<StoreClosedException>(() => alpha.Get(B("a")));
        // And the directory is free again: the close really happened.
        using var reopened = RocksDbStore.Open(_temp.Sub("cursor"), new RocksDbStoreOptions { ColumnFamilies = Families });
        Assert.Equal(B("1"), reopened.GetColumnFamily("alpha").Get(B("a")));
    }

    [Fact]
    public void Large_values_round_trip_with_compression()
    {
        using var store = RocksDbStore.Open(_temp.Sub("large"), new RocksDbStoreOptions { ColumnFamilies = Families });
        var alpha = store.GetColumnFamily("alpha");
        var value = new byte[4 * 1024 * 1024];
        new Random(7).NextBytes(value.AsSpan(0, value.Length / 2));
        alpha.Put(B("big"), value, WriteDurability.Synced);
        Assert.Equal(value, alpha.Get(B("big")));
    }

    [Fact]
    public void Store_metrics_export_estimates_per_column_family()
    {
        using var store = RocksDbStore.Open(_temp.Sub("metrics"));
        store.GetColumnFamily(ColumnFamilyNames.Receipts).Put(B("r1"), B("receipt"));
        using var exporter = new PrometheusExporter(new PrometheusExporterOptions { MeterFilter = m => m.Name == RocksDbStoreMetrics.MeterName });
        using var metrics = new RocksDbStoreMetrics(store);

        var text = exporter.Collect();
        Assert.Contains("# TYPE keel_storage_keys gauge\n", text);
        Assert.Contains("keel_storage_keys{cf=\"receipts\"} 1\n", text);
        Assert.Contains("keel_storage_memtable_size_bytes{cf=\"safety\"}", text);
        Assert.Contains("keel_storage_sst_size_bytes{cf=\"blocks\"} 0\n", text);
    }
}
