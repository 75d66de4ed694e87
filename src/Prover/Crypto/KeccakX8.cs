using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Keel.Prover.Crypto;

/// <summary>
/// Eight Keccak-256 hashes at once, one per 64-bit lane of AVX-512 vectors (Ethereum padding, as
/// <see cref="Keel.Core.Crypto.Keccak256"/>). Merkle leaves of column-major matrices need no
/// transposition: word c of eight consecutive rows is one vector load from column c. Rotations
/// and the three-input chi and parity steps are single instructions (vprolq, vpternlogq).
/// Callers check <see cref="IsSupported"/> and fall back to the scalar hash.
/// </summary>
internal static unsafe class KeccakX8
{
    public const int Lanes = 8;
    private const int RateLanes = Keel.Core.Crypto.Keccak256.RateBytes / 8;
    private const int StateLanes = 25;

    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    private static ReadOnlySpan<ulong> RoundConstants => Keel.Core.Crypto.Keccak256.RoundConstants;

    /// <summary>
    /// Hashes rows row..row+7 of a column-major matrix: message i is the words columns[c][row + i]
    /// for c = 0..words-1, 8 bytes little-endian each. Writes 8 hashes of 32 bytes to output.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void HashColumnRows(ulong** columns, int words, int row, byte* output)
    {
        var state = stackalloc Vector512<ulong>[StateLanes];
        for (var i = 0; i < StateLanes; i++)
        {
            state[i] = Vector512<ulong>.Zero;
        }
        var c = 0;
        while (words - c >= RateLanes)
        {
            for (var k = 0; k < RateLanes; k++)
            {
                state[k] = Avx512F.Xor(state[k], Vector512.Load(columns[c + k] + row));
            }
            Permute(state);
            c += RateLanes;
        }
        var tail = words - c;
        for (var k = 0; k < tail; k++)
        {
            state[k] = Avx512F.Xor(state[k], Vector512.Load(columns[c + k] + row));
        }
        Pad(state, tail);
        Permute(state);
        Squeeze(state, output);
    }

    /// <summary>
    /// Hashes leaves firstLeaf..firstLeaf+7 of a column-major matrix whose leaves group
    /// <paramref name="rowsPerLeaf"/> consecutive rows (row-major words inside a leaf, at most one
    /// Keccak block): message i is rows (firstLeaf + i) * rowsPerLeaf onward. Writes 8 hashes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void HashGroupedRows(ulong** columns, int words, int rowsPerLeaf, int firstLeaf, byte* output)
    {
        var total = words * rowsPerLeaf;
        if (total >= RateLanes)
        {
            throw new ArgumentException("grouped leaves must fit one Keccak block", nameof(rowsPerLeaf));
        }
        var state = stackalloc Vector512<ulong>[StateLanes];
        for (var i = 0; i < StateLanes; i++)
        {
            state[i] = Vector512<ulong>.Zero;
        }
        // Lane k of leaf i is column k mod words at row (firstLeaf + i) * rowsPerLeaf + k / words:
        // strided, so gathered through the stack.
        var lanes = stackalloc ulong[RateLanes * Lanes];
        var baseRow = firstLeaf * rowsPerLeaf;
        for (var k = 0; k < total; k++)
        {
            var column = columns[k % words] + baseRow + k / words;
            for (var i = 0; i < Lanes; i++)
            {
                lanes[k * Lanes + i] = column[i * rowsPerLeaf];
            }
        }
        for (var k = 0; k < total; k++)
        {
            state[k] = Vector512.Load(lanes + k * Lanes);
        }
        Pad(state, total);
        Permute(state);
        Squeeze(state, output);
    }

    /// <summary>Hashes 8 pairs of 32-byte nodes: pair i is the 64 bytes at input + 64 i. Writes 8 hashes to output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void HashPairs(byte* input, byte* output)
    {
        var state = stackalloc Vector512<ulong>[StateLanes];
        for (var i = 0; i < StateLanes; i++)
        {
            state[i] = Vector512<ulong>.Zero;
        }
        // Lane k of pair i is the word at input + 64 i + 8 k: transposed through the stack (64 word
        // moves, little next to a permutation).
        var words = (ulong*)input;
        var lanes = stackalloc ulong[8 * Lanes];
        for (var i = 0; i < Lanes; i++)
        {
            for (var k = 0; k < 8; k++)
            {
                lanes[k * Lanes + i] = words[8 * i + k];
            }
        }
        for (var k = 0; k < 8; k++)
        {
            state[k] = Vector512.Load(lanes + k * Lanes);
        }
        Pad(state, 8);
        Permute(state);
        Squeeze(state, output);
    }

