using System.Buffers;
using System.Numerics;
using System.Text.Json;

namespace Keel.Node.Rpc;

/// <summary>
/// The two hex encodings of the Ethereum JSON-RPC (the spec's QUANTITY and DATA), written straight
/// into a <see cref="Utf8JsonWriter"/> or parsed from a parameter without intermediate strings.
/// QUANTITY: "0x" + lowercase hex, no leading zeros, zero is "0x0". DATA: "0x" + two hex digits per
/// byte. Parsing is as strict as geth's (a client that sends "0x01" or "12" has a bug worth seeing).
/// </summary>
public static class RpcHex
{
    /// <summary>"0x" and 64 digits: the longest QUANTITY (256 bits).</summary>
    public const int MaxQuantityChars = 66;

    /// <summary>Above this a DATA value is formatted in a pooled buffer instead of on the stack.</summary>
    private const int StackFormatLimitBytes = 512;

    private static ReadOnlySpan<byte> Digits => "0123456789abcdef"u8;

    // ---- encoding -------------------------------------------------------------------------------

    /// <summary>Writes a QUANTITY into <paramref name="destination"/> (at least 18 bytes); returns the length.</summary>
    public static int FormatQuantity(ulong value, Span<byte> destination)
    {
        destination[0] = (byte)'0';
        destination[1] = (byte)'x';
        if (value == 0)
        {
            destination[2] = (byte)'0';
            return 3;
        }
        var nibbles = (67 - BitOperations.LeadingZeroCount(value)) / 4;
        for (var i = nibbles + 1; i >= 2; i--)
        {
            destination[i] = Digits[(int)(value & 0xF)];
            value >>= 4;
        }
        return nibbles + 2;
    }

