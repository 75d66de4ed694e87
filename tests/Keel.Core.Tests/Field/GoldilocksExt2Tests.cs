using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Field;

namespace Keel.Core.Tests.Field;

public class GoldilocksExt2Tests
{
    private static Arbitrary<GoldilocksExt2> Elements() =>
        (from a in ArbMap.Default.GeneratorFor<ulong>()
         from b in Gen.OneOf(Gen.Constant(0UL), ArbMap.Default.GeneratorFor<ulong>())
         select new GoldilocksExt2(Goldilocks.Canonicalize(a), Goldilocks.Canonicalize(b))).ToArbitrary();

    [Fact]
    public void Field_axioms_hold()
    {
        Prop.ForAll(Elements(), Elements(), Elements(), (a, b, c) =>
            a * (b + c) == a * b + a * c
            && a * b == b * a
            && (a * b) * c == a * (b * c)
            && a - b + b == a
            && (a.IsZero || a * GoldilocksExt2.Inverse(a) == GoldilocksExt2.One)).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void U_squared_is_seven_and_base_field_embeds()
    {
        var u = new GoldilocksExt2(0, 1);
        Assert.Equal(GoldilocksExt2.FromBase(7), u * u);
        Assert.Equal(GoldilocksExt2.FromBase(Goldilocks.Mul(123, 456)), GoldilocksExt2.FromBase(123) * GoldilocksExt2.FromBase(456));
        Assert.Equal(GoldilocksExt2.MulBase(new GoldilocksExt2(3, 4), 5), new GoldilocksExt2(3, 4) * GoldilocksExt2.FromBase(5));
    }

    [Fact]
    public void Frobenius_is_conjugation_so_the_extension_has_p_squared_elements()
    {
        // x^p = a0 - a1 u holds exactly when u^2 = 7 is irreducible (7 a non-residue).
        var x = new GoldilocksExt2(987654321, 123456789);
        Assert.Equal(new GoldilocksExt2(x.A0, Goldilocks.Neg(x.A1)), GoldilocksExt2.Pow(x, Goldilocks.Modulus));
        Assert.Equal(Goldilocks.Modulus - 1, Goldilocks.Pow(7, (Goldilocks.Modulus - 1) / 2));
    }

    [Fact]
    public void Batch_inverse_matches_single_inverses()
    {
        var rng = new Random(9);
        var values = new GoldilocksExt2[300];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = new GoldilocksExt2(Goldilocks.Canonicalize((ulong)rng.NextInt64()), Goldilocks.Canonicalize((ulong)rng.NextInt64()) | 1);
        }
        var result = new GoldilocksExt2[values.Length];
        GoldilocksExt2.BatchInverse(values, result);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(GoldilocksExt2.Inverse(values[i]), result[i]);
        }
        Assert.Throws<FieldDivisionByZeroException>(() => GoldilocksExt2.Inverse(GoldilocksExt2.Zero));
    }
}
