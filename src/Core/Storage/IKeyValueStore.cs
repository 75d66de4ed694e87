namespace Keel.Core.Storage;

/// <summary>
/// An ordered key-value store split into column families, the persistence port of a node.
/// Implementations: the RocksDB store in Keel.Node and <see cref="InMemoryKeyValueStore"/> for the
/// simulator and unit tests. Deliberately narrow (no snapshots, no merge operators, no
/// transactions) so that another engine, or a packaged RocksDB binding, can take its place.
/// </summary>
/// <remarks>
/// Column families are fixed when the store is opened: each kind of record (consensus safety
/// data, blocks, certificates, state, receipts) lives in its own family so that one kind can be
/// scanned, tuned or dropped without touching the others. Keys are ordered by their bytes
/// (unsigned, lexicographic, shorter first on a common prefix), so big-endian integers in keys
/// iterate in numeric order. Every member is safe to call from several threads at once, except
/// that one cursor belongs to one thread.
/// </remarks>
public interface IKeyValueStore : IDisposable
{
    /// <summary>Every column family this store has open, including <see cref="ColumnFamilyNames.Default"/>.</summary>
    IReadOnlyList<string> ColumnFamilies { get; }

    /// <summary>The family declared under this name at open.</summary>
    /// <exception cref="UnknownColumnFamilyException">No family of that name was opened.</exception>
    IColumnFamily GetColumnFamily(string name);

    /// <summary>An empty batch for <see cref="Write"/>; reusable after <see cref="IWriteBatch.Clear"/>.</summary>
    IWriteBatch CreateWriteBatch();

    /// <summary>
    /// Applies every operation of the batch, across column families, atomically: after a crash
    /// either all of them are there or none is.
    /// </summary>
    void Write(IWriteBatch batch, WriteDurability durability = WriteDurability.Buffered);
}

/// <summary>One column family of a store: an independent ordered key space.</summary>
public interface IColumnFamily
{
    string Name { get; }

    /// <summary>A copy of the value, or null when the key is absent.</summary>
    byte[]? Get(ReadOnlySpan<byte> key);

    /// <summary>
    /// Writes the value into <paramref name="destination"/> without an intermediate array (hot
    /// paths pass a reused, pooled writer); false when the key is absent.
    /// </summary>
    bool TryGet(ReadOnlySpan<byte> key, System.Buffers.IBufferWriter<byte> destination);

    void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, WriteDurability durability = WriteDurability.Buffered);

    /// <summary>Removes the key; deleting an absent key is not an error.</summary>
    void Delete(ReadOnlySpan<byte> key, WriteDurability durability = WriteDurability.Buffered);

    /// <summary>Every entry whose key starts with <paramref name="prefix"/>, in key order; an empty prefix means all.</summary>
    IKeyValueCursor IteratePrefix(ReadOnlySpan<byte> prefix);

    /// <summary>
    /// Every entry with <paramref name="startInclusive"/> &lt;= key &lt; <paramref name="endExclusive"/>,
    /// in key order. An empty bound means unbounded on that side (no key is empty).
    /// </summary>
    IKeyValueCursor IterateRange(ReadOnlySpan<byte> startInclusive, ReadOnlySpan<byte> endExclusive);
}

/// <summary>
/// A forward cursor over entries in key order. It sees the entries present when it was created
/// or later (no snapshot isolation is promised). <see cref="Key"/> and <see cref="Value"/> are
/// views into the store's own memory, valid only until the next <see cref="MoveNext"/> or
/// <see cref="IDisposable.Dispose"/>: copy what must outlive that. Use from one thread.
/// </summary>
public interface IKeyValueCursor : IDisposable
{
    /// <summary>Advances to the first or next entry; false when the range is exhausted.</summary>
    bool MoveNext();

    ReadOnlySpan<byte> Key { get; }

    ReadOnlySpan<byte> Value { get; }
}

/// <summary>
/// Puts and deletes across column families, collected in memory and applied atomically by
/// <see cref="IKeyValueStore.Write"/>. The batch copies keys and values, so callers may reuse
/// their buffers at once. Not thread-safe: one batch is built by one thread.
/// </summary>
public interface IWriteBatch : IDisposable
{
    /// <summary>Operations collected so far (bounded by <see cref="StorageLimits.MaxBatchOperations"/>).</summary>
    int Count { get; }

    void Put(IColumnFamily columnFamily, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    void Delete(IColumnFamily columnFamily, ReadOnlySpan<byte> key);

    void Clear();
}

/// <summary>How far a write has travelled before the call returns.</summary>
public enum WriteDurability
{
    /// <summary>
    /// Handed to the operating system (the write-ahead log is written, not fsynced): survives the
    /// process being killed, may be lost if the machine loses power. For blocks, state and
    /// anything that can be fetched again from peers.
    /// </summary>
    Buffered = 0,

    /// <summary>
    /// Fsynced to the write-ahead log before the call returns, together with every earlier write.
    /// For consensus safety data (the last vote, the locked certificate): a validator that signs
    /// a vote and forgets it after a power cut could sign a conflicting one.
    /// </summary>
    Synced = 1,
}