    public static string EncodeQuantity(ulong value)
    {
        Span<byte> buffer = stackalloc byte[18];
        var n = FormatQuantity(value, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    /// <summary>A QUANTITY from big-endian unsigned bytes of any length (U256 balances, hashes as numbers).</summary>
    public static string EncodeQuantity(ReadOnlySpan<byte> bigEndian)
    {
        Span<byte> buffer = stackalloc byte[2 + 2 * 64];
        if (bigEndian.Length > 64)
        {
            throw new ArgumentException($"a quantity of {bigEndian.Length} bytes is longer than 64", nameof(bigEndian));
        }
        var n = FormatQuantity(bigEndian, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    public static string EncodeQuantity(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "a quantity is never negative");
        }
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        return EncodeQuantity(bytes);
    }

    /// <summary>Formats big-endian unsigned bytes as a QUANTITY; destination needs 2 + 2 * length bytes (3 at least).</summary>
    public static int FormatQuantity(ReadOnlySpan<byte> bigEndian, Span<byte> destination)
    {
        var start = 0;
        while (start < bigEndian.Length && bigEndian[start] == 0)
        {
            start++;
        }
        destination[0] = (byte)'0';
        destination[1] = (byte)'x';
        if (start == bigEndian.Length)
        {
            destination[2] = (byte)'0';
            return 3;
        }
        var pos = 2;
        var first = bigEndian[start];
        if (first >= 0x10)
        {
            destination[pos++] = Digits[first >> 4];
        }
        destination[pos++] = Digits[first & 0xF];
        for (var i = start + 1; i < bigEndian.Length; i++)
        {
            destination[pos++] = Digits[bigEndian[i] >> 4];
            destination[pos++] = Digits[bigEndian[i] & 0xF];
        }
        return pos;
    }

    /// <summary>Formats DATA; destination needs 2 + 2 * data.Length bytes.</summary>
    public static int FormatData(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        destination[0] = (byte)'0';
        destination[1] = (byte)'x';
        var pos = 2;
        foreach (var b in data)
        {
            destination[pos++] = Digits[b >> 4];
            destination[pos++] = Digits[b & 0xF];
        }
        return pos;
    }

    public static string EncodeData(ReadOnlySpan<byte> data) => "0x" + Convert.ToHexStringLower(data);

    public static void WriteQuantity(Utf8JsonWriter writer, ulong value)
    {
        Span<byte> buffer = stackalloc byte[18];
        writer.WriteStringValue(buffer[..FormatQuantity(value, buffer)]);
    }

    public static void WriteQuantity(Utf8JsonWriter writer, ReadOnlySpan<byte> bigEndian)
    {
        if (bigEndian.Length > 64)
        {
            throw new ArgumentException($"a quantity of {bigEndian.Length} bytes is longer than 64", nameof(bigEndian));
        }
        Span<byte> buffer = stackalloc byte[2 + 2 * 64];
        writer.WriteStringValue(buffer[..FormatQuantity(bigEndian, buffer)]);
    }

    public static void WriteData(Utf8JsonWriter writer, ReadOnlySpan<byte> data)
    {
        var length = 2 + 2 * data.Length;
        if (data.Length <= StackFormatLimitBytes)
        {
            Span<byte> buffer = stackalloc byte[2 + 2 * StackFormatLimitBytes];
            FormatData(data, buffer);
            // Hex digits never need escaping; skipping the escaper check matters for large DATA.
            writer.WriteStringValue(buffer[..length]);
            return;
        }
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            FormatData(data, rented);
            writer.WriteStringValue(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // ---- decoding -------------------------------------------------------------------------------

    /// <summary>
    /// Parses a QUANTITY of at most 64 bits. On failure <paramref name="error"/> says why in words a
    /// client developer can act on.
    /// </summary>
    public static bool TryParseQuantity(ReadOnlySpan<char> text, out ulong value, out string? error)
    {
        value = 0;
        if (!TryQuantityDigits(text, out var digits, out error))
        {
            return false;
        }
        if (digits.Length > 16)
        {
            error = "hex number > 64 bits";
            return false;
        }
        foreach (var c in digits)
        {
            value = (value << 4) | (uint)HexValue(c);
        }
        return true;
    }

    /// <summary>Parses a QUANTITY of at most <paramref name="maxBits"/> bits (256 for wei amounts).</summary>
    public static bool TryParseQuantity(ReadOnlySpan<char> text, int maxBits, out BigInteger value, out string? error)
    {
        value = BigInteger.Zero;
        if (!TryQuantityDigits(text, out var digits, out error))
        {
            return false;
        }
        if (digits.Length * 4 > maxBits)
        {
            error = $"hex number > {maxBits} bits";
            return false;
        }
        Span<byte> bytes = stackalloc byte[(digits.Length + 1) / 2];
        var odd = digits.Length % 2;
        for (var i = 0; i < digits.Length; i++)
        {
            var pos = (i + odd) / 2;
            bytes[pos] = (byte)((bytes[pos] << 4) | HexValue(digits[i]));
        }
        value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        return true;
    }

    private static bool TryQuantityDigits(ReadOnlySpan<char> text, out ReadOnlySpan<char> digits, out string? error)
    {
        digits = default;
        if (text.Length < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        {
            error = "hex string without 0x prefix";
            return false;
        }
        digits = text[2..];
        if (digits.Length == 0)
        {
            error = "hex string \"0x\"";
            return false;
        }
        if (digits.Length > 1 && digits[0] == '0')
        {
            error = "hex number with leading zero digits";
            return false;
        }
        foreach (var c in digits)
        {
            if (HexValue(c) < 0)
            {
                error = "invalid hex string";
                return false;
            }
        }
        error = null;
        return true;
    }

    /// <summary>
    /// Parses DATA; <paramref name="exactBytes"/> (20 for an address, 32 for a hash) or -1 for any
    /// length up to <paramref name="maxBytes"/>.
    /// </summary>
    public static bool TryParseData(ReadOnlySpan<char> text, int exactBytes, int maxBytes, out byte[] value, out string? error)
    {
        value = [];
        if (text.Length < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        {
            error = "hex string without 0x prefix";
            return false;
        }
        var digits = text[2..];
        if (digits.Length % 2 != 0)
        {
            error = "hex string of odd length";
            return false;
        }
        var length = digits.Length / 2;
        if (exactBytes >= 0 && length != exactBytes)
        {
            error = $"hex string has length {digits.Length}, want {2 * exactBytes} for {exactBytes} bytes";
            return false;
        }
        if (length > maxBytes)
        {
            error = $"hex data of {length} bytes is longer than the limit of {maxBytes}";
            return false;
        }
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            var hi = HexValue(digits[2 * i]);
            var lo = HexValue(digits[2 * i + 1]);
            if (hi < 0 || lo < 0)
            {
                error = "invalid hex string";
                return false;
            }
            bytes[i] = (byte)((hi << 4) | lo);
        }
        value = bytes;
        error = null;
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
