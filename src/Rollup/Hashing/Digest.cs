using System.Globalization;

namespace Keel.Rollup.Hashing;

/// <summary>
/// A Poseidon2 digest: four Goldilocks field elements (each &lt; p = 2^64 - 2^32 + 1). Text form:
/// <c>0x</c> followed by the four elements as 16 hex digits each, element 0 first.
/// </summary>
public readonly record struct Digest(ulong E0, ulong E1, ulong E2, ulong E3)
{
    public const int Elements = 4;
    public const int TextLength = 2 + Elements * 16;

    /// <summary>The Goldilocks prime.</summary>
    public const ulong FieldModulus = 0xFFFF_FFFF_0000_0001UL;

    public static Digest Zero => default;

    public ulong this[int i] => i switch
    {
        0 => E0,
        1 => E1,
        2 => E2,
        3 => E3,
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    public static Digest FromSpan(ReadOnlySpan<ulong> e) => new(e[0], e[1], e[2], e[3]);

    public void CopyTo(Span<ulong> destination)
    {
        destination[0] = E0;
        destination[1] = E1;
        destination[2] = E2;
        destination[3] = E3;
    }

    public override string ToString() =>
        string.Create(TextLength, this, static (span, d) =>
        {
            span[0] = '0';
            span[1] = 'x';
            for (int i = 0; i < Elements; i++)
                d[i].TryFormat(span.Slice(2 + 16 * i, 16), out _, "x16", CultureInfo.InvariantCulture);
        });

    /// <summary>Parses the text form; every element must be a canonical field element.</summary>
    public static bool TryParse(string? text, out Digest digest)
    {
        digest = default;
        if (text is null || text.Length != TextLength || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
            return false;
        Span<ulong> e = stackalloc ulong[Elements];
        for (int i = 0; i < Elements; i++)
        {
            if (!ulong.TryParse(text.AsSpan(2 + 16 * i, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out e[i]))
                return false;
            if (e[i] >= FieldModulus)
                return false;
        }
        digest = FromSpan(e);
        return true;
    }
}
