using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using Keel.Core.Storage;
using Keel.Node.Cli;
using Keel.Node.Storage;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench storage`: batched puts, random gets, a full scan and synced single puts, on RocksDB
/// and on the in-memory store, in one run so the two can be compared on the same machine.
/// </summary>
internal static class StorageBench
{
    /// <summary>Bounds the run so that a typo cannot exhaust memory (the in-memory store holds everything).</summary>
    public const int MaxEntries = 20_000_000;

    /// <summary>fsyncs take milliseconds: a few hundred are enough for a rate.</summary>
    public const int MaxSyncedWrites = 100_000;

    /// <summary>Multiplying by an odd constant permutes 64-bit integers: unique keys in scattered order, as hashes would be.</summary>
    private const ulong KeyScatter = 0x9E3779B97F4A7C15;

    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "entries to write and read", DefaultValueFactory = _ => 1_000_000 };
        var batch = new Option<int>("--batch") { Description = "entries per write batch", DefaultValueFactory = _ => 10_000 };
        var valueBytes = new Option<int>("--value-bytes") { Description = "bytes per value", DefaultValueFactory = _ => 100 };
        var synced = new Option<int>("--synced-writes") { Description = "single puts with fsync to time", DefaultValueFactory = _ => 200 };
        var stores = new Option<string>("--stores") { Description = "rocksdb, memory or both", DefaultValueFactory = _ => "both" };
        var dir = new Option<string?>("--dir") { Description = "where to put the RocksDB database (default: a temporary folder, removed after)" };
        var command = new Command("storage", "Key-value store: batched puts, random gets, scan, synced puts (RocksDB and in-memory).");
        command.Options.Add(count);
        command.Options.Add(batch);
        command.Options.Add(valueBytes);
        command.Options.Add(synced);
        command.Options.Add(stores);
        command.Options.Add(dir);
        command.SetAction(parse =>
        {
            var n = parse.GetValue(count);
            var perBatch = parse.GetValue(batch);
            var size = parse.GetValue(valueBytes);
            var syncs = parse.GetValue(synced);
            var which = parse.GetValue(stores)!;
            if (n is < 1 or > MaxEntries || perBatch < 1 || perBatch > StorageLimits.MaxBatchOperations || size is < 0 or > 1 << 20
                || syncs is < 0 or > MaxSyncedWrites || which is not ("rocksdb" or "memory" or "both"))
            {
                Console.Error.WriteLine($"keel bench storage: need 1 <= --count <= {MaxEntries}, 1 <= --batch <= {StorageLimits.MaxBatchOperations}, " +
                    $"0 <= --value-bytes <= 1048576, 0 <= --synced-writes <= {MaxSyncedWrites}, --stores rocksdb|memory|both");
                return 2;
            }
            var report = new BenchReport("storage");
            var table = report.AddTable($"{n:N0} entries, {size}-byte values, 8-byte scattered keys, batches of {perBatch:N0}",
                "store", "operation", "ops", "seconds", "ops/s", "cpu seconds");
            if (which is "rocksdb" or "both")
            {
                var root = parse.GetValue(dir) ?? Path.Combine(Path.GetTempPath(), "keel-bench-storage-" + Guid.NewGuid().ToString("N"));
                try
                {
                    using var store = RocksDbStore.Open(root);
                    Run(store, "rocksdb", table, n, perBatch, size, syncs);
                }
                catch (StorageException error)
                {
                    Console.Error.WriteLine($"keel bench storage: {error.Message}");
                    return 2;
                }
                finally
                {
                    if (parse.GetValue(dir) is null)
                    {
                        Directory.Delete(root, recursive: true);
                    }
                }
            }
            if (which is "memory" or "both")
            {
                using var store = InMemoryKeyValueStore.Create(ColumnFamilyNames.All);
                Run(store, "in-memory", table, n, perBatch, size, syncs);
            }
            report.Notes.Add("one run on a shared machine: compare rows of this run with each other, not with other machines");
            report.Notes.Add("synced puts fsync the write-ahead log each time (in-memory: no fsync, only the crash model's bookkeeping)");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    private static void Run(IKeyValueStore store, string name, BenchTable table, int count, int perBatch, int valueBytes, int syncedWrites)
    {
        var family = store.GetColumnFamily(ColumnFamilyNames.State);
        var value = new byte[valueBytes];
        new Random(42).NextBytes(value);
        Span<byte> key = stackalloc byte[sizeof(ulong)];

        var clock = new Phase();
        using (var batch = store.CreateWriteBatch())
        {
            for (var first = 0; first < count; first += perBatch)
            {
                batch.Clear();
                var end = Math.Min(count, first + perBatch);
                for (var i = first; i < end; i++)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(key, (ulong)i * KeyScatter);
                    batch.Put(family, key, value);
                }
                store.Write(batch);
            }
        }
        Row(table, name, "batched put", count, clock);

        var random = new Random(7);
        var found = 0;
        clock.Restart();
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(key, (ulong)random.Next(count) * KeyScatter);
            if (family.Get(key) is not null)
            {
                found++;
            }
        }
        Row(table, name, "random get", count, clock);
        if (found != count)
        {
            throw new StorageException($"{name}: {count - found} of {count} written keys not found");
        }

        clock.Restart();
        var scanned = 0;
        using (var cursor = family.IteratePrefix([]))
        {
            while (cursor.MoveNext())
            {
                scanned += cursor.Value.Length > 0 || valueBytes == 0 ? 1 : 0;
            }
        }
        Row(table, name, "full scan", scanned, clock);

        if (syncedWrites > 0)
        {
            var safety = store.GetColumnFamily(ColumnFamilyNames.Safety);
            clock.Restart();
            for (var i = 0; i < syncedWrites; i++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(key, (ulong)i);
                safety.Put(key, value.AsSpan(0, Math.Min(valueBytes, 64)), WriteDurability.Synced);
            }
            Row(table, name, "synced put", syncedWrites, clock);
        }
    }

    /// <summary>
    /// Adds a row and restarts the clocks. CPU time (all threads, RocksDB's background ones too)
    /// is reported beside wall time because on a shared machine the wall clock mostly measures the
    /// neighbours.
    /// </summary>
    private static void Row(BenchTable table, string store, string operation, int ops, Phase phase)
    {
        var (wall, cpu) = phase.Stop();
        table.AddRow(store, operation, ops, wall, ops / Math.Max(wall, 1e-9), cpu);
    }

    private sealed class Phase
    {
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private TimeSpan _cpuStart = Process.GetCurrentProcess().TotalProcessorTime;

        public (double Wall, double Cpu) Stop()
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var result = (_wall.Elapsed.TotalSeconds, (cpu - _cpuStart).TotalSeconds);
            _cpuStart = cpu;
            _wall.Restart();
            return result;
        }

        public void Restart()
        {
            _cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            _wall.Restart();
        }
    }
}