    /// <summary>Ethereum's Keccak padding after <paramref name="tailWords"/> whole words of the last block.</summary>
    private static void Pad(Vector512<ulong>* state, int tailWords)
    {
        state[tailWords] = Avx512F.Xor(state[tailWords], Vector512.Create(0x01UL));
        state[RateLanes - 1] = Avx512F.Xor(state[RateLanes - 1], Vector512.Create(0x80UL << 56));
    }

    private static void Squeeze(Vector512<ulong>* state, byte* output)
    {
        var words = (ulong*)output;
        for (var k = 0; k < 4; k++)
        {
            var lane = state[k];
            for (var i = 0; i < Lanes; i++)
            {
                // Little-endian machine (x86): the word's bytes are the hash bytes in order.
                words[4 * i + k] = lane.GetElement(i);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Permute(Vector512<ulong>* state)
    {
        ReadOnlySpan<ulong> rc = RoundConstants;
        var a00 = state[0];
        var a01 = state[1];
        var a02 = state[2];
        var a03 = state[3];
        var a04 = state[4];
        var a05 = state[5];
        var a06 = state[6];
        var a07 = state[7];
        var a08 = state[8];
        var a09 = state[9];
        var a10 = state[10];
        var a11 = state[11];
        var a12 = state[12];
        var a13 = state[13];
        var a14 = state[14];
        var a15 = state[15];
        var a16 = state[16];
        var a17 = state[17];
        var a18 = state[18];
        var a19 = state[19];
        var a20 = state[20];
        var a21 = state[21];
        var a22 = state[22];
        var a23 = state[23];
        var a24 = state[24];
        for (var round = 0; round < 24; round++)
        {
            {
                var c0 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a00, a05, a10, 0x96), a15, a20, 0x96);
                var c1 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a01, a06, a11, 0x96), a16, a21, 0x96);
                var c2 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a02, a07, a12, 0x96), a17, a22, 0x96);
                var c3 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a03, a08, a13, 0x96), a18, a23, 0x96);
                var c4 = Avx512F.TernaryLogic(Avx512F.TernaryLogic(a04, a09, a14, 0x96), a19, a24, 0x96);
                var d0 = Avx512F.Xor(c4, Avx512F.RotateLeft(c1, 1));
                var d1 = Avx512F.Xor(c0, Avx512F.RotateLeft(c2, 1));
                var d2 = Avx512F.Xor(c1, Avx512F.RotateLeft(c3, 1));
                var d3 = Avx512F.Xor(c2, Avx512F.RotateLeft(c4, 1));
                var d4 = Avx512F.Xor(c3, Avx512F.RotateLeft(c0, 1));
                var b00 = Avx512F.Xor(a00, d0);
                var b10 = Avx512F.RotateLeft(Avx512F.Xor(a01, d1), 1);
                var b20 = Avx512F.RotateLeft(Avx512F.Xor(a02, d2), 62);
                var b05 = Avx512F.RotateLeft(Avx512F.Xor(a03, d3), 28);
                var b15 = Avx512F.RotateLeft(Avx512F.Xor(a04, d4), 27);
                var b16 = Avx512F.RotateLeft(Avx512F.Xor(a05, d0), 36);
                var b01 = Avx512F.RotateLeft(Avx512F.Xor(a06, d1), 44);
                var b11 = Avx512F.RotateLeft(Avx512F.Xor(a07, d2), 6);
                var b21 = Avx512F.RotateLeft(Avx512F.Xor(a08, d3), 55);
                var b06 = Avx512F.RotateLeft(Avx512F.Xor(a09, d4), 20);
                var b07 = Avx512F.RotateLeft(Avx512F.Xor(a10, d0), 3);
                var b17 = Avx512F.RotateLeft(Avx512F.Xor(a11, d1), 10);
                var b02 = Avx512F.RotateLeft(Avx512F.Xor(a12, d2), 43);
                var b12 = Avx512F.RotateLeft(Avx512F.Xor(a13, d3), 25);
                var b22 = Avx512F.RotateLeft(Avx512F.Xor(a14, d4), 39);
                var b23 = Avx512F.RotateLeft(Avx512F.Xor(a15, d0), 41);
                var b08 = Avx512F.RotateLeft(Avx512F.Xor(a16, d1), 45);
                var b18 = Avx512F.RotateLeft(Avx512F.Xor(a17, d2), 15);
                var b03 = Avx512F.RotateLeft(Avx512F.Xor(a18, d3), 21);
                var b13 = Avx512F.RotateLeft(Avx512F.Xor(a19, d4), 8);
                var b14 = Avx512F.RotateLeft(Avx512F.Xor(a20, d0), 18);
                var b24 = Avx512F.RotateLeft(Avx512F.Xor(a21, d1), 2);
                var b09 = Avx512F.RotateLeft(Avx512F.Xor(a22, d2), 61);
                var b19 = Avx512F.RotateLeft(Avx512F.Xor(a23, d3), 56);
                var b04 = Avx512F.RotateLeft(Avx512F.Xor(a24, d4), 14);
                a00 = Avx512F.TernaryLogic(b00, b01, b02, 0xD2);
                a01 = Avx512F.TernaryLogic(b01, b02, b03, 0xD2);
                a02 = Avx512F.TernaryLogic(b02, b03, b04, 0xD2);
                a03 = Avx512F.TernaryLogic(b03, b04, b00, 0xD2);
                a04 = Avx512F.TernaryLogic(b04, b00, b01, 0xD2);
                a05 = Avx512F.TernaryLogic(b05, b06, b07, 0xD2);
                a06 = Avx512F.TernaryLogic(b06, b07, b08, 0xD2);
                a07 = Avx512F.TernaryLogic(b07, b08, b09, 0xD2);
                a08 = Avx512F.TernaryLogic(b08, b09, b05, 0xD2);
                a09 = Avx512F.TernaryLogic(b09, b05, b06, 0xD2);
                a10 = Avx512F.TernaryLogic(b10, b11, b12, 0xD2);
                a11 = Avx512F.TernaryLogic(b11, b12, b13, 0xD2);
                a12 = Avx512F.TernaryLogic(b12, b13, b14, 0xD2);
                a13 = Avx512F.TernaryLogic(b13, b14, b10, 0xD2);
                a14 = Avx512F.TernaryLogic(b14, b10, b11, 0xD2);
                a15 = Avx512F.TernaryLogic(b15, b16, b17, 0xD2);
                a16 = Avx512F.TernaryLogic(b16, b17, b18, 0xD2);
                a17 = Avx512F.TernaryLogic(b17, b18, b19, 0xD2);
                a18 = Avx512F.TernaryLogic(b18, b19, b15, 0xD2);
                a19 = Avx512F.TernaryLogic(b19, b15, b16, 0xD2);
                a20 = Avx512F.TernaryLogic(b20, b21, b22, 0xD2);
                a21 = Avx512F.TernaryLogic(b21, b22, b23, 0xD2);
                a22 = Avx512F.TernaryLogic(b22, b23, b24, 0xD2);
                a23 = Avx512F.TernaryLogic(b23, b24, b20, 0xD2);
                a24 = Avx512F.TernaryLogic(b24, b20, b21, 0xD2);
                a00 = Avx512F.Xor(a00, Vector512.Create(rc[round]));
            }
        }
        state[0] = a00;
        state[1] = a01;
        state[2] = a02;
        state[3] = a03;
        state[4] = a04;
        state[5] = a05;
        state[6] = a06;
        state[7] = a07;
        state[8] = a08;
        state[9] = a09;
        state[10] = a10;
        state[11] = a11;
        state[12] = a12;
        state[13] = a13;
        state[14] = a14;
        state[15] = a15;
        state[16] = a16;
        state[17] = a17;
        state[18] = a18;
        state[19] = a19;
        state[20] = a20;
        state[21] = a21;
        state[22] = a22;
        state[23] = a23;
        state[24] = a24;
    }
}
