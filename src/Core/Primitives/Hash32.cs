namespace Keel.Core;

/// <summary>A 32-byte hash (Keccak-256 output, a block or transaction hash). Immutable.</summary>
public readonly struct Hash32 : IEquatable<Hash32>, IComparable<Hash32>
{
    public const int Size = 32;

    private static readonly byte[] ZeroBytes = new byte[Size];
    private readonly byte[]? _bytes;

    private Hash32(byte[] bytes) => _bytes = bytes;

    public static Hash32 Zero => default;

    /// <summary>The 32 bytes; default(Hash32) reads as all zeros.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes ?? ZeroBytes;

    public static Hash32 FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a hash has {Size} bytes, got {bytes.Length}", nameof(bytes));
        }
        return new Hash32(bytes.ToArray());
    }

    public byte[] ToArray() => Bytes.ToArray();

    /// <summary>Parses 64 hex digits, 0x optional.</summary>
    /// <exception cref="HexFormatException">not exactly 32 bytes of hex</exception>
    public static Hash32 Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var bytes = new byte[Size];
        Hex.Decode(hex.AsSpan(), bytes);
        return new Hash32(bytes);
    }

    public static bool TryParse(string? hex, out Hash32 hash)
    {
        hash = default;
        if (hex is null || !Hex.TryDecode(hex, out var bytes) || bytes.Length != Size)
        {
            return false;
        }
        hash = new Hash32(bytes);
        return true;
    }

    public bool IsZero => Bytes.IndexOfAnyExcept((byte)0) < 0;

    public bool Equals(Hash32 other) => Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is Hash32 other && Equals(other);

    public override int GetHashCode() => BitConverter.ToInt32(Bytes[..4]);

    public int CompareTo(Hash32 other) => Bytes.SequenceCompareTo(other.Bytes);

    public override string ToString() => Hex.Encode(Bytes);

    public static bool operator ==(Hash32 left, Hash32 right) => left.Equals(right);

    public static bool operator !=(Hash32 left, Hash32 right) => !left.Equals(right);
}
