using Keel.Core.Field;
using Keel.Prover.Crypto;

namespace Keel.Prover.Tests.Crypto;

public class TranscriptTests
{
    [Fact]
    public void Same_absorbs_give_same_draws_and_any_difference_changes_them()
    {
        var a = new Transcript("x"u8);
        var b = new Transcript("x"u8);
        var c = new Transcript("x"u8);
        a.AbsorbUInt64(5);
        b.AbsorbUInt64(5);
        c.AbsorbUInt64(6);
        var da = a.DrawExt();
        Assert.Equal(da, b.DrawExt());
        Assert.NotEqual(da, c.DrawExt());
        // Successive draws differ; a later absorb reseeds.
        Assert.NotEqual(da, a.DrawExt());
        a.AbsorbUInt64(1);
        b.DrawExt();
        b.AbsorbUInt64(1);
        Assert.Equal(a.DrawElement(), b.DrawElement());
    }

    [Fact]
    public void Draws_are_canonical_and_positions_in_range()
    {
        var t = new Transcript("y"u8);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(Goldilocks.IsCanonical(t.DrawElement()));
        }
        var positions = t.DrawPositions(1000, 64);
        Assert.All(positions, p => Assert.InRange(p, 0, 63));
        Assert.True(positions.Distinct().Count() > 50);
    }

    [Fact]
    public void Proof_of_work_counts_leading_zero_bits()
    {
        var seed = new byte[32];
        var found = Enumerable.Range(0, 5000).Select(n => Transcript.ProofOfWorkBits(seed, (ulong)n)).ToArray();
        // About half of all nonces have at least one zero bit, a sixteenth at least four.
        Assert.InRange(found.Count(b => b >= 1), 2200, 2800);
        Assert.InRange(found.Count(b => b >= 4), 200, 450);
    }
}
