using System.Buffers.Binary;
using Keel.Core;

namespace Keel.Rollup.Hashing;

/// <summary>
/// How rollup values become Goldilocks field elements. Every integer is split into 32-bit limbs,
/// least significant limb first, so that each limb is far below p and the STARK can range-check
/// it and add with carries without ever reducing mod p. See docs/rollup.md, "Field encoding".
/// </summary>
public static class FieldEncoding
{
    public const int AddressLimbs = 5;
    public const int AmountLimbs = 4;
    public const int U64Limbs = 2;

    /// <summary>The 160-bit address read as a big-endian integer, in five 32-bit limbs, least
    /// significant first: limb 0 = bytes 16..19, limb 4 = bytes 0..3.</summary>
    public static void WriteAddress(Address address, Span<ulong> destination)
    {
        ReadOnlySpan<byte> b = address.Bytes;
        for (int i = 0; i < AddressLimbs; i++)
            destination[i] = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(16 - 4 * i, 4));
    }

    /// <summary>A 128-bit amount in four 32-bit limbs, least significant first.</summary>
    public static void WriteAmount(UInt128 value, Span<ulong> destination)
    {
        for (int i = 0; i < AmountLimbs; i++)
            destination[i] = (ulong)(uint)(value >> (32 * i));
    }

    /// <summary>A 64-bit integer in two 32-bit limbs, least significant first.</summary>
    public static void WriteU64(ulong value, Span<ulong> destination)
    {
        destination[0] = (uint)value;
        destination[1] = value >> 32;
    }

    /// <summary>Bit <paramref name="level"/> of the address as a 160-bit integer (bit 0 is the
    /// least significant bit of byte 19). It selects left (0) or right (1) at that tree level.</summary>
    public static int AddressBit(Address address, int level)
    {
        if ((uint)level >= 160)
            throw new ArgumentOutOfRangeException(nameof(level));
        byte b = address.Bytes[19 - (level >> 3)];
        return (b >> (level & 7)) & 1;
    }
}
