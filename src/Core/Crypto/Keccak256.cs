using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Keel.Core.Crypto;

/// <summary>
/// Keccak-256 as Ethereum uses it (the original Keccak padding 0x01..0x80, not SHA3-256's 0x06).
/// The permutation keeps the 25 lanes in locals so the JIT can hold them in registers; one hash
/// allocates nothing (state and the last block live on the stack).
/// </summary>
public static class Keccak256
{
    public const int HashSize = 32;

    /// <summary>Bytes absorbed per permutation: (1600 - 2 * 256) / 8.</summary>
    public const int RateBytes = 136;

    internal const int StateLanes = 25;
    private const int RateLanes = RateBytes / 8;

    [SkipLocalsInit]
    public static void Hash(ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (output.Length < HashSize)
        {
            throw new ArgumentException($"output needs {HashSize} bytes, has {output.Length}", nameof(output));
        }
        Span<ulong> state = stackalloc ulong[StateLanes];
        state.Clear();
        while (input.Length >= RateBytes)
        {
            AbsorbBlock(state, input);
            KeccakF1600(state);
            input = input[RateBytes..];
        }
        AbsorbLast(state, input);
        KeccakF1600(state);
        Squeeze(state, output);
    }

    public static byte[] Hash(ReadOnlySpan<byte> input)
    {
        var output = new byte[HashSize];
        Hash(input, output);
        return output;
    }

    public static Hash32 HashToHash32(ReadOnlySpan<byte> input)
    {
        Span<byte> output = stackalloc byte[HashSize];
        Hash(input, output);
        return Hash32.FromBytes(output);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AbsorbBlock(Span<ulong> state, ReadOnlySpan<byte> block)
    {
        block = block[..RateBytes];
        state = state[..RateLanes];
        if (BitConverter.IsLittleEndian)
        {
            // Lanes are little-endian, so on such machines the block is its lanes (unaligned reads are fine on x64 and arm64).
            var lanes = MemoryMarshal.Cast<byte, ulong>(block);
            for (var i = 0; i < RateLanes; i++)
            {
                state[i] ^= lanes[i];
            }
            return;
        }
        for (var i = 0; i < RateLanes; i++)
        {
            state[i] ^= BinaryPrimitives.ReadUInt64LittleEndian(block[(i * 8)..]);
        }
    }

    /// <summary>Pads the final partial block (fewer than <see cref="RateBytes"/> bytes) and absorbs it.</summary>
    [SkipLocalsInit]
    internal static void AbsorbLast(Span<ulong> state, ReadOnlySpan<byte> tail)
    {
        Span<byte> block = stackalloc byte[RateBytes];
        block.Clear();
        tail.CopyTo(block);
        block[tail.Length] ^= 0x01;
        block[RateBytes - 1] ^= 0x80;
        AbsorbBlock(state, block);
    }

    internal static void Squeeze(ReadOnlySpan<ulong> state, Span<byte> output)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(output, state[0]);
        BinaryPrimitives.WriteUInt64LittleEndian(output[8..], state[1]);
        BinaryPrimitives.WriteUInt64LittleEndian(output[16..], state[2]);
        BinaryPrimitives.WriteUInt64LittleEndian(output[24..], state[3]);
    }

    /// <summary>The 24 round constants of Keccak-f[1600] (also used by the prover's 8-way Keccak).</summary>
    public static ReadOnlySpan<ulong> RoundConstants =>
    [
        0x0000000000000001UL, 0x0000000000008082UL, 0x800000000000808aUL, 0x8000000080008000UL,
        0x000000000000808bUL, 0x0000000080000001UL, 0x8000000080008081UL, 0x8000000000008009UL,
        0x000000000000008aUL, 0x0000000000000088UL, 0x0000000080008009UL, 0x000000008000000aUL,
        0x000000008000808bUL, 0x800000000000008bUL, 0x8000000000008089UL, 0x8000000000008003UL,
        0x8000000000008002UL, 0x8000000000000080UL, 0x000000000000800aUL, 0x800000008000000aUL,
        0x8000000080008081UL, 0x8000000000008080UL, 0x0000000080000001UL, 0x8000000080008008UL,
    ];

