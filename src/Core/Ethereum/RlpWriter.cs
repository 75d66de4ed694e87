using System.Buffers.Binary;

namespace Keel.Core.Ethereum;

/// <summary>
/// Writes canonical RLP. Lists are opened and closed around their items; on close the header is
/// inserted in front of the payload (the payload length is only known then), which moves the
/// payload once per list: cheap for the shallow structures Ethereum uses.
/// </summary>
public sealed class RlpWriter(int initialCapacity = 256)
{
    /// <summary>Deepest list nesting a writer accepts; Ethereum structures use 3.</summary>
    public const int MaxListDepth = 64;

    private byte[] _buffer = new byte[Math.Max(initialCapacity, 16)];
    private int _length;
    private readonly Stack<int> _openLists = new();

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _openLists.Count == 0
        ? _buffer.AsSpan(0, _length)
        : throw new InvalidOperationException($"{_openLists.Count} RLP list(s) still open");

    public byte[] ToArray() => Written.ToArray();

    public RlpWriter WriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 1 && bytes[0] < 0x80)
        {
            Reserve(1)[0] = bytes[0];
            return this;
        }
        WriteHeader(0x80, bytes.Length);
        bytes.CopyTo(Reserve(bytes.Length));
        return this;
    }

    /// <summary>An integer: minimal big-endian bytes, zero as the empty string.</summary>
    public RlpWriter WriteULong(ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return WriteBytes(bytes[(System.Numerics.BitOperations.LeadingZeroCount(value) / 8)..]);
    }

    public RlpWriter WriteUInt256(UInt256 value)
    {
        Span<byte> bytes = stackalloc byte[UInt256.Size];
        value.WriteBigEndian(bytes);
        return WriteBytes(bytes[(UInt256.Size - value.ByteLength)..]);
    }

    public RlpWriter WriteAddress(Address address) => WriteBytes(address.Bytes);

    /// <summary>An address, or the empty string for null (a contract creation's `to`).</summary>
    public RlpWriter WriteOptionalAddress(Address? address) => address is { } a ? WriteBytes(a.Bytes) : WriteBytes([]);

    public RlpWriter WriteHash(Hash32 hash) => WriteBytes(hash.Bytes);

    /// <summary>Appends an item that is already RLP (not checked).</summary>
    public RlpWriter WriteEncoded(ReadOnlySpan<byte> rlp)
    {
        rlp.CopyTo(Reserve(rlp.Length));
        return this;
    }

    public RlpWriter StartList()
    {
        if (_openLists.Count >= MaxListDepth)
        {
            throw new InvalidOperationException($"RLP lists nested deeper than {MaxListDepth}");
        }
        _openLists.Push(_length);
        return this;
    }

    public RlpWriter EndList()
    {
        if (!_openLists.TryPop(out var start))
        {
            throw new InvalidOperationException("EndList without StartList");
        }
        var payload = _length - start;
        var header = HeaderSize(payload);
        Reserve(header);
        Array.Copy(_buffer, start, _buffer, start + header, payload);
        WriteHeaderAt(_buffer.AsSpan(start, header), 0xc0, payload);
        return this;
    }

    public void Clear()
    {
        _length = 0;
        _openLists.Clear();
    }

    /// <summary>Bytes RLP takes for a string of these bytes.</summary>
    public static int EncodedLength(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 1 && bytes[0] < 0x80 ? 1 : HeaderSize(bytes.Length) + bytes.Length;

    internal static int HeaderSize(int payloadLength) =>
        payloadLength < 56 ? 1 : 1 + (4 - System.Numerics.BitOperations.LeadingZeroCount((uint)payloadLength) / 8);

    private void WriteHeader(byte shortBase, int payloadLength) =>
        WriteHeaderAt(Reserve(HeaderSize(payloadLength)), shortBase, payloadLength);

    private static void WriteHeaderAt(Span<byte> header, byte shortBase, int payloadLength)
    {
        if (payloadLength < 56)
        {
            header[0] = (byte)(shortBase + payloadLength);
            return;
        }
        var lengthBytes = header.Length - 1;
        header[0] = (byte)(shortBase + 55 + lengthBytes);
        for (var i = 0; i < lengthBytes; i++)
        {
            header[lengthBytes - i] = (byte)(payloadLength >> (8 * i));
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
