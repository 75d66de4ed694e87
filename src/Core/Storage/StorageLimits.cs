namespace Keel.Core.Storage;

/// <summary>
/// Bounds every store enforces the same way, so a key or batch accepted by the in-memory store in
/// the simulator is also accepted by RocksDB on a node.
/// </summary>
public static class StorageLimits
{
    /// <summary>Keys are hashes, heights and short prefixes; anything longer is a bug, and long keys bloat every index block.</summary>
    public const int MaxKeyBytes = 4 * 1024;

    /// <summary>Large enough for a block with its payloads or a proof; RocksDB handles larger values badly (they pass through the memtable whole).</summary>
    public const int MaxValueBytes = 64 * 1024 * 1024;

    /// <summary>One batch is held in memory until written; huge batches also write slower than several of about 10k entries.</summary>
    public const int MaxBatchOperations = 1_000_000;

    /// <summary>Bytes of keys and values in one batch; keeps a batch under RocksDB's 32-bit record lengths with room to spare.</summary>
    public const long MaxBatchBytes = 1L * 1024 * 1024 * 1024;

    /// <summary>Column family names are short words ("blocks", "state").</summary>
    public const int MaxColumnFamilyNameLength = 64;

    /// <summary>Column families one store may open; each costs a memtable and files.</summary>
    public const int MaxColumnFamilies = 64;

    public static void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty)
        {
            throw new InvalidStorageArgumentException("keys must not be empty (an empty bound means 'unbounded' in range iteration)");
        }
        if (key.Length > MaxKeyBytes)
        {
            throw new InvalidStorageArgumentException($"key of {key.Length} bytes exceeds {nameof(MaxKeyBytes)} = {MaxKeyBytes}");
        }
    }

    public static void CheckValue(ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxValueBytes)
        {
            throw new InvalidStorageArgumentException($"value of {value.Length} bytes exceeds {nameof(MaxValueBytes)} = {MaxValueBytes}");
        }
    }

    public static void CheckDurability(WriteDurability durability)
    {
        if (durability is not (WriteDurability.Buffered or WriteDurability.Synced))
        {
            throw new InvalidStorageArgumentException($"unknown write durability {(int)durability}");
        }
    }

    /// <summary>Checks that a batch may take one more operation of this many key and value bytes.</summary>
    public static void CheckBatchGrowth(int operations, long bytes, int addedBytes)
    {
        if (operations >= MaxBatchOperations)
        {
            throw new InvalidStorageArgumentException($"write batch is full: {nameof(MaxBatchOperations)} = {MaxBatchOperations}");
        }
        if (bytes + addedBytes > MaxBatchBytes)
        {
            throw new InvalidStorageArgumentException($"write batch would exceed {nameof(MaxBatchBytes)} = {MaxBatchBytes}");
        }
    }

    /// <summary>Validates the declared names and returns them without duplicates, the default family first.</summary>
    public static IReadOnlyList<string> NormalizeColumnFamilies(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var result = new List<string> { ColumnFamilyNames.Default };
        foreach (var name in names)
        {
            CheckColumnFamilyName(name);
            if (!result.Contains(name, StringComparer.Ordinal))
            {
                result.Add(name);
            }
        }
        if (result.Count > MaxColumnFamilies)
        {
            throw new InvalidStorageArgumentException($"{result.Count} column families exceed {nameof(MaxColumnFamilies)} = {MaxColumnFamilies}");
        }
        return result;
    }

    public static void CheckColumnFamilyName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxColumnFamilyNameLength)
        {
            throw new InvalidStorageArgumentException($"column family name must be 1..{MaxColumnFamilyNameLength} characters");
        }
        foreach (var c in name)
        {
            // Names end up in file metadata, metrics labels and CLI arguments: keep them plain.
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                throw new InvalidStorageArgumentException($"column family name '{name}' may only contain ASCII letters, digits, '_', '-' and '.'");
            }
        }
    }
}