    /// <summary>
    /// Keccak-f[1600]. Lane (x, y) starts in a[x + 5y]. Each round computes one output plane at a
    /// time into five temporaries and writes it back over the lanes it was read from, which moves
    /// lanes around; the write-back order is chosen (by the generator that wrote this code) so
    /// that the layout returns to the start after 4 rounds, hence 6 passes of 4 written-out rounds.
    /// Only 40 values are live (25 lanes, 5 parities, 5 theta terms, 5 plane lanes), so the JIT
    /// keeps most in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void KeccakF1600(Span<ulong> state)
    {
        if (state.Length < StateLanes)
        {
            throw new ArgumentException("the Keccak state has 25 lanes", nameof(state));
        }
        ref var lane = ref MemoryMarshal.GetReference(state);
        ulong a00 = Unsafe.Add(ref lane, 0);
        ulong a01 = Unsafe.Add(ref lane, 1);
        ulong a02 = Unsafe.Add(ref lane, 2);
        ulong a03 = Unsafe.Add(ref lane, 3);
        ulong a04 = Unsafe.Add(ref lane, 4);
        ulong a05 = Unsafe.Add(ref lane, 5);
        ulong a06 = Unsafe.Add(ref lane, 6);
        ulong a07 = Unsafe.Add(ref lane, 7);
        ulong a08 = Unsafe.Add(ref lane, 8);
        ulong a09 = Unsafe.Add(ref lane, 9);
        ulong a10 = Unsafe.Add(ref lane, 10);
        ulong a11 = Unsafe.Add(ref lane, 11);
        ulong a12 = Unsafe.Add(ref lane, 12);
        ulong a13 = Unsafe.Add(ref lane, 13);
        ulong a14 = Unsafe.Add(ref lane, 14);
        ulong a15 = Unsafe.Add(ref lane, 15);
        ulong a16 = Unsafe.Add(ref lane, 16);
        ulong a17 = Unsafe.Add(ref lane, 17);
        ulong a18 = Unsafe.Add(ref lane, 18);
        ulong a19 = Unsafe.Add(ref lane, 19);
        ulong a20 = Unsafe.Add(ref lane, 20);
        ulong a21 = Unsafe.Add(ref lane, 21);
        ulong a22 = Unsafe.Add(ref lane, 22);
        ulong a23 = Unsafe.Add(ref lane, 23);
        ulong a24 = Unsafe.Add(ref lane, 24);
        ulong c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4;
        ReadOnlySpan<ulong> rc = RoundConstants;
        for (var round = 0; round < 24; round += 4)
        {
            // round + 0
            c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;
            c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;
            c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;
            c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;
            c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;
            d0 = c4 ^ BitOperations.RotateLeft(c1, 1);
            d1 = c0 ^ BitOperations.RotateLeft(c2, 1);
            d2 = c1 ^ BitOperations.RotateLeft(c3, 1);
            d3 = c2 ^ BitOperations.RotateLeft(c4, 1);
            d4 = c3 ^ BitOperations.RotateLeft(c0, 1);
            b0 = a00 ^ d0;
            b1 = BitOperations.RotateLeft(a06 ^ d1, 44);
            b2 = BitOperations.RotateLeft(a12 ^ d2, 43);
            b3 = BitOperations.RotateLeft(a18 ^ d3, 21);
            b4 = BitOperations.RotateLeft(a24 ^ d4, 14);
            a00 = b0 ^ (~b1 & b2) ^ rc[round];
            a06 = b1 ^ (~b2 & b3);
            a12 = b2 ^ (~b3 & b4);
            a18 = b3 ^ (~b4 & b0);
            a24 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a03 ^ d3, 28);
            b1 = BitOperations.RotateLeft(a09 ^ d4, 20);
            b2 = BitOperations.RotateLeft(a10 ^ d0, 3);
            b3 = BitOperations.RotateLeft(a16 ^ d1, 45);
            b4 = BitOperations.RotateLeft(a22 ^ d2, 61);
            a09 = b0 ^ (~b1 & b2);
            a10 = b1 ^ (~b2 & b3);
            a16 = b2 ^ (~b3 & b4);
            a22 = b3 ^ (~b4 & b0);
            a03 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a01 ^ d1, 1);
            b1 = BitOperations.RotateLeft(a07 ^ d2, 6);
            b2 = BitOperations.RotateLeft(a13 ^ d3, 25);
            b3 = BitOperations.RotateLeft(a19 ^ d4, 8);
            b4 = BitOperations.RotateLeft(a20 ^ d0, 18);
            a13 = b0 ^ (~b1 & b2);
            a19 = b1 ^ (~b2 & b3);
            a20 = b2 ^ (~b3 & b4);
            a01 = b3 ^ (~b4 & b0);
            a07 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a04 ^ d4, 27);
            b1 = BitOperations.RotateLeft(a05 ^ d0, 36);
            b2 = BitOperations.RotateLeft(a11 ^ d1, 10);
            b3 = BitOperations.RotateLeft(a17 ^ d2, 15);
            b4 = BitOperations.RotateLeft(a23 ^ d3, 56);
            a17 = b0 ^ (~b1 & b2);
            a23 = b1 ^ (~b2 & b3);
            a04 = b2 ^ (~b3 & b4);
            a05 = b3 ^ (~b4 & b0);
            a11 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a02 ^ d2, 62);
            b1 = BitOperations.RotateLeft(a08 ^ d3, 55);
            b2 = BitOperations.RotateLeft(a14 ^ d4, 39);
            b3 = BitOperations.RotateLeft(a15 ^ d0, 41);
            b4 = BitOperations.RotateLeft(a21 ^ d1, 2);
            a21 = b0 ^ (~b1 & b2);
            a02 = b1 ^ (~b2 & b3);
            a08 = b2 ^ (~b3 & b4);
            a14 = b3 ^ (~b4 & b0);
            a15 = b4 ^ (~b0 & b1);
            // round + 1
            c0 = a00 ^ a09 ^ a13 ^ a17 ^ a21;
            c1 = a06 ^ a10 ^ a19 ^ a23 ^ a02;
            c2 = a12 ^ a16 ^ a20 ^ a04 ^ a08;
            c3 = a18 ^ a22 ^ a01 ^ a05 ^ a14;
            c4 = a24 ^ a03 ^ a07 ^ a11 ^ a15;
            d0 = c4 ^ BitOperations.RotateLeft(c1, 1);
            d1 = c0 ^ BitOperations.RotateLeft(c2, 1);
            d2 = c1 ^ BitOperations.RotateLeft(c3, 1);
            d3 = c2 ^ BitOperations.RotateLeft(c4, 1);
            d4 = c3 ^ BitOperations.RotateLeft(c0, 1);
            b0 = a00 ^ d0;
            b1 = BitOperations.RotateLeft(a10 ^ d1, 44);
            b2 = BitOperations.RotateLeft(a20 ^ d2, 43);
            b3 = BitOperations.RotateLeft(a05 ^ d3, 21);
            b4 = BitOperations.RotateLeft(a15 ^ d4, 14);
            a00 = b0 ^ (~b1 & b2) ^ rc[round + 1];
            a10 = b1 ^ (~b2 & b3);
            a20 = b2 ^ (~b3 & b4);
            a05 = b3 ^ (~b4 & b0);
            a15 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a18 ^ d3, 28);
            b1 = BitOperations.RotateLeft(a03 ^ d4, 20);
            b2 = BitOperations.RotateLeft(a13 ^ d0, 3);
            b3 = BitOperations.RotateLeft(a23 ^ d1, 45);
            b4 = BitOperations.RotateLeft(a08 ^ d2, 61);
            a03 = b0 ^ (~b1 & b2);
            a13 = b1 ^ (~b2 & b3);
            a23 = b2 ^ (~b3 & b4);
            a08 = b3 ^ (~b4 & b0);
            a18 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a06 ^ d1, 1);
            b1 = BitOperations.RotateLeft(a16 ^ d2, 6);
            b2 = BitOperations.RotateLeft(a01 ^ d3, 25);
            b3 = BitOperations.RotateLeft(a11 ^ d4, 8);
            b4 = BitOperations.RotateLeft(a21 ^ d0, 18);
            a01 = b0 ^ (~b1 & b2);
            a11 = b1 ^ (~b2 & b3);
            a21 = b2 ^ (~b3 & b4);
            a06 = b3 ^ (~b4 & b0);
            a16 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a24 ^ d4, 27);
            b1 = BitOperations.RotateLeft(a09 ^ d0, 36);
            b2 = BitOperations.RotateLeft(a19 ^ d1, 10);
            b3 = BitOperations.RotateLeft(a04 ^ d2, 15);
            b4 = BitOperations.RotateLeft(a14 ^ d3, 56);
            a04 = b0 ^ (~b1 & b2);
            a14 = b1 ^ (~b2 & b3);
            a24 = b2 ^ (~b3 & b4);
            a09 = b3 ^ (~b4 & b0);
            a19 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a12 ^ d2, 62);
            b1 = BitOperations.RotateLeft(a22 ^ d3, 55);
            b2 = BitOperations.RotateLeft(a07 ^ d4, 39);
            b3 = BitOperations.RotateLeft(a17 ^ d0, 41);
            b4 = BitOperations.RotateLeft(a02 ^ d1, 2);
            a02 = b0 ^ (~b1 & b2);
            a12 = b1 ^ (~b2 & b3);
            a22 = b2 ^ (~b3 & b4);
            a07 = b3 ^ (~b4 & b0);
            a17 = b4 ^ (~b0 & b1);
            // round + 2
            c0 = a00 ^ a03 ^ a01 ^ a04 ^ a02;
            c1 = a10 ^ a13 ^ a11 ^ a14 ^ a12;
            c2 = a20 ^ a23 ^ a21 ^ a24 ^ a22;
            c3 = a05 ^ a08 ^ a06 ^ a09 ^ a07;
            c4 = a15 ^ a18 ^ a16 ^ a19 ^ a17;
            d0 = c4 ^ BitOperations.RotateLeft(c1, 1);
            d1 = c0 ^ BitOperations.RotateLeft(c2, 1);
            d2 = c1 ^ BitOperations.RotateLeft(c3, 1);
            d3 = c2 ^ BitOperations.RotateLeft(c4, 1);
            d4 = c3 ^ BitOperations.RotateLeft(c0, 1);
            b0 = a00 ^ d0;
            b1 = BitOperations.RotateLeft(a13 ^ d1, 44);
            b2 = BitOperations.RotateLeft(a21 ^ d2, 43);
            b3 = BitOperations.RotateLeft(a09 ^ d3, 21);
            b4 = BitOperations.RotateLeft(a17 ^ d4, 14);
            a00 = b0 ^ (~b1 & b2) ^ rc[round + 2];
            a13 = b1 ^ (~b2 & b3);
            a21 = b2 ^ (~b3 & b4);
            a09 = b3 ^ (~b4 & b0);
            a17 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a05 ^ d3, 28);
            b1 = BitOperations.RotateLeft(a18 ^ d4, 20);
            b2 = BitOperations.RotateLeft(a01 ^ d0, 3);
            b3 = BitOperations.RotateLeft(a14 ^ d1, 45);
            b4 = BitOperations.RotateLeft(a22 ^ d2, 61);
            a18 = b0 ^ (~b1 & b2);
            a01 = b1 ^ (~b2 & b3);
            a14 = b2 ^ (~b3 & b4);
            a22 = b3 ^ (~b4 & b0);
            a05 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a10 ^ d1, 1);
            b1 = BitOperations.RotateLeft(a23 ^ d2, 6);
            b2 = BitOperations.RotateLeft(a06 ^ d3, 25);
            b3 = BitOperations.RotateLeft(a19 ^ d4, 8);
            b4 = BitOperations.RotateLeft(a02 ^ d0, 18);
            a06 = b0 ^ (~b1 & b2);
            a19 = b1 ^ (~b2 & b3);
            a02 = b2 ^ (~b3 & b4);
            a10 = b3 ^ (~b4 & b0);
            a23 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a15 ^ d4, 27);
            b1 = BitOperations.RotateLeft(a03 ^ d0, 36);
            b2 = BitOperations.RotateLeft(a11 ^ d1, 10);
            b3 = BitOperations.RotateLeft(a24 ^ d2, 15);
            b4 = BitOperations.RotateLeft(a07 ^ d3, 56);
            a24 = b0 ^ (~b1 & b2);
            a07 = b1 ^ (~b2 & b3);
            a15 = b2 ^ (~b3 & b4);
            a03 = b3 ^ (~b4 & b0);
            a11 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a20 ^ d2, 62);
            b1 = BitOperations.RotateLeft(a08 ^ d3, 55);
            b2 = BitOperations.RotateLeft(a16 ^ d4, 39);
            b3 = BitOperations.RotateLeft(a04 ^ d0, 41);
            b4 = BitOperations.RotateLeft(a12 ^ d1, 2);
            a12 = b0 ^ (~b1 & b2);
            a20 = b1 ^ (~b2 & b3);
            a08 = b2 ^ (~b3 & b4);
            a16 = b3 ^ (~b4 & b0);
            a04 = b4 ^ (~b0 & b1);
            // round + 3
            c0 = a00 ^ a18 ^ a06 ^ a24 ^ a12;
            c1 = a13 ^ a01 ^ a19 ^ a07 ^ a20;
            c2 = a21 ^ a14 ^ a02 ^ a15 ^ a08;
            c3 = a09 ^ a22 ^ a10 ^ a03 ^ a16;
            c4 = a17 ^ a05 ^ a23 ^ a11 ^ a04;
            d0 = c4 ^ BitOperations.RotateLeft(c1, 1);
            d1 = c0 ^ BitOperations.RotateLeft(c2, 1);
            d2 = c1 ^ BitOperations.RotateLeft(c3, 1);
            d3 = c2 ^ BitOperations.RotateLeft(c4, 1);
            d4 = c3 ^ BitOperations.RotateLeft(c0, 1);
            b0 = a00 ^ d0;
            b1 = BitOperations.RotateLeft(a01 ^ d1, 44);
            b2 = BitOperations.RotateLeft(a02 ^ d2, 43);
            b3 = BitOperations.RotateLeft(a03 ^ d3, 21);
            b4 = BitOperations.RotateLeft(a04 ^ d4, 14);
            a00 = b0 ^ (~b1 & b2) ^ rc[round + 3];
            a01 = b1 ^ (~b2 & b3);
            a02 = b2 ^ (~b3 & b4);
            a03 = b3 ^ (~b4 & b0);
            a04 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a09 ^ d3, 28);
            b1 = BitOperations.RotateLeft(a05 ^ d4, 20);
            b2 = BitOperations.RotateLeft(a06 ^ d0, 3);
            b3 = BitOperations.RotateLeft(a07 ^ d1, 45);
            b4 = BitOperations.RotateLeft(a08 ^ d2, 61);
            a05 = b0 ^ (~b1 & b2);
            a06 = b1 ^ (~b2 & b3);
            a07 = b2 ^ (~b3 & b4);
            a08 = b3 ^ (~b4 & b0);
            a09 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a13 ^ d1, 1);
            b1 = BitOperations.RotateLeft(a14 ^ d2, 6);
            b2 = BitOperations.RotateLeft(a10 ^ d3, 25);
            b3 = BitOperations.RotateLeft(a11 ^ d4, 8);
            b4 = BitOperations.RotateLeft(a12 ^ d0, 18);
            a10 = b0 ^ (~b1 & b2);
            a11 = b1 ^ (~b2 & b3);
            a12 = b2 ^ (~b3 & b4);
            a13 = b3 ^ (~b4 & b0);
            a14 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a17 ^ d4, 27);
            b1 = BitOperations.RotateLeft(a18 ^ d0, 36);
            b2 = BitOperations.RotateLeft(a19 ^ d1, 10);
            b3 = BitOperations.RotateLeft(a15 ^ d2, 15);
            b4 = BitOperations.RotateLeft(a16 ^ d3, 56);
            a15 = b0 ^ (~b1 & b2);
            a16 = b1 ^ (~b2 & b3);
            a17 = b2 ^ (~b3 & b4);
            a18 = b3 ^ (~b4 & b0);
            a19 = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(a21 ^ d2, 62);
            b1 = BitOperations.RotateLeft(a22 ^ d3, 55);
            b2 = BitOperations.RotateLeft(a23 ^ d4, 39);
            b3 = BitOperations.RotateLeft(a24 ^ d0, 41);
            b4 = BitOperations.RotateLeft(a20 ^ d1, 2);
            a20 = b0 ^ (~b1 & b2);
            a21 = b1 ^ (~b2 & b3);
            a22 = b2 ^ (~b3 & b4);
            a23 = b3 ^ (~b4 & b0);
            a24 = b4 ^ (~b0 & b1);
        }
        Unsafe.Add(ref lane, 0) = a00;
        Unsafe.Add(ref lane, 1) = a01;
        Unsafe.Add(ref lane, 2) = a02;
        Unsafe.Add(ref lane, 3) = a03;
        Unsafe.Add(ref lane, 4) = a04;
        Unsafe.Add(ref lane, 5) = a05;
        Unsafe.Add(ref lane, 6) = a06;
        Unsafe.Add(ref lane, 7) = a07;
        Unsafe.Add(ref lane, 8) = a08;
        Unsafe.Add(ref lane, 9) = a09;
        Unsafe.Add(ref lane, 10) = a10;
        Unsafe.Add(ref lane, 11) = a11;
        Unsafe.Add(ref lane, 12) = a12;
        Unsafe.Add(ref lane, 13) = a13;
        Unsafe.Add(ref lane, 14) = a14;
        Unsafe.Add(ref lane, 15) = a15;
        Unsafe.Add(ref lane, 16) = a16;
        Unsafe.Add(ref lane, 17) = a17;
        Unsafe.Add(ref lane, 18) = a18;
        Unsafe.Add(ref lane, 19) = a19;
        Unsafe.Add(ref lane, 20) = a20;
        Unsafe.Add(ref lane, 21) = a21;
        Unsafe.Add(ref lane, 22) = a22;
        Unsafe.Add(ref lane, 23) = a23;
        Unsafe.Add(ref lane, 24) = a24;
    }
}
