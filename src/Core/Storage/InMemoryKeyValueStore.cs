using System.Buffers;

namespace Keel.Core.Storage;

/// <summary>
/// A sorted, thread-safe, in-memory <see cref="IKeyValueStore"/> for the simulator and unit tests,
/// with the same limits and ordering as the RocksDB store. Opened on an <see cref="InMemoryDisk"/>,
/// which can simulate a crash that loses unsynced writes (see there).
/// </summary>
public sealed class InMemoryKeyValueStore : IKeyValueStore
{
    private readonly InMemoryDisk _disk;
    private readonly Dictionary<string, InMemoryColumnFamily> _families;
    private string? _closedReason;

    /// <summary>A store on a fresh disk of its own (the usual start of a unit test).</summary>
    public static InMemoryKeyValueStore Create(params IEnumerable<string> columnFamilies) => new InMemoryDisk().Open(columnFamilies);

    internal InMemoryKeyValueStore(InMemoryDisk disk, IReadOnlyList<string> names, Dictionary<string, SortedSet<InMemoryEntry>> sets)
    {
        _disk = disk;
        ColumnFamilies = names;
        _families = new Dictionary<string, InMemoryColumnFamily>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            _families.Add(name, new InMemoryColumnFamily(this, name, sets[name]));
        }
    }

    /// <summary>The disk under this store: reopen on it after <see cref="Crash"/>.</summary>
    public InMemoryDisk Disk => _disk;

    public IReadOnlyList<string> ColumnFamilies { get; }

    /// <summary>Shorthand for <see cref="InMemoryDisk.Crash"/> on this store's disk.</summary>
    public int Crash(Random? random = null) => _disk.Crash(random);

    public IColumnFamily GetColumnFamily(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_disk.Gate)
        {
            EnsureOpen();
        }
        return _families.TryGetValue(name, out var family) ? family : throw new UnknownColumnFamilyException(name, ColumnFamilies);
    }

    public IWriteBatch CreateWriteBatch() => new InMemoryWriteBatch(this);

    public void Write(IWriteBatch batch, WriteDurability durability = WriteDurability.Buffered)
    {
        ArgumentNullException.ThrowIfNull(batch);
        StorageLimits.CheckDurability(durability);
        if (batch is not InMemoryWriteBatch ours || !ReferenceEquals(ours.Owner, this))
        {
            throw new InvalidStorageArgumentException("the write batch was created by another store");
        }
        lock (_disk.Gate)
        {
            EnsureOpen();
            var undo = new List<UndoRecord>(ours.Operations.Count);
            foreach (var op in ours.Operations)
            {
                undo.Add(op.Family.Apply(op.Key, op.Value));
            }
            _disk.Committed(undo, durability);
        }
    }

    public void Dispose()
    {
        lock (_disk.Gate)
        {
            if (_closedReason is not null)
            {
                return;
            }
            _closedReason = "the store was disposed";
        }
        _disk.Closed(this);
    }

    /// <summary>Caller holds the disk's lock.</summary>
    internal void EnsureOpen()
    {
        if (_closedReason is not null)
        {
            throw new StoreClosedException(_closedReason);
        }
    }

    /// <summary>Caller holds the disk's lock.</summary>
    internal void MarkClosed(string reason) => _closedReason ??= reason;

    internal sealed class InMemoryColumnFamily(InMemoryKeyValueStore store, string name, SortedSet<InMemoryEntry> set) : IColumnFamily
    {
        public InMemoryKeyValueStore Store { get; } = store;

        public string Name { get; } = name;

        public SortedSet<InMemoryEntry> Set { get; } = set;

        public byte[]? Get(ReadOnlySpan<byte> key)
        {
            var value = Find(key);
            // The stored array is never mutated, but callers may mutate theirs: hand out a copy.
            return value?.ToArray();
        }

        public bool TryGet(ReadOnlySpan<byte> key, IBufferWriter<byte> destination)
        {
            ArgumentNullException.ThrowIfNull(destination);
            var value = Find(key);
            if (value is null)
            {
                return false;
            }
            destination.Write(value);
            return true;
        }

        public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, WriteDurability durability = WriteDurability.Buffered)
        {
            StorageLimits.CheckKey(key);
            StorageLimits.CheckValue(value);
            StorageLimits.CheckDurability(durability);
            var keyCopy = key.ToArray();
            var valueCopy = value.ToArray();
            lock (Store.Disk.Gate)
            {
                Store.EnsureOpen();
                Store.Disk.Committed([Apply(keyCopy, valueCopy)], durability);
            }
        }

        public void Delete(ReadOnlySpan<byte> key, WriteDurability durability = WriteDurability.Buffered)
        {
            StorageLimits.CheckKey(key);
            StorageLimits.CheckDurability(durability);
            var keyCopy = key.ToArray();
            lock (Store.Disk.Gate)
            {
                Store.EnsureOpen();
                Store.Disk.Committed([Apply(keyCopy, null)], durability);
            }
        }

        public IKeyValueCursor IteratePrefix(ReadOnlySpan<byte> prefix)
        {
            KeyOrder.CheckPrefix(prefix);
            return new InMemoryCursor(this, prefix.ToArray(), KeyOrder.PrefixUpperBound(prefix));
        }

        public IKeyValueCursor IterateRange(ReadOnlySpan<byte> startInclusive, ReadOnlySpan<byte> endExclusive)
        {
            KeyOrder.CheckRange(startInclusive, endExclusive);
            return new InMemoryCursor(this, startInclusive.ToArray(), endExclusive.ToArray());
        }

        /// <summary>Sets (value non-null) or removes the key; returns how to undo it. Caller holds the lock.</summary>
        public UndoRecord Apply(byte[] key, byte[]? value)
        {
            var probe = new InMemoryEntry(key, []);
            byte[]? previous = null;
            if (Set.TryGetValue(probe, out var entry))
            {
                previous = entry.Value;
                if (value is null)
                {
                    Set.Remove(probe);
                }
                else
                {
                    entry.Value = value;
                }
            }
            else if (value is not null)
            {
                Set.Add(new InMemoryEntry(key, value));
            }
            return new UndoRecord(Set, key, previous);
        }

        private byte[]? Find(ReadOnlySpan<byte> key)
        {
            StorageLimits.CheckKey(key);
            var probe = new InMemoryEntry(key.ToArray(), []);
            lock (Store.Disk.Gate)
            {
                Store.EnsureOpen();
                return Set.TryGetValue(probe, out var entry) ? entry.Value : null;
            }
        }
    }

    /// <summary>
    /// Reads the range a page at a time under the lock, so that it neither holds the lock while the
    /// caller works nor copies a whole family up front; writes between pages become visible.
    /// </summary>
    private sealed class InMemoryCursor(InMemoryColumnFamily family, byte[] start, byte[] end) : IKeyValueCursor
    {
        /// <summary>Entries fetched per lock acquisition: amortises the tree seek, bounds the copy.</summary>
        private const int PageEntries = 256;

        private readonly List<(byte[] Key, byte[] Value)> _page = new(PageEntries);
        private int _index = -1;
        private byte[]? _lastKey;
        private bool _exhausted;
        private bool _disposed;

        public ReadOnlySpan<byte> Key => Current.Key;

        public ReadOnlySpan<byte> Value => Current.Value;

        private (byte[] Key, byte[] Value) Current
        {
            get
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_index < 0 || _index >= _page.Count)
                {
                    throw new InvalidOperationException("the cursor is not on an entry (call MoveNext first, and only while it returns true)");
                }
                return _page[_index];
            }
        }

        public bool MoveNext()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_index + 1 < _page.Count)
            {
                _index++;
                return true;
            }
            if (_exhausted)
            {
                _index = _page.Count;
                return false;
            }
            FetchPage();
            _index = 0;
            return _page.Count > 0;
        }

        public void Dispose()
        {
            _disposed = true;
            _page.Clear();
        }

        private void FetchPage()
        {
            _page.Clear();
            var lower = new InMemoryEntry(_lastKey ?? start, []);
            lock (family.Store.Disk.Gate)
            {
                family.Store.EnsureOpen();
                foreach (var entry in family.Set.GetViewBetween(lower, InMemoryEntry.UpperSentinel))
                {
                    var key = entry.Key!;
                    if (_lastKey is not null && KeyOrder.Compare(key, _lastKey) <= 0)
                    {
                        continue;
                    }
                    if (end.Length > 0 && KeyOrder.Compare(key, end) >= 0)
                    {
                        _exhausted = true;
                        break;
                    }
                    if (_page.Count == PageEntries)
                    {
                        break;
                    }
                    _page.Add((key, entry.Value));
                }
            }
            if (_page.Count < PageEntries)
            {
                _exhausted = true;
            }
            if (_page.Count > 0)
            {
                _lastKey = _page[^1].Key;
            }
        }
    }

    private sealed class InMemoryWriteBatch(InMemoryKeyValueStore owner) : IWriteBatch
    {
        private long _bytes;
        private bool _disposed;

        public InMemoryKeyValueStore Owner { get; } = owner;

        public List<(InMemoryColumnFamily Family, byte[] Key, byte[]? Value)> Operations { get; } = [];

        public int Count => Operations.Count;

        public void Put(IColumnFamily columnFamily, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            StorageLimits.CheckValue(value);
            Add(columnFamily, key, value.ToArray());
        }

        public void Delete(IColumnFamily columnFamily, ReadOnlySpan<byte> key) => Add(columnFamily, key, null);

        public void Clear()
        {
            Operations.Clear();
            _bytes = 0;
        }

        public void Dispose()
        {
            _disposed = true;
            Operations.Clear();
        }

        private void Add(IColumnFamily columnFamily, ReadOnlySpan<byte> key, byte[]? value)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ArgumentNullException.ThrowIfNull(columnFamily);
            StorageLimits.CheckKey(key);
            if (columnFamily is not InMemoryColumnFamily family || !ReferenceEquals(family.Store, Owner))
            {
                throw new InvalidStorageArgumentException($"column family '{columnFamily.Name}' belongs to another store");
            }
            var added = key.Length + (value?.Length ?? 0);
            StorageLimits.CheckBatchGrowth(Operations.Count, _bytes, added);
            Operations.Add((family, key.ToArray(), value));
            _bytes += added;
        }
    }
}
