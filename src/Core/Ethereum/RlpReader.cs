using System.Buffers.Binary;

namespace Keel.Core.Ethereum;

/// <summary>
/// Reads canonical RLP, strictly: every encoding that is not the one canonical form is an
/// <see cref="RlpException"/> (a single byte below 0x80 wrapped as a string, the long form for a
/// short length, leading zeros in a length or an integer, a length past the end of the input,
/// trailing bytes). Strictness matters because a transaction's hash is the hash of its bytes: two
/// encodings of one transaction would be two hashes.
/// </summary>
/// <remarks>Offsets in errors are from the start of the outermost input.</remarks>
public ref struct RlpReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _position;

    public RlpReader(ReadOnlySpan<byte> data)
        : this(data, 0)
    {
    }

    private RlpReader(ReadOnlySpan<byte> data, int baseOffset)
    {
        _data = data;
        _baseOffset = baseOffset;
        _position = 0;
    }

    public readonly bool HasMore => _position < _data.Length;

    /// <summary>Offset of the next item in the outermost input.</summary>
    public readonly int Offset => _baseOffset + _position;

    public readonly bool NextIsList => HasMore && _data[_position] >= 0xc0;

    /// <summary>Reads a string item and returns its payload.</summary>
    public ReadOnlySpan<byte> ReadBytes(string what = "item")
    {
        var start = Offset;
        var (isList, payloadStart, payloadLength) = ReadHeader(what);
        if (isList)
        {
            throw new RlpException($"{what}: expected a string, found a list", start);
        }
        return Take(payloadStart, payloadLength);
    }

    /// <summary>Reads a list item; the returned reader walks its items.</summary>
    public RlpReader ReadList(string what = "list")
    {
        var start = Offset;
        var (isList, payloadStart, payloadLength) = ReadHeader(what);
        if (!isList)
        {
            throw new RlpException($"{what}: expected a list, found a string", start);
        }
        return new RlpReader(Take(payloadStart, payloadLength), _baseOffset + payloadStart);
    }

    /// <summary>Reads one whole item (header and payload) without interpreting it.</summary>
    public ReadOnlySpan<byte> ReadEncodedItem(string what = "item")
    {
        var start = _position;
        var (_, payloadStart, payloadLength) = ReadHeader(what);
        Take(payloadStart, payloadLength);
        return _data[start.._position];
    }

    /// <summary>An integer of at most 64 bits: no leading zero bytes, zero is the empty string.</summary>
    public ulong ReadULong(string what = "integer")
    {
        var start = Offset;
        var bytes = ReadBytes(what);
        CheckInteger(bytes, 8, what, start);
        ulong value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }
        return value;
    }

    public UInt256 ReadUInt256(string what = "integer")
    {
        var start = Offset;
        var bytes = ReadBytes(what);
        CheckInteger(bytes, UInt256.Size, what, start);
        return UInt256.FromBigEndian(bytes);
    }

    public Address ReadAddress(string what = "address")
    {
        var start = Offset;
        var bytes = ReadBytes(what);
        return bytes.Length == Address.Size
            ? Address.FromBytes(bytes)
            : throw new RlpException($"{what}: an address has {Address.Size} bytes, found {bytes.Length}", start);
    }

    /// <summary>An address, or null for the empty string (a contract creation's `to`).</summary>
    public Address? ReadOptionalAddress(string what = "address")
    {
        var start = Offset;
        var bytes = ReadBytes(what);
        return bytes.Length switch
        {
            0 => null,
            Address.Size => Address.FromBytes(bytes),
            _ => throw new RlpException($"{what}: an address has {Address.Size} bytes (or none), found {bytes.Length}", start),
        };
    }

    public Hash32 ReadHash32(string what = "hash")
    {
        var start = Offset;
        var bytes = ReadBytes(what);
        return bytes.Length == Hash32.Size
            ? Hash32.FromBytes(bytes)
            : throw new RlpException($"{what}: a hash has {Hash32.Size} bytes, found {bytes.Length}", start);
    }

    /// <summary>Fails unless every byte has been read (no trailing bytes).</summary>
    public readonly void EnsureEnd(string what = "input")
    {
        if (HasMore)
        {
            throw new RlpException($"{what}: {_data.Length - _position} trailing byte(s) after the last item", Offset);
        }
    }

    private static void CheckInteger(ReadOnlySpan<byte> bytes, int maxBytes, string what, int offset)
    {
        if (bytes.Length > 0 && bytes[0] == 0)
        {
            throw new RlpException($"{what}: integer has a leading zero byte", offset);
        }
        if (bytes.Length > maxBytes)
        {
            throw new RlpException($"{what}: integer has {bytes.Length} bytes, at most {maxBytes} allowed", offset);
        }
    }

    private ReadOnlySpan<byte> Take(int start, int length)
    {
        _position = start + length;
        return _data.Slice(start, length);
    }

    /// <summary>Parses the header of the next item; returns where its payload starts (relative) and its length.</summary>
    private readonly (bool IsList, int PayloadStart, int PayloadLength) ReadHeader(string what)
    {
        var itemOffset = Offset;
        if (!HasMore)
        {
            throw new RlpException($"{what}: input ends where an item was expected", itemOffset);
        }
        var prefix = _data[_position];
        var remaining = _data.Length - _position - 1;
        if (prefix < 0x80)
        {
            return (false, _position, 1);
        }
        var isList = prefix >= 0xc0;
        var shortBase = isList ? 0xc0 : 0x80;
        int length;
        int headerLength;
        if (prefix <= shortBase + 55)
        {
            length = prefix - shortBase;
            headerLength = 1;
        }
        else
        {
            var lengthOfLength = prefix - shortBase - 55;
            if (lengthOfLength > remaining)
            {
                throw new RlpException($"{what}: length of length ({lengthOfLength} bytes) runs past the end of the input", itemOffset);
            }
            var lengthBytes = _data.Slice(_position + 1, lengthOfLength);
            if (lengthBytes[0] == 0)
            {
                throw new RlpException($"{what}: length has a leading zero byte", itemOffset);
            }
            if (lengthOfLength > 4)
            {
                throw new RlpException($"{what}: length takes {lengthOfLength} bytes, more than any input here", itemOffset);
            }
            Span<byte> padded = stackalloc byte[4];
            padded.Clear();
            lengthBytes.CopyTo(padded[(4 - lengthOfLength)..]);
            var longLength = BinaryPrimitives.ReadUInt32BigEndian(padded);
            if (longLength < 56)
            {
                throw new RlpException($"{what}: long form used for a length of {longLength} (below 56)", itemOffset);
            }
            if (longLength > int.MaxValue)
            {
                throw new RlpException($"{what}: length {longLength} overflows the input", itemOffset);
            }
            length = (int)longLength;
            headerLength = 1 + lengthOfLength;
            remaining -= lengthOfLength;
        }
        if (length > remaining)
        {
            throw new RlpException($"{what}: length {length} runs past the end of the input ({remaining} bytes left)", itemOffset);
        }
        var payloadStart = _position + headerLength;
        if (!isList && length == 1 && _data[payloadStart] < 0x80)
        {
            throw new RlpException($"{what}: single byte 0x{_data[payloadStart]:x2} below 0x80 encoded as a string", itemOffset);
        }
        return (isList, payloadStart, length);
    }
}
