namespace Keel.Core.Storage;

/// <summary>Conveniences over the span-based cursor for code off the hot path (tools, tests).</summary>
public static class KeyValueStoreExtensions
{
    /// <summary>
    /// Copies the entries of a prefix into a list, at most <paramref name="maxEntries"/> of them so
    /// that a careless call cannot pull a whole family into memory.
    /// </summary>
    public static List<KeyValuePair<byte[], byte[]>> ReadPrefix(this IColumnFamily columnFamily, ReadOnlySpan<byte> prefix, int maxEntries)
    {
        using var cursor = columnFamily.IteratePrefix(prefix);
        return cursor.Drain(maxEntries);
    }

    /// <summary>Copies the entries of a range into a list, at most <paramref name="maxEntries"/>.</summary>
    public static List<KeyValuePair<byte[], byte[]>> ReadRange(this IColumnFamily columnFamily, ReadOnlySpan<byte> startInclusive, ReadOnlySpan<byte> endExclusive, int maxEntries)
    {
        using var cursor = columnFamily.IterateRange(startInclusive, endExclusive);
        return cursor.Drain(maxEntries);
    }

    private static List<KeyValuePair<byte[], byte[]>> Drain(this IKeyValueCursor cursor, int maxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        var entries = new List<KeyValuePair<byte[], byte[]>>();
        while (entries.Count < maxEntries && cursor.MoveNext())
        {
            entries.Add(new(cursor.Key.ToArray(), cursor.Value.ToArray()));
        }
        return entries;
    }
}
