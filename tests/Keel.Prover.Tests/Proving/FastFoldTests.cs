using Keel.Core.Field;
using Keel.Prover.Proving;
using Keel.Prover.Stark;

namespace Keel.Prover.Tests.Proving;

public class FastFoldTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public void Fold_equals_the_verifiers_fold(int f)
    {
        var rng = new Random(f);
        ulong Element() => Goldilocks.Canonicalize((ulong)rng.NextInt64() * 3);
        var roots = FriFolding.InverseRootPowers(f);
        var inverseF = Goldilocks.Inverse((ulong)f);
        var fold = new FastFold(f, roots);
        var values = new GoldilocksExt2[f];
        var scratch = new GoldilocksExt2[f];
        for (var round = 0; round < 200; round++)
        {
            for (var t = 0; t < f; t++)
            {
                values[t] = new GoldilocksExt2(Element(), Element());
            }
            var beta = new GoldilocksExt2(Element(), Element());
            var xInverse = Element() | 1;
            Assert.Equal(FriFolding.FoldCoset(values, xInverse, beta, roots, inverseF), fold.Fold(values, scratch, xInverse, beta, inverseF));
        }
    }
}
