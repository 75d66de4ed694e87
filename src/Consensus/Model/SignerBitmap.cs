namespace Keel.Consensus.Model;

/// <summary>Bit i (byte i/8, bit i%8, least significant first) set when validator i signed.</summary>
public static class SignerBitmap
{
    public static int ByteLength(int validators) => (validators + 7) / 8;

    public static bool IsSet(ReadOnlySpan<byte> bitmap, int index) =>
        index >= 0 && index / 8 < bitmap.Length && (bitmap[index / 8] & (1 << (index % 8))) != 0;

    public static void Set(Span<byte> bitmap, int index) => bitmap[index / 8] |= (byte)(1 << (index % 8));

    public static int Count(ReadOnlySpan<byte> bitmap)
    {
        var count = 0;
        foreach (var b in bitmap)
        {
            count += System.Numerics.BitOperations.PopCount(b);
        }
        return count;
    }

    /// <summary>Indices of the set bits, ascending.</summary>
    public static IEnumerable<int> Indices(byte[] bitmap)
    {
        for (var i = 0; i < bitmap.Length * 8; i++)
        {
            if ((bitmap[i / 8] & (1 << (i % 8))) != 0)
            {
                yield return i;
            }
        }
    }
}
