using System.Runtime.Intrinsics;
using Keel.Core.Field;
using Keel.Prover.Polynomials;

namespace Keel.Prover.Tests.Polynomials;

public class GoldilocksX8Tests
{
    private static readonly ulong[] Edges =
    [
        0, 1, 2, Goldilocks.Epsilon - 1, Goldilocks.Epsilon, Goldilocks.Epsilon + 1, 1UL << 32, (1UL << 32) + 1,
        1UL << 63, (1UL << 63) - 1, Goldilocks.Modulus - 1, Goldilocks.Modulus - 2, Goldilocks.Modulus - Goldilocks.Epsilon,
        Goldilocks.Modulus - (1UL << 32), 0xFFFF_FFFE_FFFF_FFFF, 0x8000_0000_FFFF_FFFF,
    ];

    [Fact]
    public void Vector_operations_equal_the_scalar_ones()
    {
        if (!GoldilocksX8.IsSupported)
        {
            return;
        }
        var rng = new Random(9);
        ulong Pick(int i) => i % 3 == 0 ? Edges[rng.Next(Edges.Length)] : Goldilocks.Canonicalize((ulong)rng.NextInt64() * 2 + (ulong)rng.Next(2));
        var a = new ulong[8];
        var b = new ulong[8];
        for (var round = 0; round < 20_000; round++)
        {
            for (var i = 0; i < 8; i++)
            {
                a[i] = Pick(round + i);
                b[i] = Pick(round + 2 * i + 1);
            }
            if (round < Edges.Length * Edges.Length / 8)
            {
                // Every pair of edge values once.
                for (var i = 0; i < 8; i++)
                {
                    var k = round * 8 + i;
                    a[i] = Edges[k / Edges.Length];
                    b[i] = Edges[k % Edges.Length];
                }
            }
            var va = Vector512.Create(a);
            var vb = Vector512.Create(b);
            var sum = GoldilocksX8.Add(va, vb);
            var diff = GoldilocksX8.Sub(va, vb);
            var product = GoldilocksX8.Mul(va, vb);
            for (var i = 0; i < 8; i++)
            {
                Assert.Equal(Goldilocks.Add(a[i], b[i]), sum[i]);
                Assert.Equal(Goldilocks.Sub(a[i], b[i]), diff[i]);
                Assert.Equal(Goldilocks.Mul(a[i], b[i]), product[i]);
            }
        }
    }

    [Fact]
    public void Reduce128_equals_the_scalar_one_on_any_input()
    {
        if (!GoldilocksX8.IsSupported)
        {
            return;
        }
        var rng = new Random(10);
        var hi = new ulong[8];
        var lo = new ulong[8];
        for (var round = 0; round < 20_000; round++)
        {
            for (var i = 0; i < 8; i++)
            {
                hi[i] = i % 2 == 0 ? (ulong)rng.NextInt64() * 3 : Edges[rng.Next(Edges.Length)] | (ulong.MaxValue << rng.Next(64));
                lo[i] = i % 3 == 0 ? Edges[rng.Next(Edges.Length)] : (ulong)rng.NextInt64() * 5;
            }
            var r = GoldilocksX8.Reduce128(Vector512.Create(hi), Vector512.Create(lo));
            for (var i = 0; i < 8; i++)
            {
                Assert.Equal(Goldilocks.Reduce128(hi[i], lo[i]), r[i]);
            }
        }
    }
}
