using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Keel.Core.Storage;
using Keel.Node.Storage;

namespace Keel.Node.Cli;

/// <summary>
/// `keel db ...`: operator tools over a node's RocksDB database (inspect, repair by hand, load
/// test). Keys and values are given as 0x-prefixed hex or as UTF-8 text, and printed as hex.
/// Exit codes: 0 done, 1 key not found, 2 error (message on stderr). The node must be stopped:
/// RocksDB lets one process at a time open a database.
/// </summary>
internal static class DbCommands
{
    /// <summary>Bounds `fill` so that a typo cannot fill a disk.</summary>
    public const long MaxFillCount = 100_000_000;

    /// <summary>Entries per batch in `fill`; RocksDB batches beyond ~10k entries get slower, not faster.</summary>
    public const int MaxFillBatch = 100_000;

    /// <summary>`scan` prints at most this many entries unless told otherwise.</summary>
    public const int DefaultScanLimit = 100;

    /// <summary>Keys written by `fill` start with this, so they never collide with a node's own records.</summary>
    public static readonly byte[] FillKeyPrefix = "keel-fill/"u8.ToArray();

    /// <summary>Output buffer of `fill --print-acks`.</summary>
    private const int AckBufferBytes = 64 * 1024;

    private const int ExitNotFound = 1;
    private const int ExitError = 2;

    private static readonly Option<string> DataDir = new("--data-dir")
    {
        Description = $"the node's data directory (the database is its '{NodeDatabase.DirectoryName}' folder)",
        Required = true,
        Recursive = true,
    };

    private static readonly Option<string> Family = new("--cf")
    {
        Description = $"column family ({string.Join(", ", ColumnFamilyNames.All)})",
        DefaultValueFactory = _ => ColumnFamilyNames.Default,
    };

    private static readonly Option<string> Key = new("--key") { Description = "key: 0x-hex or UTF-8 text", Required = true };
    private static readonly Option<bool> Sync = new("--sync") { Description = "fsync the write-ahead log before acknowledging" };

    public static Command Create()
    {
        var db = new Command("db", "Inspect and edit a node's database (stop the node first).");
        db.Options.Add(DataDir);
        db.Subcommands.Add(Stats());
        db.Subcommands.Add(Get());
        db.Subcommands.Add(Put());
        db.Subcommands.Add(Delete());
        db.Subcommands.Add(Scan());
        db.Subcommands.Add(Fill());
        return db;
    }

    private static Command Stats()
    {
        var command = new Command("stats", "Column families with estimated keys, SST bytes and memtable bytes.");
        command.SetAction(parse => Run(() =>
        {
            using var store = NodeDatabase.OpenExisting(parse.GetValue(DataDir)!);
            Console.WriteLine($"database: {store.Path}");
            Console.WriteLine($"{"column family",-16} {"keys (est.)",14} {"sst bytes",14} {"memtable bytes",16}");
            foreach (var name in store.ColumnFamilies)
            {
                Console.WriteLine($"{name,-16} {store.GetIntProperty(name, "rocksdb.estimate-num-keys"),14} " +
                    $"{store.GetIntProperty(name, "rocksdb.total-sst-files-size"),14} {store.GetIntProperty(name, "rocksdb.cur-size-all-mem-tables"),16}");
            }
            return 0;
        }));
        return command;
    }

    private static Command Get()
    {
        var command = new Command("get", "Print the value of a key as hex (exit 1 when absent).");
        command.Options.Add(Family);
        command.Options.Add(Key);
        command.SetAction(parse => Run(() =>
        {
            using var store = NodeDatabase.OpenExisting(parse.GetValue(DataDir)!);
            var value = store.GetColumnFamily(parse.GetValue(Family)!).Get(ParseBytes(parse.GetValue(Key)!, "--key"));
            if (value is null)
            {
                Console.Error.WriteLine("not found");
                return ExitNotFound;
            }
            Console.WriteLine(Hex(value));
            return 0;
        }));
        return command;
    }

