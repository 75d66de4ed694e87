using Keel.Core.Storage;

namespace Keel.Node.Storage;

/// <summary>How <see cref="RocksDbStore.Open"/> opens a database. Defaults suit a node.</summary>
public sealed record RocksDbStoreOptions
{
    /// <summary>Families to open, created when missing. Families already in the database are opened too (RocksDB refuses to open otherwise).</summary>
    public IReadOnlyList<string> ColumnFamilies { get; init; } = ColumnFamilyNames.All;

    /// <summary>False for tools that must not create an empty database where an operator mistyped a path.</summary>
    public bool CreateIfMissing { get; init; } = true;

    /// <summary>
    /// LZ4 by default: cheap enough to be invisible next to hashing, and Debian's build links it.
    /// Block and state data is mostly hashes (incompressible), so this mainly shrinks receipts.
    /// </summary>
    public bool Compress { get; init; } = true;

    /// <summary>Bloom filter bits per key (0 disables): about 1% false positives at 10, which spares a disk read for most absent keys.</summary>
    public double BloomBitsPerKey { get; init; } = DefaultBloomBitsPerKey;

    /// <summary>
    /// Uncompressed blocks kept in memory, shared by all families. RocksDB's default (8 MiB) makes
    /// random reads of a state larger than that decompress a block from the page cache each time.
    /// </summary>
    public long BlockCacheBytes { get; init; } = DefaultBlockCacheBytes;

    public const long DefaultBlockCacheBytes = 128L * 1024 * 1024;

    /// <summary>Background flush and compaction threads; bounded by the cores so that a node does not starve its own consensus loop.</summary>
    public int BackgroundThreads { get; init; } = Math.Clamp(Environment.ProcessorCount, MinBackgroundThreads, MaxBackgroundThreads);

    public const double DefaultBloomBitsPerKey = 10;
    public const int MinBackgroundThreads = 2;
    public const int MaxBackgroundThreads = 8;

    /// <summary>RocksDB's informational LOG files kept; without a bound they pile up across restarts.</summary>
    public const int KeptInfoLogFiles = 4;

    /// <summary>Size at which RocksDB starts a new informational LOG file.</summary>
    public const int MaxInfoLogFileBytes = 16 * 1024 * 1024;
}
