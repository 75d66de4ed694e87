using System.Text;

namespace Keel.Node.Metrics;

/// <summary>
/// One series' labels: tag keys and their values as label text, sorted by key, with the rendered
/// label block. Equality is on the label text, so tags given in another order or as another
/// numeric type (1 and 1L) land in the same series and never render as duplicates.
/// </summary>
internal sealed class TagSet
{
    public static readonly TagSet Empty = new([]);

    private readonly KeyValuePair<string, string>[] _tags;
    private readonly int _hash;

    private TagSet(KeyValuePair<string, string>[] sortedTags)
    {
        _tags = sortedTags;
        _hash = TagSetComparer.HashOf(sortedTags);
        var builder = new StringBuilder();
        foreach (var (key, value) in sortedTags)
        {
            if (builder.Length > 0)
            {
                builder.Append(',');
            }
            builder.Append(PrometheusNaming.LabelName(key)).Append("=\"").Append(PrometheusNaming.EscapeLabelValue(value)).Append('"');
        }
        Labels = builder.ToString();
    }

    /// <summary>The inside of the braces: <c>a="x",b="y"</c>; empty for no tags.</summary>
    public string Labels { get; }

    public int Count => _tags.Length;

    public static TagSet From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return Empty;
        }
        var copy = new KeyValuePair<string, string>[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            copy[i] = new(tags[i].Key, PrometheusNaming.FormatTagValue(tags[i].Value));
        }
        Array.Sort(copy, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new TagSet(copy);
    }

    /// <summary>Compares without allocating when tag values are strings (the common case).</summary>
    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != _tags.Length)
        {
            return false;
        }
        foreach (var tag in tags)
        {
            if (!TryFind(tag.Key, out var value) || !ValueEquals(tag.Value, value))
            {
                return false;
            }
        }
        return true;
    }

    public bool Equals(TagSet other) => _hash == other._hash && _tags.AsSpan().SequenceEqual(other._tags);

    public override int GetHashCode() => _hash;

    public override bool Equals(object? obj) => obj is TagSet other && Equals(other);

    private bool TryFind(string key, out string value)
    {
        foreach (var tag in _tags)
        {
            if (string.Equals(tag.Key, key, StringComparison.Ordinal))
            {
                value = tag.Value;
                return true;
            }
        }
        value = "";
        return false;
    }

    private static bool ValueEquals(object? raw, string text) =>
        raw is string s ? string.Equals(s, text, StringComparison.Ordinal) : string.Equals(PrometheusNaming.FormatTagValue(raw), text, StringComparison.Ordinal);
}

/// <summary>Lets the series map be searched with the measurement's tag span, so a hit allocates nothing.</summary>
internal sealed class TagSetComparer : IEqualityComparer<TagSet>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, TagSet>
{
    public static readonly TagSetComparer Instance = new();

    public bool Equals(TagSet? x, TagSet? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.Equals(y));

    public int GetHashCode(TagSet obj) => obj.GetHashCode();

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, TagSet other) => other.Matches(alternate);

    /// <summary>Order-independent (a sum), so the caller's tag order does not matter.</summary>
    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate)
    {
        var hash = 0;
        foreach (var tag in alternate)
        {
            var text = tag.Value as string ?? PrometheusNaming.FormatTagValue(tag.Value);
            hash += HashCode.Combine(string.GetHashCode(tag.Key, StringComparison.Ordinal), string.GetHashCode(text, StringComparison.Ordinal));
        }
        return hash;
    }

    public TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => TagSet.From(alternate);

    public static int HashOf(KeyValuePair<string, string>[] tags)
    {
        var hash = 0;
        foreach (var (key, value) in tags)
        {
            hash += HashCode.Combine(string.GetHashCode(key, StringComparison.Ordinal), string.GetHashCode(value, StringComparison.Ordinal));
        }
        return hash;
    }
}
