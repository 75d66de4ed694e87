namespace Keel.Core;

/// <summary>
/// A native library Keel needs is not installed. The message names the Debian package that
/// provides it, so that an operator knows what to install (devnet/setup.sh installs them all).
/// </summary>
public sealed class NativeLibraryMissingException(string fileName, string debianPackage, string? detail = null)
    : Exception($"native library {fileName} could not be loaded{(detail is null ? "" : $" ({detail})")}: install the Debian package {debianPackage} (apt-get install {debianPackage}) or run devnet/setup.sh")
{
    public string FileName { get; } = fileName;
    public string DebianPackage { get; } = debianPackage;
}
