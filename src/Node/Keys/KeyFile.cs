using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Node.Keys;

/// <summary>A key file that cannot be read, is malformed, or cannot be written.</summary>
public sealed class KeyFileException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A node's key file: JSON <c>{"version":1,"secp256k1":"0x&lt;32-byte private key&gt;"}</c>.
/// Readers ignore fields they do not know and writers keep them, so that other keys (the p2p
/// node key) can live in the same file without this code knowing them. Written atomically and
/// created with mode 0600: the key is never readable by others, not even for an instant.
/// </summary>
public sealed class KeyFile
{
    public const int CurrentVersion = 1;
    public const string Secp256k1Field = "secp256k1";

    /// <summary>Largest key file read; a real one is about 100 bytes.</summary>
    public const int MaxFileBytes = 64 * 1024;

    private readonly byte[] _secp256k1PrivateKey;

    public KeyFile(ReadOnlySpan<byte> secp256k1PrivateKey, JsonObject? otherFields = null)
    {
        if (!Secp256k1.IsValidPrivateKey(secp256k1PrivateKey))
        {
            throw new KeyFileException(secp256k1PrivateKey.Length != Secp256k1.PrivateKeySize
                ? $"a secp256k1 private key has {Secp256k1.PrivateKeySize} bytes, got {secp256k1PrivateKey.Length}"
                : "not a valid secp256k1 private key (zero or not below the group order)");
        }
        _secp256k1PrivateKey = secp256k1PrivateKey.ToArray();
        OtherFields = otherFields ?? [];
    }

    public ReadOnlySpan<byte> Secp256k1PrivateKey => _secp256k1PrivateKey;

    /// <summary>Fields other than version and secp256k1, kept as they were read.</summary>
    public JsonObject OtherFields { get; }

    public byte[] Secp256k1PublicKey(bool compressed = false) => Secp256k1.GetPublicKey(_secp256k1PrivateKey, compressed);

    public Address Address => Address.FromPublicKey(Secp256k1PublicKey());

    public static KeyFile Generate() => new(Secp256k1.CreatePrivateKey());

    /// <summary>Parses a private key given as hex (0x optional).</summary>
    /// <exception cref="KeyFileException">not hex, the wrong length, or not a valid key</exception>
    public static KeyFile FromPrivateKeyHex(string hex)
    {
        byte[] key;
        try
        {
            key = Hex.Decode(hex.Trim());
        }
        catch (HexFormatException e)
        {
            throw new KeyFileException($"private key is not hex: {e.Message}", e);
        }
        try
        {
            return new KeyFile(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <exception cref="KeyFileException">missing, unreadable, not JSON, an unknown version, or a bad key</exception>
    public static KeyFile Load(string path)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new KeyFileException($"key file {path} does not exist");
            }
            if (info.Length > MaxFileBytes)
            {
                throw new KeyFileException($"key file {path} is {info.Length} bytes, more than {MaxFileBytes}: not a key file");
            }
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyFileException($"cannot read key file {path}: {e.Message}", e);
        }
        return Parse(text, path);
    }

    public static KeyFile Parse(string json, string source = "key file")
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new KeyFileException($"{source}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new KeyFileException($"{source}: not valid JSON ({e.Message})", e);
        }
        var version = root["version"] is JsonValue v && v.TryGetValue<int>(out var number) ? number : (int?)null;
        if (version != CurrentVersion)
        {
            throw new KeyFileException($"{source}: unsupported key file version {(version?.ToString() ?? "(missing)")}, expected {CurrentVersion}");
        }
        if (root[Secp256k1Field] is not JsonValue keyValue || !keyValue.TryGetValue<string>(out var keyHex))
        {
            throw new KeyFileException($"{source}: no \"{Secp256k1Field}\" private key");
        }
        var others = new JsonObject();
        foreach (var (name, value) in root)
        {
            if (name != "version" && name != Secp256k1Field)
            {
                others[name] = value?.DeepClone();
            }
        }
        try
        {
            var key = FromPrivateKeyHex(keyHex);
            return new KeyFile(key.Secp256k1PrivateKey, others);
        }
        catch (KeyFileException e)
        {
            throw new KeyFileException($"{source}: {e.Message}", e);
        }
    }

    public string ToJson()
    {
        var root = new JsonObject
        {
            ["version"] = CurrentVersion,
            [Secp256k1Field] = Hex.Encode(_secp256k1PrivateKey),
        };
        foreach (var (name, value) in OtherFields)
        {
            root[name] = value?.DeepClone();
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>
    /// Writes the file atomically: a temporary file created with mode 0600 in the same directory,
    /// flushed to disk, then renamed over the target. Without <paramref name="overwrite"/> an
    /// existing file is never replaced.
    /// </summary>
    /// <exception cref="KeyFileException">the file exists (without overwrite) or cannot be written</exception>
    public void Save(string path, bool overwrite = false)
    {
        var full = Path.GetFullPath(path);
        if (!overwrite && (File.Exists(full) || Directory.Exists(full)))
        {
            throw new KeyFileException($"{path} already exists; refusing to overwrite a key file (use --force)");
        }
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            throw new KeyFileException($"directory {directory} does not exist");
        }
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(ToJson()));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new KeyFileException(File.Exists(full) && !overwrite
                ? $"{path} already exists; refusing to overwrite a key file (use --force)"
                : $"cannot write key file {path}: {e.Message}", e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary file is ours and harmless (mode 0600); the write error is what matters.
        }
    }
}
