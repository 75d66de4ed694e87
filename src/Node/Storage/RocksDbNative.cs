using System.Runtime.InteropServices;

namespace Keel.Node.Storage;

/// <summary>
/// The part of RocksDB's C API (rocksdb/c.h, 7.8) that <see cref="RocksDbStore"/> uses, and
/// nothing more. Every char** errptr is passed as a pointer to a zeroed local; a non-null result
/// is a malloc'd message that <see cref="ThrowIfError"/> copies and frees.
/// </summary>
/// <remarks>
/// The library is imported by its versioned file name, which the loader finds through the
/// dynamic linker's cache: Debian's runtime package ships only <c>librocksdb.so.7.8</c>, and the
/// unversioned <c>librocksdb.so</c> comes with the -dev package. Naming the file directly needs no
/// DllImportResolver, whose one slot per assembly stays free for other code in Keel.Node.
/// </remarks>
internal static unsafe partial class RocksDbNative
{
    public const string LibraryFileName = "librocksdb.so.7.8";

    /// <summary>The Debian package that installs <see cref="LibraryFileName"/>; named in the error when it is missing.</summary>
    public const string DebianPackage = "librocksdb7.8";

    /// <summary>rocksdb_options_set_compression values (CompressionType).</summary>
    public const int NoCompression = 0;
    public const int Lz4Compression = 4;

