namespace Keel.Core;

/// <summary>Hex text as Ethereum tools write it: lowercase, optionally 0x-prefixed.</summary>
public static class Hex
{
    public static string Encode(ReadOnlySpan<byte> bytes, bool prefix = true)
    {
        var hex = Convert.ToHexStringLower(bytes);
        return prefix ? "0x" + hex : hex;
    }

    /// <summary>Decodes hex with or without 0x; upper and lower case digits are both accepted.</summary>
    /// <exception cref="HexFormatException">odd length or a character that is not a hex digit</exception>
    public static byte[] Decode(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var digits = StripPrefix(hex.AsSpan());
        if (digits.Length % 2 != 0)
        {
            throw new HexFormatException($"hex has an odd number of digits ({digits.Length})");
        }
        var bytes = new byte[digits.Length / 2];
        Decode(digits, bytes);
        return bytes;
    }

    /// <summary>Decodes exactly <c>output.Length</c> bytes of hex (0x optional) into output.</summary>
    public static void Decode(ReadOnlySpan<char> hex, Span<byte> output)
    {
        var digits = StripPrefix(hex);
        if (digits.Length != output.Length * 2)
        {
            throw new HexFormatException($"expected {output.Length * 2} hex digits, got {digits.Length}");
        }
        for (var i = 0; i < output.Length; i++)
        {
            var hi = Nibble(digits[2 * i], 2 * i);
            var lo = Nibble(digits[2 * i + 1], 2 * i + 1);
            output[i] = (byte)((hi << 4) | lo);
        }
    }

    public static bool TryDecode(string? hex, out byte[] bytes)
    {
        bytes = [];
        if (hex is null)
        {
            return false;
        }
        var digits = StripPrefix(hex.AsSpan());
        if (digits.Length % 2 != 0)
        {
            return false;
        }
        foreach (var c in digits)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        bytes = Decode(hex);
        return true;
    }

    internal static ReadOnlySpan<char> StripPrefix(ReadOnlySpan<char> hex) =>
        hex.Length >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X') ? hex[2..] : hex;

    private static int Nibble(char c, int position) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => throw new HexFormatException($"'{(char.IsControl(c) ? '?' : c)}' at digit {position} is not a hex digit"),
    };
}

/// <summary>Text that is not valid hex (odd length, a non-hex character, the wrong length).</summary>
public class HexFormatException(string message) : FormatException(message);
