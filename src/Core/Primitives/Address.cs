using Keel.Core.Crypto;

namespace Keel.Core;

/// <summary>A 20-byte Ethereum account address. Prints EIP-55 checksummed. Immutable.</summary>
public readonly struct Address : IEquatable<Address>, IComparable<Address>
{
    public const int Size = 20;

    private static readonly byte[] ZeroBytes = new byte[Size];
    private readonly byte[]? _bytes;

    private Address(byte[] bytes) => _bytes = bytes;

    public static Address Zero => default;

    /// <summary>The 20 bytes; default(Address) reads as the zero address.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes ?? ZeroBytes;

    public static Address FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"an address has {Size} bytes, got {bytes.Length}", nameof(bytes));
        }
        return new Address(bytes.ToArray());
    }

    public byte[] ToArray() => Bytes.ToArray();

    public bool IsZero => Bytes.IndexOfAnyExcept((byte)0) < 0;

    /// <summary>
    /// The address of a secp256k1 public key: the last 20 bytes of Keccak-256 over X‖Y. Takes the
    /// 65-byte uncompressed form (0x04‖X‖Y) or the bare 64 bytes X‖Y.
    /// </summary>
    public static Address FromPublicKey(ReadOnlySpan<byte> publicKey)
    {
        var xy = publicKey.Length switch
        {
            65 when publicKey[0] == 0x04 => publicKey[1..],
            64 => publicKey,
            65 => throw new ArgumentException("a 65-byte public key starts with 0x04", nameof(publicKey)),
            _ => throw new ArgumentException($"an uncompressed public key has 64 or 65 bytes, got {publicKey.Length}", nameof(publicKey)),
        };
        Span<byte> hash = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(xy, hash);
        return new Address(hash[12..].ToArray());
    }

    /// <summary>
    /// Parses 40 hex digits (0x optional). All-lowercase and all-uppercase digits are taken as
    /// they are; mixed case must carry a correct EIP-55 checksum, since mixed case means someone
    /// meant a checksum and a wrong one is most likely a typo.
    /// </summary>
    /// <exception cref="AddressFormatException">wrong length, not hex, or a wrong checksum</exception>
    public static Address Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParseCore(text, out var address, out var error) ? address : throw new AddressFormatException(error!);
    }

    public static bool TryParse(string? text, out Address address)
    {
        address = default;
        return text is not null && TryParseCore(text, out address, out _);
    }

    private static bool TryParseCore(string text, out Address address, out string? error)
    {
        address = default;
        var digits = Hex.StripPrefix(text.AsSpan());
        if (digits.Length != Size * 2)
        {
            error = $"an address has {Size * 2} hex digits, got {digits.Length}";
            return false;
        }
        bool hasUpper = false, hasLower = false;
        foreach (var c in digits)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                error = $"'{(char.IsControl(c) ? '?' : c)}' is not a hex digit";
                return false;
            }
            hasUpper |= c is >= 'A' and <= 'F';
            hasLower |= c is >= 'a' and <= 'f';
        }
        var bytes = new byte[Size];
        Hex.Decode(digits, bytes);
        var candidate = new Address(bytes);
        if (hasUpper && hasLower && !candidate.ToString().AsSpan(2).SequenceEqual(digits))
        {
            error = $"address 0x{digits} has a wrong EIP-55 checksum (expected {candidate})";
            return false;
        }
        address = candidate;
        error = null;
        return true;
    }

    /// <summary>EIP-55: a letter is upper case where the matching nibble of keccak(lowercase hex) is 8 or more.</summary>
    public override string ToString()
    {
        Span<byte> lower = stackalloc byte[Size * 2];
        var bytes = Bytes;
        for (var i = 0; i < Size; i++)
        {
            lower[2 * i] = (byte)"0123456789abcdef"[bytes[i] >> 4];
            lower[2 * i + 1] = (byte)"0123456789abcdef"[bytes[i] & 0xF];
        }
        Span<byte> hash = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(lower, hash);
        Span<char> text = stackalloc char[2 + Size * 2];
        text[0] = '0';
        text[1] = 'x';
        for (var i = 0; i < Size * 2; i++)
        {
            var c = (char)lower[i];
            var nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xF;
            text[2 + i] = c >= 'a' && nibble >= 8 ? char.ToUpperInvariant(c) : c;
        }
        return new string(text);
    }

    /// <summary>Lowercase hex with 0x, for places (JSON-RPC logs, keys of maps) that want no checksum.</summary>
    public string ToLowerHex() => Hex.Encode(Bytes);

    public bool Equals(Address other) => Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is Address other && Equals(other);

    public override int GetHashCode() => BitConverter.ToInt32(Bytes[..4]) ^ BitConverter.ToInt32(Bytes[16..]);

    public int CompareTo(Address other) => Bytes.SequenceCompareTo(other.Bytes);

    public static bool operator ==(Address left, Address right) => left.Equals(right);

    public static bool operator !=(Address left, Address right) => !left.Equals(right);
}

/// <summary>Text that is not an address: wrong length, not hex, or a wrong EIP-55 checksum.</summary>
public sealed class AddressFormatException(string message) : HexFormatException(message);