    private static readonly Lazy<Exception?> LoadFailure = new(() => ProbeLibrary(LibraryFileName), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Throws <see cref="RocksDbNotInstalledException"/> unless the library loads; cheap after the first call.</summary>
    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure)
        {
            throw failure as RocksDbNotInstalledException ?? new RocksDbNotInstalledException(LibraryFileName, DebianPackage, failure);
        }
    }

    /// <summary>Null when <paramref name="fileName"/> loads; otherwise the typed error to raise (separate so a test can probe a missing name).</summary>
    internal static RocksDbNotInstalledException? ProbeLibrary(string fileName)
    {
        return NativeLibrary.TryLoad(fileName, typeof(RocksDbNative).Assembly, null, out _)
            ? null
            : new RocksDbNotInstalledException(fileName, DebianPackage, null);
    }

    public static void ThrowIfError(nint error, string operation)
    {
        if (error != 0)
        {
            var message = Marshal.PtrToStringUTF8(error) ?? "(no message)";
            rocksdb_free(error);
            throw new RocksDbException(operation, message);
        }
    }

    // Options (short-lived: built, used by open, destroyed).
    [LibraryImport(LibraryFileName)] public static partial nint rocksdb_options_create();
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_options_destroy(nint options);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_options_set_create_if_missing(nint options, byte value);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_options_set_create_missing_column_families(nint options, byte value);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_options_increase_parallelism(nint options, int totalThreads);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_options_set_compression(nint options, int compression);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_options_set_keep_log_file_num(nint options, nuint count);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_options_set_max_log_file_size(nint options, nuint bytes);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_options_set_block_based_table_factory(nint options, nint tableOptions);
    [LibraryImport(LibraryFileName)] public static partial nint rocksdb_block_based_options_create();
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_block_based_options_destroy(nint tableOptions);

    /// <summary>Takes ownership of the policy (the table options hold it in a shared_ptr).</summary>
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_block_based_options_set_filter_policy(nint tableOptions, nint policy);
    [LibraryImport(LibraryFileName)] public static partial nint rocksdb_filterpolicy_create_bloom_full(double bitsPerKey);

    /// <summary>The table options keep their own reference (a shared_ptr) to the cache: destroy ours after setting it.</summary>
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_block_based_options_set_block_cache(nint tableOptions, nint cache);
    [LibraryImport(LibraryFileName)] public static partial nint rocksdb_cache_create_lru(nuint capacityBytes);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_cache_destroy(nint cache);

    // Database and column families.
    [LibraryImport(LibraryFileName)]
    public static partial nint rocksdb_open_column_families(nint options, byte* name, int count, byte** names, nint* familyOptions, nint* handles, nint* errptr);

    [LibraryImport(LibraryFileName)] public static partial byte** rocksdb_list_column_families(nint options, byte* name, nuint* count, nint* errptr);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_list_column_families_destroy(byte** list, nuint count);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_close(nint db);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_column_family_handle_destroy(nint handle);
    [LibraryImport(LibraryFileName)] public static partial int rocksdb_property_int_cf(DatabaseHandle db, ColumnFamilyHandle family, byte* property, ulong* value);

    // Reads and writes.
    [LibraryImport(LibraryFileName)] public static partial nint rocksdb_writeoptions_create();
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_writeoptions_destroy(nint options);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_writeoptions_set_sync(nint options, byte value);
    [LibraryImport(LibraryFileName)] public static partial nint rocksdb_readoptions_create();
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_readoptions_destroy(nint options);

    /// <summary>Keeps the pointer, not a copy: the bound's memory must outlive the iterator.</summary>
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_readoptions_set_iterate_upper_bound(nint options, byte* key, nuint length);

    [LibraryImport(LibraryFileName)]
    public static partial void rocksdb_put_cf(DatabaseHandle db, WriteOptionsHandle options, ColumnFamilyHandle family, byte* key, nuint keyLength, byte* value, nuint valueLength, nint* errptr);

    [LibraryImport(LibraryFileName)]
    public static partial void rocksdb_delete_cf(DatabaseHandle db, WriteOptionsHandle options, ColumnFamilyHandle family, byte* key, nuint keyLength, nint* errptr);

    /// <summary>
    /// Returns a pinned slice (the value stays in the block cache or memtable, no copy) to read with
    /// rocksdb_pinnableslice_value and release with rocksdb_pinnableslice_destroy; null when absent.
    /// </summary>
    [LibraryImport(LibraryFileName)]
    public static partial nint rocksdb_get_pinned_cf(DatabaseHandle db, ReadOptionsHandle options, ColumnFamilyHandle family, byte* key, nuint keyLength, nint* errptr);

    [LibraryImport(LibraryFileName)] public static partial byte* rocksdb_pinnableslice_value(nint slice, nuint* length);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_pinnableslice_destroy(nint slice);

    [LibraryImport(LibraryFileName)] public static partial void rocksdb_free(nint pointer);

    // Write batches.
    [LibraryImport(LibraryFileName)] public static partial nint rocksdb_writebatch_create();
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_writebatch_destroy(nint batch);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_writebatch_clear(WriteBatchHandle batch);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_writebatch_put_cf(WriteBatchHandle batch, ColumnFamilyHandle family, byte* key, nuint keyLength, byte* value, nuint valueLength);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_writebatch_delete_cf(WriteBatchHandle batch, ColumnFamilyHandle family, byte* key, nuint keyLength);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_write(DatabaseHandle db, WriteOptionsHandle options, WriteBatchHandle batch, nint* errptr);

    // Iterators: called with the raw pointer from the cursor that owns it (single-threaded by contract).
    [LibraryImport(LibraryFileName)] public static partial nint rocksdb_create_iterator_cf(DatabaseHandle db, ReadOptionsHandle options, ColumnFamilyHandle family);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_iter_destroy(nint iterator);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_iter_seek_to_first(nint iterator);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_iter_seek(nint iterator, byte* key, nuint keyLength);
    [LibraryImport(LibraryFileName)] public static partial byte rocksdb_iter_valid(nint iterator);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_iter_next(nint iterator);
    [LibraryImport(LibraryFileName)] public static partial byte* rocksdb_iter_key(nint iterator, nuint* length);
    [LibraryImport(LibraryFileName)] public static partial byte* rocksdb_iter_value(nint iterator, nuint* length);
    [LibraryImport(LibraryFileName)] public static partial void rocksdb_iter_get_error(nint iterator, nint* errptr);
}
