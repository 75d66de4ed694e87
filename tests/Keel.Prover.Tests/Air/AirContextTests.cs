using Keel.Core.Field;
using Keel.Prover.Air;
using Keel.Prover.Stark;

namespace Keel.Prover.Tests.Air;

public class AirContextTests
{
    private sealed class TestAir : IAir
    {
        public string Name { get; init; } = "test";
        public int TraceWidth { get; init; } = 2;
        public int TraceLength { get; init; } = 16;
        public IReadOnlyList<ulong> PublicInputs { get; init; } = [];
        public IReadOnlyList<Expr> TransitionConstraints { get; init; } = [Expr.Next(0) - Expr.Cur(1)];
        public IReadOnlyList<Assertion> Assertions { get; init; } = [new(0, 0, 1)];
        public IReadOnlyList<ulong[]> PeriodicColumns { get; init; } = [];
    }

    private static void Invalid(IAir air, string fragment, ProofOptions? options = null)
    {
        var e = Assert.Throws<AirDefinitionException>(() => new AirContext(air, options ?? ProofOptions.Default));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Valid_air_gets_its_derived_sizes()
    {
        var ctx = new AirContext(new TestAir { TraceLength = 1 << 10 }, ProofOptions.Default);
        Assert.Equal(1 << 13, ctx.LdeSize);
        Assert.Equal(1, ctx.CompositionColumns);
        Assert.Equal(2, ctx.FriLayers); // 1024 -> 128 -> 16 (<= 64)
        Assert.Equal(16, ctx.RemainderSize);
    }

    [Fact]
    public void Bad_shapes_and_references_are_rejected()
    {
        Invalid(new TestAir { TraceLength = 12 }, "power of two");
        Invalid(new TestAir { TraceLength = 4 }, "trace length");
        Invalid(new TestAir { TraceWidth = 0 }, "width");
        Invalid(new TestAir { TransitionConstraints = [Expr.Cur(2)] }, "column 2");
        Invalid(new TestAir { TransitionConstraints = [Expr.Periodic(0)] }, "periodic column 0");
        Invalid(new TestAir { TransitionConstraints = [Expr.PublicInput(1)], PublicInputs = [5] }, "public input 1");
        Invalid(new TestAir { PeriodicColumns = [new ulong[3]] }, "cycle length");
        Invalid(new TestAir { PeriodicColumns = [new ulong[32]] }, "cycle length");
        Invalid(new TestAir { Assertions = [new(0, 16, 1)] }, "assertion");
        Invalid(new TestAir { Assertions = [new(0, 0, Goldilocks.Modulus)] }, "assertion");
        Invalid(new TestAir { PublicInputs = [Goldilocks.Modulus] }, "public input");
        Invalid(new TestAir { Name = "" }, "name");
        Invalid(new TestAir { TransitionConstraints = [], Assertions = [] }, "proves nothing");
    }

    [Fact]
    public void Constraint_degree_must_fit_the_blowup()
    {
        var cubic = new TestAir { TransitionConstraints = [Expr.Next(0) - Expr.Cur(0).Pow(3)] };
        Assert.Equal(2, new AirContext(cubic, ProofOptions.Default).CompositionColumns);
        Invalid(cubic, "raise the blowup", new ProofOptions(LogBlowup: 1));
        var degree5 = new TestAir { TransitionConstraints = [Expr.Next(0) - Expr.Cur(0).Pow(5)] };
        Invalid(degree5, "raise the blowup", new ProofOptions(LogBlowup: 2));
    }

    [Fact]
    public void Periodic_columns_interpolate_their_cycle()
    {
        ulong[] cycle = [5, 6, 7, 8];
        var column = new PeriodicColumn(cycle, 16);
        var g = Goldilocks.RootOfUnity(4);
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal(GoldilocksExt2.FromBase(cycle[i % 4]), column.EvaluateAt(GoldilocksExt2.FromBase(Goldilocks.Pow(g, (ulong)i))));
        }
        // On the coset: entry i is the polynomial at shift * w_(16*blowup)^i.
        var lde = column.ExtendOnCoset(2, 7);
        var w = Goldilocks.RootOfUnity(5);
        for (var i = 0; i < 32; i++)
        {
            var x = Goldilocks.Mul(7, Goldilocks.Pow(w, (ulong)i));
            Assert.Equal(GoldilocksExt2.FromBase(lde[i % lde.Length]), column.EvaluateAt(GoldilocksExt2.FromBase(x)));
        }
    }
}
