using Keel.Core.Storage;

namespace Keel.Node.Storage;

/// <summary>
/// Where a node keeps its database inside its data directory, and how it opens it: the one
/// place that knows the layout, shared by the node, the devnet and `keel db`.
/// </summary>
public static class NodeDatabase
{
    /// <summary>The database lives in its own folder so that keys, config and logs can sit beside it.</summary>
    public const string DirectoryName = "db";

    public static string PathFor(string dataDirectory) => Path.Combine(dataDirectory, DirectoryName);

    /// <summary>Opens (creating when missing) the node's database with every <see cref="ColumnFamilyNames.All">node family</see>.</summary>
    public static RocksDbStore Open(string dataDirectory) =>
        RocksDbStore.Open(PathFor(dataDirectory), new RocksDbStoreOptions { ColumnFamilies = ColumnFamilyNames.All });

    /// <summary>Opens an existing database with the families it has, creating nothing (for inspection tools).</summary>
    public static RocksDbStore OpenExisting(string dataDirectory) =>
        RocksDbStore.Open(PathFor(dataDirectory), new RocksDbStoreOptions { ColumnFamilies = [], CreateIfMissing = false });
}
