using System.Buffers.Binary;
using Keel.Core.Crypto;
using Keel.Core.Field;

namespace Keel.Prover.Crypto;

/// <summary>
/// Fiat-Shamir transcript over Keccak-256, shared by prover and verifier. Absorbed bytes are
/// buffered; the first draw after an absorb reseeds state = keccak(state || absorbed), and draw i
/// from that seed is keccak(state || i as 8 bytes little-endian). Kept this plain so that a Solidity
/// verifier can reproduce it with keccak256(abi.encodePacked(...)).
/// </summary>
public sealed class Transcript
{
    /// <summary>Bound on bytes absorbed between two draws. The largest is the opening: the transfer AIR's
    /// compiled constraints and periodic columns (about 170 columns of 1024 rows) take about 1.5 MB.</summary>
    public const int MaxPendingBytes = 4 << 20;

    /// <summary>Rejection sampling of field elements gives up after this many tries (each fails with probability 2^-32).</summary>
    private const int MaxSampleAttempts = 64;

    private readonly byte[] _state = new byte[Keccak256.HashSize];
    private readonly MemoryStream _pending = new();
    private ulong _counter;

    public Transcript(ReadOnlySpan<byte> domainSeparator)
    {
        Absorb(domainSeparator);
    }

    /// <summary>The current seed (after folding in anything absorbed); the proof-of-work puzzle is set on it.</summary>
    public ReadOnlySpan<byte> Seed
    {
        get
        {
            Reseed();
            return _state;
        }
    }

    public void Absorb(ReadOnlySpan<byte> data)
    {
        if (_pending.Length + data.Length > MaxPendingBytes)
        {
            throw new InvalidOperationException($"transcript absorb exceeds {MaxPendingBytes} bytes between draws");
        }
        _pending.Write(data);
    }

    public void AbsorbUInt64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        Absorb(b);
    }

    public void AbsorbElements(ReadOnlySpan<ulong> values)
    {
        foreach (var v in values)
        {
            AbsorbUInt64(v);
        }
    }

    public void AbsorbExt(GoldilocksExt2 value)
    {
        AbsorbUInt64(value.A0);
        AbsorbUInt64(value.A1);
    }

    public void AbsorbExt(ReadOnlySpan<GoldilocksExt2> values)
    {
        foreach (var v in values)
        {
            AbsorbExt(v);
        }
    }

    private void Reseed()
    {
        if (_pending.Length == 0)
        {
            return;
        }
        var hasher = new Keccak256Hasher();
        hasher.Update(_state);
        hasher.Update(_pending.GetBuffer().AsSpan(0, (int)_pending.Length));
        hasher.Finish(_state);
        _pending.SetLength(0);
        _counter = 0;
    }

    /// <summary>32 fresh bytes.</summary>
    public void DrawBytes(Span<byte> output32)
    {
        Reseed();
        Span<byte> input = stackalloc byte[Keccak256.HashSize + 8];
        _state.CopyTo(input);
        BinaryPrimitives.WriteUInt64LittleEndian(input[Keccak256.HashSize..], _counter++);
        Keccak256.Hash(input, output32);
    }

    /// <summary>A uniform base-field element: the first 8 bytes of a draw, little-endian, redrawn when &gt;= p.</summary>
    public ulong DrawElement()
    {
        Span<byte> out32 = stackalloc byte[Keccak256.HashSize];
        for (var attempt = 0; attempt < MaxSampleAttempts; attempt++)
        {
            DrawBytes(out32);
            var v = BinaryPrimitives.ReadUInt64LittleEndian(out32);
            if (v < Goldilocks.Modulus)
            {
                return v;
            }
        }
        throw new InvalidOperationException("transcript produced no field element (probability 2^-2048)");
    }

    public GoldilocksExt2 DrawExt()
    {
        var a0 = DrawElement();
        var a1 = DrawElement();
        return new GoldilocksExt2(a0, a1);
    }

    public GoldilocksExt2[] DrawExts(int count)
    {
        var result = new GoldilocksExt2[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = DrawExt();
        }
        return result;
    }

    /// <summary>
    /// <paramref name="count"/> positions in [0, domainSize) (a power of two, so the low bits of a
    /// draw are uniform), with repeats; callers deduplicate.
    /// </summary>
    public int[] DrawPositions(int count, int domainSize)
    {
        var mask = (ulong)domainSize - 1;
        var result = new int[count];
        Span<byte> out32 = stackalloc byte[Keccak256.HashSize];
        for (var i = 0; i < count; i++)
        {
            DrawBytes(out32);
            result[i] = (int)(BinaryPrimitives.ReadUInt64LittleEndian(out32) & mask);
        }
        return result;
    }

    /// <summary>Leading zero bits of keccak(seed || nonce) (nonce 8 bytes little-endian), read big-endian.</summary>
    public static int ProofOfWorkBits(ReadOnlySpan<byte> seed, ulong nonce)
    {
        Span<byte> input = stackalloc byte[Keccak256.HashSize + 8];
        seed.CopyTo(input);
        BinaryPrimitives.WriteUInt64LittleEndian(input[Keccak256.HashSize..], nonce);
        Span<byte> digest = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(input, digest);
        return System.Numerics.BitOperations.LeadingZeroCount(BinaryPrimitives.ReadUInt64BigEndian(digest));
    }
}
