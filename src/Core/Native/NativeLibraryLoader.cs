using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Keel.Core.Native;

/// <summary>
/// Loads Debian's native libraries by their versioned file names (only the runtime packages are
/// installed, so the unversioned `libX.so` development symlink is usually absent) and resolves
/// Keel.Core's [LibraryImport] names to them. Only one DllImportResolver may be set per assembly,
/// so every native binding in Keel.Core registers its library here instead of setting its own.
/// </summary>
public static class NativeLibraryLoader
{
    private sealed record Entry(string FileName, string DebianPackage);

    private static readonly ConcurrentDictionary<string, Entry> Registered = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, IntPtr> Loaded = new(StringComparer.Ordinal);
    private static readonly Lock ResolverLock = new();
    private static bool _resolverSet;

    /// <summary>
    /// Makes the [LibraryImport] name <paramref name="importName"/> in Keel.Core load
    /// <paramref name="fileName"/>, and loads it now.
    /// </summary>
    /// <exception cref="NativeLibraryMissingException">the library cannot be loaded</exception>
    public static IntPtr Register(string importName, string fileName, string debianPackage)
    {
        Registered[importName] = new Entry(fileName, debianPackage);
        lock (ResolverLock)
        {
            if (!_resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);
                _resolverSet = true;
            }
        }
        return Load(fileName, debianPackage);
    }

    /// <summary>Loads a library by file name from the system's library path (once; later calls reuse the handle).</summary>
    /// <exception cref="NativeLibraryMissingException">the library cannot be loaded</exception>
    public static IntPtr Load(string fileName, string debianPackage)
    {
        if (Loaded.TryGetValue(fileName, out var handle))
        {
            return handle;
        }
        // A bare file name goes to dlopen, which searches the system library directories.
        if (!NativeLibrary.TryLoad(fileName, out handle)
            && !NativeLibrary.TryLoad(fileName, typeof(NativeLibraryLoader).Assembly, DllImportSearchPath.SafeDirectories, out handle))
        {
            throw new NativeLibraryMissingException(fileName, debianPackage);
        }
        return Loaded.GetOrAdd(fileName, handle);
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!Registered.TryGetValue(libraryName, out var entry))
        {
            return IntPtr.Zero;
        }
        return Loaded.TryGetValue(entry.FileName, out var handle)
            ? handle
            : NativeLibrary.TryLoad(entry.FileName, out handle) ? Loaded.GetOrAdd(entry.FileName, handle) : IntPtr.Zero;
    }
}
