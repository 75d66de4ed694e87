namespace Keel.Libp2p.Wire;

/// <summary>Unsigned LEB128 varints as multiformats use them (minimal, at most 9 bytes for 63 bits).</summary>
public static class Varint
{
    /// <summary>multiformats caps varints at 9 bytes (63 bits); anything longer is malformed.</summary>
    public const int MaxBytes = 9;

    public static int Size(ulong value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    public static int Write(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    public static byte[] Encode(ulong value)
    {
        var bytes = new byte[Size(value)];
        Write(bytes, value);
        return bytes;
    }

    /// <summary>Decodes a varint at the start of <paramref name="source"/>; false when it is incomplete.</summary>
    /// <exception cref="MalformedDataException">not minimal, or longer than <see cref="MaxBytes"/>.</exception>
    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int consumed)
    {
        value = 0;
        consumed = 0;
        for (var i = 0; i < source.Length; i++)
        {
            if (i >= MaxBytes)
            {
                throw new MalformedDataException("varint longer than 9 bytes");
            }
            var b = source[i];
            value |= (ulong)(b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                {
                    throw new MalformedDataException("varint is not minimally encoded");
                }
                consumed = i + 1;
                return true;
            }
        }
        return false;
    }

    /// <summary>Decodes a whole varint or throws.</summary>
    public static ulong Read(ReadOnlySpan<byte> source, out int consumed)
    {
        if (!TryRead(source, out var value, out consumed))
        {
            throw new MalformedDataException("truncated varint");
        }
        return value;
    }

    /// <summary>
    /// Reads one varint byte by byte so that no byte after it is consumed: the bytes that follow
    /// may belong to another protocol layer (multistream-select hands the stream on).
    /// </summary>
    /// <returns>the value, or null on a clean end of stream before the first byte.</returns>
    public static async ValueTask<ulong?> ReadAsync(Stream stream, CancellationToken ct)
    {
        var one = new byte[1];
        ulong value = 0;
        for (var i = 0; ; i++)
        {
            if (i >= MaxBytes)
            {
                throw new MalformedDataException("varint longer than 9 bytes");
            }
            var n = await stream.ReadAsync(one.AsMemory(0, 1), ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (i == 0)
                {
                    return null;
                }
                throw new EndOfStreamException("stream ended inside a varint");
            }
            var b = one[0];
            value |= (ulong)(b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                {
                    throw new MalformedDataException("varint is not minimally encoded");
                }
                return value;
            }
        }
    }
}

/// <summary>uvarint-length-prefixed messages, the framing most libp2p protocols share.</summary>
public static class LengthPrefixed
{
    /// <summary>Reads one frame; null on a clean end of stream before the prefix.</summary>
    /// <exception cref="MessageTooLargeException">the prefix announces more than <paramref name="maxBytes"/>.</exception>
    public static async ValueTask<byte[]?> ReadAsync(Stream stream, int maxBytes, CancellationToken ct)
    {
        var length = await Varint.ReadAsync(stream, ct).ConfigureAwait(false);
        if (length is null)
        {
            return null;
        }
        if (length.Value > (ulong)maxBytes)
        {
            throw new MessageTooLargeException("length-prefixed message", (long)Math.Min(length.Value, long.MaxValue), maxBytes);
        }
        var buffer = new byte[(int)length.Value];
        await stream.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
        return buffer;
    }

    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var prefix = Varint.Size((ulong)payload.Length);
        var frame = new byte[prefix + payload.Length];
        Varint.Write(frame, (ulong)payload.Length);
        payload.CopyTo(frame.AsSpan(prefix));
        return frame;
    }

    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        await stream.WriteAsync(Frame(payload.Span), ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
    }
}
