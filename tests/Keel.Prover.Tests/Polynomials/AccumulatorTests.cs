using Keel.Core.Field;
using Keel.Prover.Polynomials;

namespace Keel.Prover.Tests.Polynomials;

public class AccumulatorTests
{
    [Fact]
    public void Unreduced_sums_equal_field_sums_even_when_the_middle_word_overflows()
    {
        var rng = new Random(3);
        foreach (var terms in new[] { 1, 2, 7, 100, 5000 })
        {
            foreach (var extreme in new[] { false, true })
            {
                var acc = default(Accumulator);
                var expected = 0UL;
                for (var i = 0; i < terms; i++)
                {
                    // p - 1 squared is the largest product: thousands of them carry out of 128 bits.
                    var a = extreme ? Goldilocks.Modulus - 1 : Goldilocks.Canonicalize((ulong)rng.NextInt64() * 3);
                    var b = extreme ? Goldilocks.Modulus - 1 - (ulong)(i % 3) : Goldilocks.Canonicalize((ulong)rng.NextInt64() * 5);
                    acc.MulAdd(a, b);
                    expected = Goldilocks.Add(expected, Goldilocks.Mul(a, b));
                    if (i % 7 == 0)
                    {
                        acc.Add(a);
                        expected = Goldilocks.Add(expected, a);
                    }
                }
                Assert.Equal(expected, acc.Reduce());
                if (extreme && terms >= 100)
                {
                    Assert.NotEqual(0UL, acc.Top);
                }
            }
        }
    }
}
