namespace Keel.Core.Storage;

/// <summary>Base of every error a key-value store raises; callers catch this one type.</summary>
public class StorageException : Exception
{
    public StorageException(string message) : base(message)
    {
    }

    public StorageException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>A column family was asked for that the store did not open.</summary>
public sealed class UnknownColumnFamilyException(string name, IReadOnlyList<string> open)
    : StorageException($"unknown column family '{name}'; open: {string.Join(", ", open)}")
{
    public string Name { get; } = name;
}

/// <summary>A key, value, batch or name outside <see cref="StorageLimits"/>, or an object from another store.</summary>
public sealed class InvalidStorageArgumentException(string message) : StorageException(message);

/// <summary>The store was closed (disposed, or crashed in a simulation) before this call.</summary>
public sealed class StoreClosedException(string message) : StorageException(message);
