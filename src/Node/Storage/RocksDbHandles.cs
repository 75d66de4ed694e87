using System.Runtime.InteropServices;
using static Keel.Node.Storage.RocksDbNative;

namespace Keel.Node.Storage;

// SafeHandles for every long-lived RocksDB object. P/Invoke add-refs a SafeHandle for the length
// of each call, so disposing the store while another thread is inside RocksDB defers the close
// until that call returns instead of freeing memory under it. Objects that must die before the
// database (column family handles, iterators) hold a reference on the database handle, so
// rocksdb_close always runs last, whatever order the finalizer or Dispose calls come in.

internal abstract class RocksDbSafeHandle : SafeHandle
{
    protected RocksDbSafeHandle(nint pointer) : base(0, ownsHandle: true)
    {
        if (pointer == 0)
        {
            throw new RocksDbException("create", "RocksDB returned a null object");
        }
        SetHandle(pointer);
    }

    public override bool IsInvalid => handle == 0;
}

internal sealed class DatabaseHandle(nint pointer) : RocksDbSafeHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        rocksdb_close(handle);
        return true;
    }
}

/// <summary>
/// A handle that keeps the database open until it is released itself. The caller add-refs the
/// database BEFORE creating the native object (so a concurrent Dispose cannot close the database
/// between creation and wrapping) and the new handle takes over that reference.
/// </summary>
internal abstract class DatabaseChildHandle : RocksDbSafeHandle
{
    private readonly DatabaseHandle _database;

    protected DatabaseChildHandle(nint pointer, DatabaseHandle addRefedDatabase) : base(pointer)
    {
        _database = addRefedDatabase;
    }

    protected sealed override bool ReleaseHandle()
    {
        try
        {
            Destroy(handle);
        }
        finally
        {
            _database.DangerousRelease();
        }
        return true;
    }

    protected abstract void Destroy(nint pointer);
}

internal sealed class ColumnFamilyHandle(nint pointer, DatabaseHandle database) : DatabaseChildHandle(pointer, database)
{
    protected override void Destroy(nint pointer) => rocksdb_column_family_handle_destroy(pointer);
}

/// <summary>An iterator with what it borrows: its read options and the native copy of its upper bound, freed after it.</summary>
internal sealed unsafe class IteratorHandle : DatabaseChildHandle
{
    private readonly ReadOptionsHandle _options;
    private readonly byte* _upperBound;

    public IteratorHandle(nint pointer, DatabaseHandle database, ReadOptionsHandle options, byte* upperBound) : base(pointer, database)
    {
        _options = options;
        _upperBound = upperBound;
    }

    protected override void Destroy(nint pointer)
    {
        rocksdb_iter_destroy(pointer);
        _options.Dispose();
        if (_upperBound is not null)
        {
            NativeMemory.Free(_upperBound);
        }
    }
}

internal sealed class WriteOptionsHandle(nint pointer) : RocksDbSafeHandle(pointer)
{
    public static WriteOptionsHandle Create(bool sync)
    {
        var handle = new WriteOptionsHandle(rocksdb_writeoptions_create());
        rocksdb_writeoptions_set_sync(handle.DangerousGetHandle(), sync ? (byte)1 : (byte)0);
        return handle;
    }

    protected override bool ReleaseHandle()
    {
        rocksdb_writeoptions_destroy(handle);
        return true;
    }
}

internal sealed class ReadOptionsHandle(nint pointer) : RocksDbSafeHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        rocksdb_readoptions_destroy(handle);
        return true;
    }
}

internal sealed class WriteBatchHandle(nint pointer) : RocksDbSafeHandle(pointer)
{
    protected override bool ReleaseHandle()
    {
        rocksdb_writebatch_destroy(handle);
        return true;
    }
}
