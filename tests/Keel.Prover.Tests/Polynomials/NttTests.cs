using System.Text.RegularExpressions;
using Keel.Core.Field;
using Keel.Prover.Polynomials;

namespace Keel.Prover.Tests.Polynomials;

public class NttTests
{
    private static string VectorText => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Polynomials", "goldilocks-ntt.txt"));

    private static ulong[] Decimals(string s) => [.. s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ulong.Parse)];

    private static ulong[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new ulong[n];
        for (var i = 0; i < n; i++)
        {
            v[i] = Goldilocks.Canonicalize((ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40));
        }
        return v;
    }

    private static ulong[] NaiveDft(ulong[] x, ulong root)
    {
        var y = new ulong[x.Length];
        for (var k = 0; k < x.Length; k++)
        {
            ulong acc = 0;
            var wk = Goldilocks.Pow(root, (ulong)k);
            var w = 1UL;
            for (var j = 0; j < x.Length; j++)
            {
                acc = Goldilocks.Add(acc, Goldilocks.Mul(x[j], w));
                w = Goldilocks.Mul(w, wk);
            }
            y[k] = acc;
        }
        return y;
    }

    [Fact]
    public void All_known_answer_transforms_pass_with_their_roots()
    {
        var m = Regex.Matches(VectorText, @"n=(\d+), root = (Plonky3|Winterfell)[^=]*= (\d+)\s*\n\s*x = ([0-9, ]+)\n\s*y = ([0-9, ]+)");
        Assert.Equal(6, m.Count);
        foreach (Match v in m)
        {
            var n = int.Parse(v.Groups[1].Value);
            var root = ulong.Parse(v.Groups[3].Value);
            var x = Decimals(v.Groups[4].Value);
            var y = Decimals(v.Groups[5].Value);
            Assert.Equal(n, x.Length);
            var data = (ulong[])x.Clone();
            if (v.Groups[2].Value == "Plonky3")
            {
                Assert.Equal(root, Goldilocks.RootOfUnity(System.Numerics.BitOperations.Log2((uint)n)));
                Ntt.Forward(data);
                Assert.Equal(y, data);
                Ntt.Inverse(data);
                Assert.Equal(x, data);
            }
            else
            {
                Ntt.ForwardWithRoot(data, root);
                Assert.Equal(y, data);
            }
        }
    }

    [Fact]
    public void Coset_low_degree_extension_matches_the_known_answer()
    {
        var m = Regex.Match(VectorText, @"evals\[k\] = f\(7 \* w_3\^k\), k=0..7 = ([0-9, ]+)");
        Assert.True(m.Success);
        var expected = Decimals(m.Groups[1].Value);
        var output = new ulong[8];
        Ntt.CosetEvaluate([1, 2, 3, 4], 7, output);
        Assert.Equal(expected, output);

        // The same through LowDegreeExtend: evaluations on <w_2> first, then extended.
        var evals = new ulong[4];
        Ntt.CosetEvaluate([1, 2, 3, 4], 1, evals);
        Assert.Equal(expected, Ntt.LowDegreeExtend(evals, 2, 7));
        Assert.Equal(new ulong[] { 1, 2, 3, 4 }, evals); // left holding the coefficients
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(32)]
    [InlineData(256)]
    public void Forward_matches_a_naive_dft(int n)
    {
        var x = Random(n, n);
        var data = (ulong[])x.Clone();
        Ntt.Forward(data);
        Assert.Equal(NaiveDft(x, Goldilocks.RootOfUnity(System.Numerics.BitOperations.Log2((uint)n))), data);
    }

    [Theory]
    [InlineData(1 << 12)]
    [InlineData(1 << 15)]
    [InlineData(1 << 17)]
    public void Multi_threaded_equals_single_threaded_and_inverse_round_trips(int n)
    {
        var x = Random(n, 7);
        var single = (ulong[])x.Clone();
        var multi = (ulong[])x.Clone();
        Ntt.Forward(single, 1);
        Ntt.Forward(multi, 4);
        Assert.Equal(single, multi);
        Ntt.Inverse(multi, 4);
        Assert.Equal(x, multi);
    }

    [Fact]
    public void Forward_is_evaluation_at_powers_of_the_root()
    {
        // Spot checks against Horner at a few points of a 2^13 transform (beyond the naive test's reach).
        const int n = 1 << 13;
        var coefficients = Random(n, 3);
        var data = (ulong[])coefficients.Clone();
        Ntt.Forward(data);
        var w = Goldilocks.RootOfUnity(13);
        foreach (var k in new[] { 0, 1, 4095, 4096, 8191 })
        {
            Assert.Equal(GoldilocksExt2.FromBase(data[k]), Ntt.EvaluateAt(coefficients, GoldilocksExt2.FromBase(Goldilocks.Pow(w, (ulong)k))));
        }
    }

    [Fact]
    public void Bad_sizes_and_roots_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Ntt.Forward(new ulong[3]));
        Assert.Throws<ArgumentException>(() => Ntt.Forward(Array.Empty<ulong>()));
        Assert.Throws<ArgumentException>(() => Ntt.ForwardWithRoot(new ulong[8], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ntt.LowDegreeExtend(new ulong[8], 3, 7));
    }
}
