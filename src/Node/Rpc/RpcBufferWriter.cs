using System.Buffers;

namespace Keel.Node.Rpc;

/// <summary>
/// A growable byte buffer on pooled arrays that can be cut back to an earlier length: a batch
/// entry whose result fails halfway through serialization is rolled back and replaced by an error,
/// which <see cref="ArrayBufferWriter{T}"/> cannot do.
/// </summary>
internal sealed class RpcBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumSizeBytes = 1024;

    private byte[] _buffer;
    private int _count;

    public RpcBufferWriter(int initialBytes = MinimumSizeBytes)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialBytes, MinimumSizeBytes));
    }

    public int WrittenCount => _count;
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _count);
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _count);

    public void Advance(int count)
    {
        if (count < 0 || _count + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        _count += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_count);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _count += bytes.Length;
    }

    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _count);
        _count = length;
    }

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _count = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        var need = Math.Max(sizeHint, 1);
        if (_buffer.Length - _count >= need)
        {
            return;
        }
        var grown = ArrayPool<byte>.Shared.Rent(checked(Math.Max(_buffer.Length * 2, _count + need)));
        _buffer.AsSpan(0, _count).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = grown;
    }
}