    private static Command Put()
    {
        var value = new Option<string>("--value") { Description = "value: 0x-hex or UTF-8 text", Required = true };
        var command = new Command("put", "Write one key (creates the database and the node's families when missing).");
        command.Options.Add(Family);
        command.Options.Add(Key);
        command.Options.Add(value);
        command.Options.Add(Sync);
        command.SetAction(parse => Run(() =>
        {
            using var store = NodeDatabase.Open(parse.GetValue(DataDir)!);
            store.GetColumnFamily(parse.GetValue(Family)!).Put(
                ParseBytes(parse.GetValue(Key)!, "--key"), ParseBytes(parse.GetValue(value)!, "--value"), Durability(parse));
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var command = new Command("delete", "Delete one key (absent keys are not an error).");
        command.Options.Add(Family);
        command.Options.Add(Key);
        command.Options.Add(Sync);
        command.SetAction(parse => Run(() =>
        {
            using var store = NodeDatabase.OpenExisting(parse.GetValue(DataDir)!);
            store.GetColumnFamily(parse.GetValue(Family)!).Delete(ParseBytes(parse.GetValue(Key)!, "--key"), Durability(parse));
            return 0;
        }));
        return command;
    }

    private static Command Scan()
    {
        var prefix = new Option<string?>("--prefix") { Description = "only keys starting with this (0x-hex or UTF-8)" };
        var limit = new Option<int>("--limit") { Description = "most entries to print", DefaultValueFactory = _ => DefaultScanLimit };
        var command = new Command("scan", "Print entries in key order as 'key value' hex pairs.");
        command.Options.Add(Family);
        command.Options.Add(prefix);
        command.Options.Add(limit);
        command.SetAction(parse => Run(() =>
        {
            using var store = NodeDatabase.OpenExisting(parse.GetValue(DataDir)!);
            var text = parse.GetValue(prefix);
            var max = parse.GetValue(limit);
            using var cursor = store.GetColumnFamily(parse.GetValue(Family)!).IteratePrefix(text is null ? [] : ParseBytes(text, "--prefix"));
            var printed = 0;
            while (printed < max && cursor.MoveNext())
            {
                Console.WriteLine($"{Hex(cursor.Key)} {Hex(cursor.Value)}");
                printed++;
            }
            return 0;
        }));
        return command;
    }

    private static Command Fill()
    {
        var count = new Option<long>("--count") { Description = $"entries to write (at most {MaxFillCount})", Required = true };
        var valueBytes = new Option<int>("--value-bytes") { Description = "bytes per value", DefaultValueFactory = _ => 100 };
        var batch = new Option<int>("--batch") { Description = $"entries per atomic write batch (1 = single puts, at most {MaxFillBatch})", DefaultValueFactory = _ => 1 };
        var printAcks = new Option<bool>("--print-acks") { Description = "print 'ack KEY' once each entry is acknowledged (durable as --sync says)" };
        var command = new Command("fill", "Write-load tool: writes --count entries under the 'keel-fill/' prefix and reports the rate.");
        command.Options.Add(Family);
        command.Options.Add(count);
        command.Options.Add(valueBytes);
        command.Options.Add(batch);
        command.Options.Add(Sync);
        command.Options.Add(printAcks);
        command.SetAction(parse => Run(() =>
        {
            var total = parse.GetValue(count);
            var perBatch = parse.GetValue(batch);
            var size = parse.GetValue(valueBytes);
            if (total is < 1 or > MaxFillCount || perBatch is < 1 or > MaxFillBatch || size is < 0 or > StorageLimits.MaxValueBytes)
            {
                throw new InvalidStorageArgumentException($"need 1 <= --count <= {MaxFillCount}, 1 <= --batch <= {MaxFillBatch}, 0 <= --value-bytes <= {StorageLimits.MaxValueBytes}");
            }
            var durability = Durability(parse);
            var acks = parse.GetValue(printAcks);
            using var store = NodeDatabase.Open(parse.GetValue(DataDir)!);
            var family = store.GetColumnFamily(parse.GetValue(Family)!);
            var value = new byte[size];
            new Random(1).NextBytes(value);
            var key = new byte[FillKeyPrefix.Length + sizeof(ulong)];
            FillKeyPrefix.CopyTo(key, 0);
            using var writeBatch = store.CreateWriteBatch();
            // Unlike Console.Out, this writer is not flushed per line: acks are flushed once per
            // write, and the buffer holds a whole batch of them so that they leave in one piece.
            using var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), AckBufferBytes) { AutoFlush = false };
            var clock = Stopwatch.StartNew();
            for (long first = 0; first < total; first += perBatch)
            {
                var n = (int)Math.Min(perBatch, total - first);
                if (perBatch == 1)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(FillKeyPrefix.Length), (ulong)first);
                    family.Put(key, value, durability);
                }
                else
                {
                    writeBatch.Clear();
                    for (var i = 0; i < n; i++)
                    {
                        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(FillKeyPrefix.Length), (ulong)(first + i));
                        writeBatch.Put(family, key, value);
                    }
                    store.Write(writeBatch, durability);
                }
                if (acks)
                {
                    for (var i = 0; i < n; i++)
                    {
                        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(FillKeyPrefix.Length), (ulong)(first + i));
                        output.Write("ack ");
                        output.WriteLine(Hex(key));
                    }
                    output.Flush();
                }
            }
            var seconds = clock.Elapsed.TotalSeconds;
            output.WriteLine($"filled {total} entries of {size} bytes into '{family.Name}' in {seconds:F2} s ({total / Math.Max(seconds, 1e-9):F0}/s, {durability}, batch {perBatch})");
            return 0;
        }));
        return command;
    }

    private static WriteDurability Durability(ParseResult parse) => parse.GetValue(Sync) ? WriteDurability.Synced : WriteDurability.Buffered;

    /// <summary>Runs a subcommand, turning storage and input errors into a message and exit code 2.</summary>
    private static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (StorageException error)
        {
            Console.Error.WriteLine($"keel db: {error.Message}");
            return ExitError;
        }
        catch (FormatException error)
        {
            Console.Error.WriteLine($"keel db: {error.Message}");
            return ExitError;
        }
    }

    internal static byte[] ParseBytes(string text, string option)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return Convert.FromHexString(text.AsSpan(2));
            }
            catch (FormatException)
            {
                throw new FormatException($"{option}: '{text}' is not valid hex after 0x");
            }
        }
        return Encoding.UTF8.GetBytes(text);
    }

    internal static string Hex(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);
}
