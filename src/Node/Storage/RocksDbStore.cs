using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Keel.Core.Storage;
using static Keel.Node.Storage.RocksDbNative;

namespace Keel.Node.Storage;

/// <summary>
/// <see cref="IKeyValueStore"/> over RocksDB (Debian's librocksdb through its C API). Thread-safe
/// as RocksDB is: any number of threads may read and write at once. Buffered writes go to the
/// write-ahead log without fsync; synced writes fsync it before returning.
/// </summary>
public sealed unsafe class RocksDbStore : IKeyValueStore
{
    private readonly DatabaseHandle _database;
    private readonly Dictionary<string, RocksDbColumnFamily> _families;
    private readonly WriteOptionsHandle _bufferedWrites;
    private readonly WriteOptionsHandle _syncedWrites;
    private readonly ReadOptionsHandle _reads;
    private int _disposed;

    private RocksDbStore(string path, DatabaseHandle database, IReadOnlyList<string> names, ColumnFamilyHandle[] handles)
    {
        Path = path;
        _database = database;
        ColumnFamilies = names;
        _families = new Dictionary<string, RocksDbColumnFamily>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            _families.Add(names[i], new RocksDbColumnFamily(this, names[i], handles[i]));
        }
        _bufferedWrites = WriteOptionsHandle.Create(sync: false);
        _syncedWrites = WriteOptionsHandle.Create(sync: true);
        _reads = new ReadOptionsHandle(rocksdb_readoptions_create());
    }

    /// <summary>The database directory.</summary>
    public string Path { get; }

    public IReadOnlyList<string> ColumnFamilies { get; }

    /// <summary>
    /// Opens (by default creating) the database at <paramref name="path"/> with the declared
    /// column families plus any the database already has.
    /// </summary>
    /// <exception cref="RocksDbNotInstalledException">librocksdb is not installed.</exception>
    /// <exception cref="RocksDbException">RocksDB refused: another process holds the directory, corruption, I/O.</exception>
    /// <exception cref="StorageException">No database there and <see cref="RocksDbStoreOptions.CreateIfMissing"/> is false.</exception>
    public static RocksDbStore Open(string path, RocksDbStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new RocksDbStoreOptions();
        EnsureLoaded();
        var declared = StorageLimits.NormalizeColumnFamilies(options.ColumnFamilies);
        path = System.IO.Path.GetFullPath(path);
        var exists = File.Exists(System.IO.Path.Combine(path, "CURRENT"));
        if (!exists && !options.CreateIfMissing)
        {
            throw new StorageException($"no RocksDB database at '{path}'");
        }
        Directory.CreateDirectory(path);

        var nativeOptions = CreateOptions(options);
        try
        {
            var names = new List<string>(declared);
            if (exists)
            {
                foreach (var existing in ListColumnFamilies(nativeOptions, path))
                {
                    if (!names.Contains(existing, StringComparer.Ordinal))
                    {
                        names.Add(existing);
                    }
                }
            }
            return OpenWith(path, nativeOptions, names);
        }
        finally
        {
            rocksdb_options_destroy(nativeOptions);
        }
    }

    public IColumnFamily GetColumnFamily(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        EnsureOpen();
        return _families.TryGetValue(name, out var family) ? family : throw new UnknownColumnFamilyException(name, ColumnFamilies);
    }

    public IWriteBatch CreateWriteBatch()
    {
        EnsureOpen();
        return new RocksDbWriteBatch(this);
    }

    public void Write(IWriteBatch batch, WriteDurability durability = WriteDurability.Buffered)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch is not RocksDbWriteBatch ours || !ReferenceEquals(ours.Owner, this))
        {
            throw new InvalidStorageArgumentException("the write batch was created by another store");
        }
        Guard(() =>
        {
            nint error = 0;
            rocksdb_write(_database, WriteOptions(durability), ours.Handle, &error);
            ThrowIfError(error, "write batch");
        });
    }

    /// <summary>
    /// A RocksDB integer property of a family ("rocksdb.estimate-num-keys",
    /// "rocksdb.total-sst-files-size", "rocksdb.cur-size-all-mem-tables"), or null if unknown.
    /// For operators' tools; not part of <see cref="IKeyValueStore"/>.
    /// </summary>
    public ulong? GetIntProperty(string columnFamily, string property)
    {
        var family = (RocksDbColumnFamily)GetColumnFamily(columnFamily);
        var name = Encoding.UTF8.GetBytes(property + "\0");
        return Guard(() =>
        {
            ulong value = 0;
            fixed (byte* p = name)
            {
                return rocksdb_property_int_cf(_database, family.Handle, p, &value) == 0 ? value : (ulong?)null;
            }
        });
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        // Children first; the database handle closes once the last of them (or a call still in
        // flight on another thread) lets go of it.
        foreach (var family in _families.Values)
        {
            family.Handle.Dispose();
        }
        _bufferedWrites.Dispose();
        _syncedWrites.Dispose();
        _reads.Dispose();
        _database.Dispose();
    }

    private WriteOptionsHandle WriteOptions(WriteDurability durability)
    {
        StorageLimits.CheckDurability(durability);
        return durability == WriteDurability.Synced ? _syncedWrites : _bufferedWrites;
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private StoreClosedException Closed() => new($"the RocksDB store at '{Path}' is closed");

    private void EnsureOpen()
    {
        if (IsDisposed)
        {
            throw Closed();
        }
    }

    /// <summary>Runs a native call, turning the race "disposed while starting the call" into the same typed error as a call after Dispose.</summary>
    private void Guard(Action call)
    {
        EnsureOpen();
        try
        {
            call();
        }
        catch (ObjectDisposedException)
        {
            throw Closed();
        }
    }

    private T Guard<T>(Func<T> call)
    {
        EnsureOpen();
        try
        {
            return call();
        }
        catch (ObjectDisposedException)
        {
            throw Closed();
        }
    }

    private static nint CreateOptions(RocksDbStoreOptions options)
    {
        var native = rocksdb_options_create();
        rocksdb_options_set_create_if_missing(native, 1);
        rocksdb_options_set_create_missing_column_families(native, 1);
        rocksdb_options_increase_parallelism(native, Math.Clamp(options.BackgroundThreads, 1, RocksDbStoreOptions.MaxBackgroundThreads));
        rocksdb_options_set_compression(native, options.Compress ? Lz4Compression : NoCompression);
        rocksdb_options_set_keep_log_file_num(native, RocksDbStoreOptions.KeptInfoLogFiles);
        rocksdb_options_set_max_log_file_size(native, RocksDbStoreOptions.MaxInfoLogFileBytes);
        var table = rocksdb_block_based_options_create();
        if (options.BloomBitsPerKey > 0)
        {
            rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom_full(options.BloomBitsPerKey));
        }
        // One cache shared by every family (they share these options).
        var cache = rocksdb_cache_create_lru((nuint)Math.Max(options.BlockCacheBytes, 0));
        rocksdb_block_based_options_set_block_cache(table, cache);
        rocksdb_cache_destroy(cache);
        // The factory copies the table options (and shares the filter policy and cache), so ours can go.
        rocksdb_options_set_block_based_table_factory(native, table);
        rocksdb_block_based_options_destroy(table);
        return native;
    }

    private static List<string> ListColumnFamilies(nint options, string path)
    {
        var pathBytes = Utf8Z(path);
        nuint count = 0;
        nint error = 0;
        byte** list;
        fixed (byte* p = pathBytes)
        {
            list = rocksdb_list_column_families(options, p, &count, &error);
        }
        ThrowIfError(error, $"list column families of '{path}'");
        try
        {
            var names = new List<string>((int)count);
            for (nuint i = 0; i < count; i++)
            {
                names.Add(Marshal.PtrToStringUTF8((nint)list[i])!);
            }
            return names;
        }
        finally
        {
            rocksdb_list_column_families_destroy(list, count);
        }
    }

    private static RocksDbStore OpenWith(string path, nint options, List<string> names)
    {
        var count = names.Count;
        var encoded = names.Select(Utf8Z).ToArray();
        var pins = new GCHandle[count];
        var namePointers = new nint[count];
        var familyOptions = new nint[count];
        var handles = new nint[count];
        for (var i = 0; i < count; i++)
        {
            pins[i] = GCHandle.Alloc(encoded[i], GCHandleType.Pinned);
            namePointers[i] = pins[i].AddrOfPinnedObject();
            familyOptions[i] = options;
        }
        nint db;
        nint error = 0;
        try
        {
            var pathBytes = Utf8Z(path);
            fixed (byte* p = pathBytes)
            fixed (nint* n = namePointers)
            fixed (nint* o = familyOptions)
            fixed (nint* h = handles)
            {
                db = rocksdb_open_column_families(options, p, count, (byte**)n, o, h, &error);
            }
        }
        finally
        {
            foreach (var pin in pins)
            {
                pin.Free();
            }
        }
        try
        {
            ThrowIfError(error, $"open '{path}'");
        }
        catch (RocksDbException e) when (e.RocksDbMessage.Contains("lock", StringComparison.OrdinalIgnoreCase))
        {
            // RocksDB's lock errors ("While lock file: ...", "lock hold by current process") do not say
            // what an operator should do: another process has this directory open.
            throw new RocksDbException(e.Operation, $"{e.RocksDbMessage} (is another keel process using this data directory? stop it first)");
        }

        var database = new DatabaseHandle(db);
        var wrapped = new ColumnFamilyHandle[count];
        for (var i = 0; i < count; i++)
        {
            var added = false;
            database.DangerousAddRef(ref added);
            wrapped[i] = new ColumnFamilyHandle(handles[i], database);
        }
        return new RocksDbStore(path, database, names, wrapped);
    }

    private static byte[] Utf8Z(string text) => Encoding.UTF8.GetBytes(text + "\0");

    /// <summary>A pointer for a span, never null: RocksDB builds Slices from it and an empty span's address is null.</summary>
    private static ref byte Address(ReadOnlySpan<byte> span) => ref span.IsEmpty ? ref EmptyByte[0] : ref MemoryMarshal.GetReference(span);

    private static readonly byte[] EmptyByte = [0];

    private delegate TResult ValueReader<in TState, out TResult>(ReadOnlySpan<byte> value, TState state);

    private sealed class RocksDbColumnFamily(RocksDbStore store, string name, ColumnFamilyHandle handle) : IColumnFamily
    {
        public RocksDbStore Store { get; } = store;

        public string Name { get; } = name;

        public ColumnFamilyHandle Handle { get; } = handle;

        public byte[]? Get(ReadOnlySpan<byte> key) =>
            Read(key, 0, static (value, _) => value.ToArray(), absent: null);

        public bool TryGet(ReadOnlySpan<byte> key, IBufferWriter<byte> destination)
        {
            ArgumentNullException.ThrowIfNull(destination);
            return Read(key, destination, static (value, writer) =>
            {
                writer.Write(value);
                return true;
            }, absent: false);
        }

        public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, WriteDurability durability = WriteDurability.Buffered)
        {
            StorageLimits.CheckKey(key);
            StorageLimits.CheckValue(value);
            Store.EnsureOpen();
            try
            {
                nint error = 0;
                fixed (byte* k = key)
                fixed (byte* v = &Address(value))
                {
                    rocksdb_put_cf(Store._database, Store.WriteOptions(durability), Handle, k, (nuint)key.Length, v, (nuint)value.Length, &error);
                }
                ThrowIfError(error, $"put into '{Name}'");
            }
            catch (ObjectDisposedException)
            {
                throw Store.Closed();
            }
        }

        public void Delete(ReadOnlySpan<byte> key, WriteDurability durability = WriteDurability.Buffered)
        {
            StorageLimits.CheckKey(key);
            Store.EnsureOpen();
            try
            {
                nint error = 0;
                fixed (byte* k = key)
                {
                    rocksdb_delete_cf(Store._database, Store.WriteOptions(durability), Handle, k, (nuint)key.Length, &error);
                }
                ThrowIfError(error, $"delete from '{Name}'");
            }
            catch (ObjectDisposedException)
            {
                throw Store.Closed();
            }
        }

        /// <summary>Looks the key up and hands the value to <paramref name="found"/> while RocksDB keeps it pinned, then unpins it: one copy, into the caller's memory.</summary>
        private TResult Read<TState, TResult>(ReadOnlySpan<byte> key, TState state, ValueReader<TState, TResult> found, TResult absent)
        {
            StorageLimits.CheckKey(key);
            Store.EnsureOpen();
            try
            {
                nint error = 0;
                nint slice;
                fixed (byte* k = key)
                {
                    slice = rocksdb_get_pinned_cf(Store._database, Store._reads, Handle, k, (nuint)key.Length, &error);
                }
                ThrowIfError(error, $"get from '{Name}'");
                if (slice == 0)
                {
                    return absent;
                }
                try
                {
                    nuint length = 0;
                    var value = rocksdb_pinnableslice_value(slice, &length);
                    return found(new ReadOnlySpan<byte>(value, checked((int)length)), state);
                }
                finally
                {
                    rocksdb_pinnableslice_destroy(slice);
                }
            }
            catch (ObjectDisposedException)
            {
                throw Store.Closed();
            }
        }

        public IKeyValueCursor IteratePrefix(ReadOnlySpan<byte> prefix)
        {
            KeyOrder.CheckPrefix(prefix);
            return CreateCursor(prefix, KeyOrder.PrefixUpperBound(prefix));
        }

        public IKeyValueCursor IterateRange(ReadOnlySpan<byte> startInclusive, ReadOnlySpan<byte> endExclusive)
        {
            KeyOrder.CheckRange(startInclusive, endExclusive);
            return CreateCursor(startInclusive, endExclusive);
        }

        private RocksDbCursor CreateCursor(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
        {
            Store.EnsureOpen();
            var added = false;
            byte* bound = null;
            ReadOptionsHandle? options = null;
            nint iterator = 0;
            try
            {
                // Hold the database for the iterator's lifetime before creating it (see DatabaseChildHandle).
                Store._database.DangerousAddRef(ref added);
                options = new ReadOptionsHandle(rocksdb_readoptions_create());
                if (!end.IsEmpty)
                {
                    // RocksDB keeps only the pointer to the bound: copy it to memory the iterator owns.
                    bound = (byte*)NativeMemory.Alloc((nuint)end.Length);
                    end.CopyTo(new Span<byte>(bound, end.Length));
                    rocksdb_readoptions_set_iterate_upper_bound(options.DangerousGetHandle(), bound, (nuint)end.Length);
                }
                iterator = rocksdb_create_iterator_cf(Store._database, options, Handle);
                var handle = new IteratorHandle(iterator, Store._database, options, bound);
                return new RocksDbCursor(handle, start.ToArray());
            }
            catch (Exception failure)
            {
                if (iterator != 0)
                {
                    rocksdb_iter_destroy(iterator);
                }
                options?.Dispose();
                if (bound is not null)
                {
                    NativeMemory.Free(bound);
                }
                if (added)
                {
                    Store._database.DangerousRelease();
                }
                if (failure is ObjectDisposedException)
                {
                    throw Store.Closed();
                }
                throw;
            }
        }
    }

    /// <summary>Spans point into RocksDB's iterator buffers, valid until the next move: no copy per entry.</summary>
    private sealed class RocksDbCursor(IteratorHandle handle, byte[] start) : IKeyValueCursor
    {
        private readonly nint _iterator = handle.DangerousGetHandle();
        private bool _started;
        private bool _valid;

        public ReadOnlySpan<byte> Key
        {
            get
            {
                EnsureOnEntry();
                nuint length = 0;
                var key = rocksdb_iter_key(_iterator, &length);
                return new ReadOnlySpan<byte>(key, (int)length);
            }
        }

        public ReadOnlySpan<byte> Value
        {
            get
            {
                EnsureOnEntry();
                nuint length = 0;
                var value = rocksdb_iter_value(_iterator, &length);
                return new ReadOnlySpan<byte>(value, (int)length);
            }
        }

        public bool MoveNext()
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            if (!_started)
            {
                _started = true;
                if (start.Length == 0)
                {
                    rocksdb_iter_seek_to_first(_iterator);
                }
                else
                {
                    fixed (byte* s = start)
                    {
                        rocksdb_iter_seek(_iterator, s, (nuint)start.Length);
                    }
                }
            }
            else if (_valid)
            {
                rocksdb_iter_next(_iterator);
            }
            else
            {
                return false;
            }
            _valid = rocksdb_iter_valid(_iterator) != 0;
            if (!_valid)
            {
                // Invalid means either the end or an error (corruption, I/O): tell them apart.
                nint error = 0;
                rocksdb_iter_get_error(_iterator, &error);
                ThrowIfError(error, "iterate");
            }
            return _valid;
        }

        public void Dispose()
        {
            _valid = false;
            handle.Dispose();
        }

        private void EnsureOnEntry()
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            if (!_valid)
            {
                throw new InvalidOperationException("the cursor is not on an entry (call MoveNext first, and only while it returns true)");
            }
        }
    }

    private sealed class RocksDbWriteBatch(RocksDbStore owner) : IWriteBatch
    {
        private long _bytes;

        public RocksDbStore Owner { get; } = owner;

        public WriteBatchHandle Handle { get; } = new(rocksdb_writebatch_create());

        public int Count { get; private set; }

        public void Put(IColumnFamily columnFamily, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var family = Check(columnFamily, key, value.Length);
            StorageLimits.CheckValue(value);
            try
            {
                fixed (byte* k = key)
                fixed (byte* v = &Address(value))
                {
                    rocksdb_writebatch_put_cf(Handle, family.Handle, k, (nuint)key.Length, v, (nuint)value.Length);
                }
            }
            catch (ObjectDisposedException) when (Owner.IsDisposed)
            {
                throw Owner.Closed();
            }
            Added(key.Length + value.Length);
        }

        public void Delete(IColumnFamily columnFamily, ReadOnlySpan<byte> key)
        {
            var family = Check(columnFamily, key, 0);
            try
            {
                fixed (byte* k = key)
                {
                    rocksdb_writebatch_delete_cf(Handle, family.Handle, k, (nuint)key.Length);
                }
            }
            catch (ObjectDisposedException) when (Owner.IsDisposed)
            {
                throw Owner.Closed();
            }
            Added(key.Length);
        }

        public void Clear()
        {
            rocksdb_writebatch_clear(Handle);
            Count = 0;
            _bytes = 0;
        }

        public void Dispose() => Handle.Dispose();

        private RocksDbColumnFamily Check(IColumnFamily columnFamily, ReadOnlySpan<byte> key, int valueLength)
        {
            ObjectDisposedException.ThrowIf(Handle.IsClosed, this);
            Owner.EnsureOpen();
            ArgumentNullException.ThrowIfNull(columnFamily);
            StorageLimits.CheckKey(key);
            if (columnFamily is not RocksDbColumnFamily family || !ReferenceEquals(family.Store, Owner))
            {
                throw new InvalidStorageArgumentException($"column family '{columnFamily.Name}' belongs to another store");
            }
            StorageLimits.CheckBatchGrowth(Count, _bytes, key.Length + valueLength);
            return family;
        }

        private void Added(int bytes)
        {
            Count++;
            _bytes += bytes;
        }
    }
}
