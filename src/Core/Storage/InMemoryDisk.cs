namespace Keel.Core.Storage;

/// <summary>
/// The durable side of an in-memory store: what outlives the process that opened it. The
/// deterministic simulator keeps one per simulated node, opens a store on it, and calls
/// <see cref="Crash"/> to model a node dying at any instant.
/// </summary>
/// <remarks>
/// <para>
/// <b>Crash model: unsynced writes are lost.</b> Writes made with
/// <see cref="WriteDurability.Buffered"/> are remembered as "unsynced" (an undo log in write
/// order). A <see cref="WriteDurability.Synced"/> write makes itself and every earlier write
/// durable, as an fsync of RocksDB's write-ahead log does. <see cref="Crash"/> closes the open
/// store (each later call on it throws <see cref="StoreClosedException"/>) and rolls back the
/// unsynced writes: all of them, or with a random source a random newest part of them, because a
/// real log survives a power cut up to some point and never with holes. A write batch is lost or
/// kept whole. This is the power-cut worst case; a real process killed with SIGKILL loses less
/// (the operating system still holds the log), so code correct here is correct there.
/// </para>
/// <para>
/// A clean <see cref="IDisposable.Dispose"/> of the store makes everything durable, as a clean
/// shutdown does. Only one store may be open on a disk at a time, as RocksDB's LOCK file enforces.
/// </para>
/// </remarks>
public sealed class InMemoryDisk
{
    /// <summary>
    /// Unsynced operations remembered for rollback by default; past the bound the oldest become
    /// durable, as the operating system eventually writes dirty pages back. Bounds the undo log's memory.
    /// </summary>
    public const int DefaultMaxUnsyncedOperations = 1_000_000;

    private readonly int _maxUnsyncedOperations;

    // One lock for the whole disk: the simulator values determinism and simplicity over
    // parallel throughput, and every operation is a few tree steps.
    internal readonly Lock Gate = new();
    private readonly Dictionary<string, SortedSet<InMemoryEntry>> _families = new(StringComparer.Ordinal);
    private readonly LinkedList<List<UndoRecord>> _unsynced = new();
    private int _unsyncedOperations;
    private InMemoryKeyValueStore? _open;

    public InMemoryDisk(int maxUnsyncedOperations = DefaultMaxUnsyncedOperations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUnsyncedOperations, 1);
        _maxUnsyncedOperations = maxUnsyncedOperations;
    }

    /// <summary>The bound on the undo log (see <see cref="DefaultMaxUnsyncedOperations"/>).</summary>
    public int MaxUnsyncedOperations => _maxUnsyncedOperations;

    /// <summary>Write batches (single puts and deletes count as one) a crash could still lose.</summary>
    public int UnsyncedWriteCount
    {
        get
        {
            lock (Gate)
            {
                return _unsynced.Count;
            }
        }
    }

    /// <summary>Opens a store, creating missing families. Families already on the disk stay open too, as in RocksDB.</summary>
    /// <exception cref="StorageException">Another store is open on this disk.</exception>
    public InMemoryKeyValueStore Open(IEnumerable<string> columnFamilies)
    {
        var declared = StorageLimits.NormalizeColumnFamilies(columnFamilies);
        lock (Gate)
        {
            if (_open is not null)
            {
                throw new StorageException("the in-memory disk already has an open store (close or crash it first)");
            }
            var names = new List<string>(declared);
            names.AddRange(_families.Keys.Where(existing => !names.Contains(existing, StringComparer.Ordinal)));
            if (names.Count > StorageLimits.MaxColumnFamilies)
            {
                throw new InvalidStorageArgumentException($"{names.Count} column families exceed {nameof(StorageLimits.MaxColumnFamilies)} = {StorageLimits.MaxColumnFamilies}");
            }
            var families = new Dictionary<string, SortedSet<InMemoryEntry>>(StringComparer.Ordinal);
            foreach (var name in names)
            {
                if (!_families.TryGetValue(name, out var set))
                {
                    set = new SortedSet<InMemoryEntry>(InMemoryEntry.Comparer);
                    _families.Add(name, set);
                }
                families.Add(name, set);
            }
            _open = new InMemoryKeyValueStore(this, names, families);
            return _open;
        }
    }

    /// <summary>
    /// Simulates the process dying now: the open store (if any) stops working, and unsynced writes
    /// are rolled back, all of them when <paramref name="random"/> is null, otherwise a random
    /// newest part (possibly none). Returns how many write batches were lost.
    /// </summary>
    public int Crash(Random? random = null)
    {
        lock (Gate)
        {
            _open?.MarkClosed("the store crashed (simulated)");
            _open = null;
            var lose = random is null ? _unsynced.Count : random.Next(_unsynced.Count + 1);
            for (var i = 0; i < lose; i++)
            {
                var batch = _unsynced.Last!.Value;
                _unsynced.RemoveLast();
                for (var j = batch.Count - 1; j >= 0; j--)
                {
                    batch[j].Undo();
                }
            }
            // What survived the crash is on disk for good.
            _unsynced.Clear();
            _unsyncedOperations = 0;
            return lose;
        }
    }

    internal void Closed(InMemoryKeyValueStore store)
    {
        lock (Gate)
        {
            if (ReferenceEquals(_open, store))
            {
                _open = null;
                _unsynced.Clear();
                _unsyncedOperations = 0;
            }
        }
    }

    /// <summary>Records a write just applied under <see cref="Gate"/>. Caller holds the lock.</summary>
    internal void Committed(List<UndoRecord> undo, WriteDurability durability)
    {
        if (durability == WriteDurability.Synced)
        {
            // An fsync of the log covers every earlier record too.
            _unsynced.Clear();
            _unsyncedOperations = 0;
            return;
        }
        _unsynced.AddLast(undo);
        _unsyncedOperations += undo.Count;
        while (_unsyncedOperations > _maxUnsyncedOperations && _unsynced.First is { } oldest)
        {
            _unsyncedOperations -= oldest.Value.Count;
            _unsynced.RemoveFirst();
        }
    }
}

/// <summary>One key and its current value in an in-memory family. A null key sorts after every key (an upper sentinel for range views).</summary>
internal sealed class InMemoryEntry(byte[]? key, byte[] value)
{
    public static readonly IComparer<InMemoryEntry> Comparer = new EntryComparer();

    public static readonly InMemoryEntry UpperSentinel = new(null, []);

    public byte[]? Key { get; } = key;

    /// <summary>Replaced, never mutated in place, so a cursor's copy of the reference stays valid.</summary>
    public byte[] Value { get; set; } = value;

    private sealed class EntryComparer : IComparer<InMemoryEntry>
    {
        public int Compare(InMemoryEntry? x, InMemoryEntry? y)
        {
            var a = x!.Key;
            var b = y!.Key;
            if (a is null || b is null)
            {
                return (a is null ? 1 : 0) - (b is null ? 1 : 0);
            }
            return KeyOrder.Compare(a, b);
        }
    }
}

/// <summary>How to take back one applied operation: restore the previous value, or remove the key if there was none.</summary>
internal readonly record struct UndoRecord(SortedSet<InMemoryEntry> Family, byte[] Key, byte[]? Previous)
{
    public void Undo()
    {
        var probe = new InMemoryEntry(Key, []);
        if (Previous is null)
        {
            Family.Remove(probe);
        }
        else if (Family.TryGetValue(probe, out var entry))
        {
            entry.Value = Previous;
        }
        else
        {
            Family.Add(new InMemoryEntry(Key, Previous));
        }
    }
}
