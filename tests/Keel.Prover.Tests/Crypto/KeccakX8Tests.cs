using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Keel.Core.Crypto;
using Keel.Prover.Crypto;

namespace Keel.Prover.Tests.Crypto;

public class KeccakX8Tests
{
    [Fact]
    public unsafe void Eight_row_hashes_equal_the_scalar_hash_for_every_block_boundary()
    {
        if (!KeccakX8.IsSupported)
        {
            return; // nothing to compare on machines without AVX-512
        }
        var rng = new Random(5);
        // 1..40 words cover a single partial block, exactly one full block (17 words) and two blocks.
        for (var words = 1; words <= 40; words++)
        {
            const int rows = 16;
            var columns = new ulong[words][];
            for (var c = 0; c < words; c++)
            {
                columns[c] = new ulong[rows];
                for (var r = 0; r < rows; r++)
                {
                    columns[c][r] = (ulong)rng.NextInt64();
                }
            }
            var handles = columns.Select(c => GCHandle.Alloc(c, GCHandleType.Pinned)).ToArray();
            try
            {
                var pointers = handles.Select(h => h.AddrOfPinnedObject()).ToArray();
                var output = new byte[8 * 32];
                fixed (nint* p = pointers)
                fixed (byte* o = output)
                {
                    KeccakX8.HashColumnRows((ulong**)p, words, 8, o);
                }
                for (var i = 0; i < 8; i++)
                {
                    var bytes = new byte[words * 8];
                    for (var c = 0; c < words; c++)
                    {
                        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(c * 8), columns[c][8 + i]);
                    }
                    Assert.Equal(Keccak256.Hash(bytes), output.AsSpan(i * 32, 32).ToArray());
                }
            }
            finally
            {
                foreach (var h in handles)
                {
                    h.Free();
                }
            }
        }
    }

    [Fact]
    public unsafe void Eight_pair_hashes_equal_the_scalar_hash()
    {
        if (!KeccakX8.IsSupported)
        {
            return;
        }
        var input = new byte[8 * 64];
        new Random(6).NextBytes(input);
        var output = new byte[8 * 32];
        fixed (byte* i = input)
        fixed (byte* o = output)
        {
            KeccakX8.HashPairs(i, o);
        }
        for (var k = 0; k < 8; k++)
        {
            Assert.Equal(Keccak256.Hash(input.AsSpan(k * 64, 64)), output.AsSpan(k * 32, 32).ToArray());
        }
    }

    [Fact]
    public void Merkle_roots_of_grouped_rows_equal_the_scalar_construction()
    {
        // Narrow rows are grouped several per leaf; the vectorized tree must hash them exactly as
        // HashLeaf over the row-major words of each group.
        var rng = new Random(7);
        foreach (var words in new[] { 1, 2, 3, 8, 9 })
        {
            const int rows = 256;
            var columns = new ulong[words][];
            for (var c = 0; c < words; c++)
            {
                columns[c] = new ulong[rows];
                for (var r = 0; r < rows; r++)
                {
                    columns[c][r] = (ulong)rng.NextInt64();
                }
            }
            var tree = new MerkleTree(new ColumnRows(columns));
            var g = tree.RowsPerLeaf;
            var level = new List<byte[]>();
            for (var leaf = 0; leaf < rows / g; leaf++)
            {
                var row = new ulong[g * words];
                for (var k = 0; k < row.Length; k++)
                {
                    row[k] = columns[k % words][leaf * g + k / words];
                }
                var hash = new byte[32];
                MerkleTree.HashLeaf(row, new byte[row.Length * 8], hash);
                level.Add(hash);
            }
            while (level.Count > 1)
            {
                var next = new List<byte[]>();
                for (var i = 0; i < level.Count; i += 2)
                {
                    var parent = new byte[32];
                    MerkleTree.HashPair(level[i], level[i + 1], parent);
                    next.Add(parent);
                }
                level = next;
            }
            Assert.Equal(level[0], tree.Root.Bytes.ToArray());
        }
    }
}
