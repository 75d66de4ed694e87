namespace Keel.Core.Crypto;

/// <summary>
/// Incremental Keccak-256 for input that arrives in pieces (a Merkle node built from fields, a
/// transcript). Not thread-safe; <see cref="Finish"/> resets it so one instance serves many hashes.
/// </summary>
public sealed class Keccak256Hasher
{
    private readonly ulong[] _state = new ulong[Keccak256.StateLanes];
    private readonly byte[] _buffer = new byte[Keccak256.RateBytes];
    private int _buffered;

    public void Update(ReadOnlySpan<byte> data)
    {
        if (_buffered > 0)
        {
            var take = Math.Min(Keccak256.RateBytes - _buffered, data.Length);
            data[..take].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += take;
            data = data[take..];
            if (_buffered < Keccak256.RateBytes)
            {
                return;
            }
            Keccak256.AbsorbBlock(_state, _buffer);
            Keccak256.KeccakF1600(_state);
            _buffered = 0;
        }
        while (data.Length >= Keccak256.RateBytes)
        {
            Keccak256.AbsorbBlock(_state, data);
            Keccak256.KeccakF1600(_state);
            data = data[Keccak256.RateBytes..];
        }
        data.CopyTo(_buffer);
        _buffered = data.Length;
    }

    /// <summary>Writes the 32-byte hash of everything updated since the last reset, then resets.</summary>
    public void Finish(Span<byte> output32)
    {
        if (output32.Length < Keccak256.HashSize)
        {
            throw new ArgumentException($"output needs {Keccak256.HashSize} bytes, has {output32.Length}", nameof(output32));
        }
        Keccak256.AbsorbLast(_state, _buffer.AsSpan(0, _buffered));
        Keccak256.KeccakF1600(_state);
        Keccak256.Squeeze(_state, output32);
        Reset();
    }

    public Hash32 FinishHash32()
    {
        Span<byte> output = stackalloc byte[Keccak256.HashSize];
        Finish(output);
        return Hash32.FromBytes(output);
    }

    public void Reset()
    {
        Array.Clear(_state);
        _buffered = 0;
    }
}
