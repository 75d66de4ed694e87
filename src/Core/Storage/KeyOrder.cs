namespace Keel.Core.Storage;

/// <summary>The byte order every store sorts keys by, and the helpers range iteration needs.</summary>
public static class KeyOrder
{
    /// <summary>Unsigned lexicographic comparison, the order of RocksDB's default bytewise comparator.</summary>
    public static int Compare(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) => left.SequenceCompareTo(right);

    /// <summary>
    /// The smallest key greater than every key that starts with <paramref name="prefix"/>: drop
    /// trailing 0xFF bytes and increment the last remaining byte. Empty when there is none (the
    /// prefix is empty or all 0xFF), which callers read as "unbounded".
    /// </summary>
    public static byte[] PrefixUpperBound(ReadOnlySpan<byte> prefix)
    {
        var end = prefix.Length;
        while (end > 0 && prefix[end - 1] == 0xFF)
        {
            end--;
        }
        if (end == 0)
        {
            return [];
        }
        var bound = prefix[..end].ToArray();
        bound[end - 1]++;
        return bound;
    }

    /// <summary>Checks range bounds: each is empty (unbounded) or a valid key.</summary>
    public static void CheckRange(ReadOnlySpan<byte> startInclusive, ReadOnlySpan<byte> endExclusive)
    {
        if (!startInclusive.IsEmpty)
        {
            StorageLimits.CheckKey(startInclusive);
        }
        if (!endExclusive.IsEmpty)
        {
            StorageLimits.CheckKey(endExclusive);
        }
    }

    /// <summary>Checks a prefix: empty (everything) or no longer than a key.</summary>
    public static void CheckPrefix(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length > StorageLimits.MaxKeyBytes)
        {
            throw new InvalidStorageArgumentException($"prefix of {prefix.Length} bytes exceeds {nameof(StorageLimits.MaxKeyBytes)} = {StorageLimits.MaxKeyBytes}");
        }
    }
}
