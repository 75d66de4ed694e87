using Keel.Core.Storage;

namespace Keel.Node.Storage;

/// <summary>RocksDB reported an error (its status text is in the message): I/O, corruption, a locked directory.</summary>
public sealed class RocksDbException(string operation, string rocksDbMessage)
    : StorageException($"RocksDB {operation} failed: {rocksDbMessage}")
{
    public string Operation { get; } = operation;

    public string RocksDbMessage { get; } = rocksDbMessage;
}

/// <summary>The RocksDB shared library is not installed; the message names the package that provides it.</summary>
public sealed class RocksDbNotInstalledException(string libraryFileName, string debianPackage, Exception? inner)
    : StorageException(
        $"the RocksDB library '{libraryFileName}' could not be loaded: install the Debian package '{debianPackage}' (apt-get install {debianPackage}), or run devnet/setup.sh",
        inner ?? new DllNotFoundException(libraryFileName))
{
    public string DebianPackage { get; } = debianPackage;
}
