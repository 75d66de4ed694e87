namespace Keel.Core.Ethereum;

/// <summary>
/// A decoded RLP tree, for tools, tests and structures without a dedicated reader. Hot paths
/// use <see cref="RlpReader"/> directly, which does not allocate per item.
/// </summary>
public abstract record RlpItem
{
    /// <summary>Deepest nesting <see cref="Decode"/> accepts, so that hostile input cannot exhaust the stack.</summary>
    public const int MaxDepth = 64;

    public sealed record Bytes(byte[] Value) : RlpItem
    {
        public bool Equals(Bytes? other) => other is not null && Value.AsSpan().SequenceEqual(other.Value);
        public override int GetHashCode() => Value.Length;
    }

    public sealed record List(IReadOnlyList<RlpItem> Items) : RlpItem
    {
        public bool Equals(List? other) => other is not null && Items.SequenceEqual(other.Items);
        public override int GetHashCode() => Items.Count;
    }

    /// <summary>Decodes exactly one item that spans the whole input.</summary>
    /// <exception cref="RlpException">not canonical RLP, trailing bytes, or nested deeper than <see cref="MaxDepth"/></exception>
    public static RlpItem Decode(ReadOnlySpan<byte> rlp)
    {
        var reader = new RlpReader(rlp);
        var item = Read(ref reader, 0);
        reader.EnsureEnd();
        return item;
    }

    public byte[] Encode()
    {
        var writer = new RlpWriter();
        Write(writer, this);
        return writer.ToArray();
    }

    private static void Write(RlpWriter writer, RlpItem item)
    {
        switch (item)
        {
            case Bytes bytes:
                writer.WriteBytes(bytes.Value);
                break;
            case List list:
                writer.StartList();
                foreach (var child in list.Items)
                {
                    Write(writer, child);
                }
                writer.EndList();
                break;
        }
    }

    private static RlpItem Read(ref RlpReader reader, int depth)
    {
        if (!reader.NextIsList)
        {
            return new Bytes(reader.ReadBytes().ToArray());
        }
        if (depth >= MaxDepth)
        {
            throw new RlpException($"lists nested deeper than {MaxDepth}", reader.Offset);
        }
        var listReader = reader.ReadList();
        var items = new List<RlpItem>();
        while (listReader.HasMore)
        {
            items.Add(Read(ref listReader, depth + 1));
        }
        return new List(items);
    }
}
