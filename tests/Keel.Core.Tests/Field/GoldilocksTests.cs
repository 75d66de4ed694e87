using System.Numerics;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Field;

namespace Keel.Core.Tests.Field;

public class GoldilocksTests
{
    private static readonly BigInteger P = Goldilocks.Modulus;

    private static ulong Ref(BigInteger x) => (ulong)(((x % P) + P) % P);

    // Values near the edges of the representation, where reduction bugs live.
    private static readonly ulong[] Edge =
    [
        0, 1, 2, Goldilocks.Epsilon, Goldilocks.Epsilon + 1, 1UL << 32, (1UL << 63) - 1, 1UL << 63,
        Goldilocks.Modulus - 1, Goldilocks.Modulus - 2, Goldilocks.Modulus - Goldilocks.Epsilon, 0xFFFF_FFFE_FFFF_FFFF, 0x8000_0000_7FFF_FFFF,
    ];

    private static Arbitrary<ulong> Elements() =>
        Gen.OneOf(Gen.Elements(Edge), ArbMap.Default.GeneratorFor<ulong>().Select(Goldilocks.Canonicalize)).ToArbitrary();

    [Fact]
    public void Add_sub_mul_match_big_integer_arithmetic()
    {
        Prop.ForAll(Elements(), Elements(), (a, b) =>
            Goldilocks.Add(a, b) == Ref((BigInteger)a + b)
            && Goldilocks.Sub(a, b) == Ref((BigInteger)a - b)
            && Goldilocks.Mul(a, b) == Ref((BigInteger)a * b)
            && Goldilocks.Neg(a) == Ref(-(BigInteger)a)).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Edge_values_pairwise_match_big_integer_arithmetic()
    {
        foreach (var a in Edge)
        {
            foreach (var b in Edge)
            {
                Assert.Equal(Ref((BigInteger)a + b), Goldilocks.Add(a, b));
                Assert.Equal(Ref((BigInteger)a - b), Goldilocks.Sub(a, b));
                Assert.Equal(Ref((BigInteger)a * b), Goldilocks.Mul(a, b));
            }
        }
    }

    [Fact]
    public void Reduce128_handles_every_128_bit_input()
    {
        Prop.ForAll<ulong, ulong>((hi, lo) =>
            Goldilocks.Reduce128(hi, lo) == Ref(((BigInteger)hi << 64) + lo)).QuickCheckThrowOnFailure();
        Assert.Equal(Ref((BigInteger.One << 128) - 1), Goldilocks.Reduce128(ulong.MaxValue, ulong.MaxValue));
    }

    [Fact]
    public void Inverse_times_value_is_one_and_zero_is_rejected()
    {
        Prop.ForAll(Elements(), a => a == 0 || Goldilocks.Mul(a, Goldilocks.Inverse(a)) == 1).QuickCheckThrowOnFailure();
        Assert.Throws<FieldDivisionByZeroException>(() => Goldilocks.Inverse(0));
    }

    [Fact]
    public void Batch_inverse_matches_single_inverses_and_may_alias()
    {
        var values = new ulong[1000];
        var rng = new Random(5);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Goldilocks.Canonicalize((ulong)rng.NextInt64() | 1);
        }
        var result = new ulong[values.Length];
        Goldilocks.BatchInverse(values, result);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(Goldilocks.Inverse(values[i]), result[i]);
        }
        var copy = (ulong[])values.Clone();
        Goldilocks.BatchInverse(copy, copy);
        Assert.Equal(result, copy);

        values[17] = 0;
        var ex = Assert.Throws<FieldDivisionByZeroException>(() => Goldilocks.BatchInverse(values, result));
        Assert.Equal(17, ex.Index);
    }

    [Fact]
    public void Non_canonical_values_are_rejected_where_canonical_is_required()
    {
        Assert.Throws<NonCanonicalFieldElementException>(() => Goldilocks.FromCanonical(Goldilocks.Modulus));
        Assert.Throws<NonCanonicalFieldElementException>(() => Goldilocks.Parse("18446744073709551615"));
        Assert.Throws<FormatException>(() => Goldilocks.Parse("12x"));
        Assert.Equal(5UL, Goldilocks.FromUInt64(Goldilocks.Modulus + 5).Value);
        Assert.Equal(255UL, Goldilocks.Parse("0xff").Value);
    }

    [Fact]
    public void Struct_operators_agree_with_static_operations()
    {
        var a = Goldilocks.FromUInt64(123456789012345);
        var b = Goldilocks.FromUInt64(Goldilocks.Modulus - 3);
        Assert.Equal(Goldilocks.Add(a.Value, b.Value), (a + b).Value);
        Assert.Equal(Goldilocks.Mul(a.Value, b.Value), (a * b).Value);
        Assert.Equal(a, a * b / b);
        Assert.Equal(Goldilocks.Zero, a + (-a));
    }

    [Fact]
    public void Roots_of_unity_match_the_published_two_adic_generators()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Field", "goldilocks-ntt.txt"));
        var matches = Regex.Matches(text, @"w_(\d+)\s*=\s*0x[0-9a-f]+\s*=\s*(\d+)");
        Assert.Equal(33, matches.Count);
        foreach (Match m in matches)
        {
            var k = int.Parse(m.Groups[1].Value);
            var w = ulong.Parse(m.Groups[2].Value);
            Assert.Equal(w, Goldilocks.RootOfUnity(k));
            // Order exactly 2^k: w^(2^k) = 1 and, for k > 0, w^(2^(k-1)) = -1.
            Assert.Equal(1UL, Goldilocks.Pow(w, 1UL << k));
            if (k > 0)
            {
                Assert.Equal(Goldilocks.Modulus - 1, Goldilocks.Pow(w, 1UL << (k - 1)));
            }
        }
        Assert.Equal(Goldilocks.TwoAdicRoot, Goldilocks.Pow(Goldilocks.GeneratorValue, (Goldilocks.Modulus - 1) >> 32));

        // Winterfell's root is another primitive 2^32-th root; the file records its order-64 power as 8.
        var winterfell = ulong.Parse(Regex.Match(text, @"r_32 = (\d+)").Groups[1].Value);
        Assert.Equal(Goldilocks.Modulus - 1, Goldilocks.Pow(winterfell, 1UL << 31));
        Assert.Equal(8UL, Goldilocks.Pow(winterfell, 1UL << 26));
    }

    [Fact]
    public void Seven_generates_the_multiplicative_group()
    {
        // p - 1 = 2^32 * 3 * 5 * 17 * 257 * 65537; 7 is a generator iff 7^((p-1)/q) != 1 for every prime q.
        foreach (var q in new ulong[] { 2, 3, 5, 17, 257, 65537 })
        {
            Assert.NotEqual(1UL, Goldilocks.Pow(7, (Goldilocks.Modulus - 1) / q));
        }
    }
}
