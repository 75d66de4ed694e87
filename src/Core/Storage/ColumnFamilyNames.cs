namespace Keel.Core.Storage;

/// <summary>
/// The column families a Keel node keeps, one per kind of record. Declared here, beside the
/// interface, so that the node, the simulator and the `keel db` tool agree on the names.
/// </summary>
public static class ColumnFamilyNames
{
    /// <summary>Always present (RocksDB requires it); holds small metadata such as the schema version.</summary>
    public const string Default = "default";

    /// <summary>Consensus safety data (last voted round, locked certificate): written with <see cref="WriteDurability.Synced"/>.</summary>
    public const string Safety = "safety";

    /// <summary>Committed blocks by height and hash.</summary>
    public const string Blocks = "blocks";

    /// <summary>Quorum certificates and timeout certificates.</summary>
    public const string Certificates = "certificates";

    /// <summary>Rollup state (accounts, tree nodes).</summary>
    public const string State = "state";

    /// <summary>Transaction receipts by transaction hash.</summary>
    public const string Receipts = "receipts";

    /// <summary>Every family a node opens.</summary>
    public static IReadOnlyList<string> All { get; } = [Default, Safety, Blocks, Certificates, State, Receipts];
}
