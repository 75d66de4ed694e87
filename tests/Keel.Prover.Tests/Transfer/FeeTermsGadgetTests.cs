using System.Numerics;
using Keel.Core;
using Keel.Core.Field;
using Keel.Core.Hashing;
using Keel.Rollup.Hashing;
using Keel.Prover.Air;
using Keel.Prover.Proving;
using Keel.Prover.Transfer;
using Keel.Prover.Verification;

namespace Keel.Prover.Tests.Transfer;

/// <summary>
/// The fee-terms gadget: its witness against the statement's own rules (TransferStatement.Terms),
/// a small AIR embedding it proved and verified, and a cheating prover that lies about each output
/// and re-solves the other columns, which must always break a constraint or a range check.
/// </summary>
public class FeeTermsGadgetTests
{
    private static readonly Address Prover = Address.Parse("0x00000000000000000000000000000000000000fe");
    private static readonly UInt128 Max = UInt128.MaxValue;
    private static readonly BigInteger TwoTo128 = BigInteger.One << 128;

    /// <summary>(value, maxFee, priorityFee, baseFee): edge cases named in comments.</summary>
    private static readonly (UInt128 Value, UInt128 MaxFee, UInt128 Prio, UInt128 BaseFee)[] EdgeCases =
    [
        (0, 0, 0, 0), // zero everything
        (1000, 0, 0, 0), // zero fee
        (5, 7, 3, 0), // zero base fee
        (10, 100, 0, 100), // maxFee == baseFee, zero tip
        (10, 99, 5, 100), // baseFee > maxFee
        (10, 0, 0, 1), // baseFee > maxFee = 0
        (10, 0, 0, Max), // baseFee 2^128 - 1
        (10, 1000, 500, 700), // prio capped by maxFee
        (10, 1000, 200, 700), // prio below the cap
        (10, 1000, 300, 700), // prio exactly at the cap
        (10, Max / 21000, Max - 5, 100), // baseFee + prio overflows 128 bits
        (10, Max / 21000, Max, Max / 21000), // overflowing sum at the cap
        (Max - 21000 * (Max / 21000), Max / 21000, 1, 2), // cost exactly 2^128 - 1
        (Max - 21000 * (Max / 21000) + 1, Max / 21000, 1, 2), // cost exactly 2^128
        (0, Max / 21000 + 1, 0, 0), // 21000 maxFee alone is 2^128 + something
        (Max, Max, Max, Max), // maxFee 2^128 - 1, everything at the top
        (Max, Max, 0, 0), // maxFee 2^128 - 1, base fee 0
        (1, 50, 80, 10), // prio > maxFee
        (1, 50, 80, 60), // prio > maxFee, baseFee > maxFee
        (0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF), // limb boundaries
        ((UInt128)1 << 96, ((UInt128)1 << 64) - 1, (UInt128)1 << 32, (UInt128)1 << 32),
    ];

    private static IEnumerable<(UInt128 Value, UInt128 MaxFee, UInt128 Prio, UInt128 BaseFee)> RandomCases(int count, int seed)
    {
        var rng = new Random(seed);
        UInt128 Amount()
        {
            // Mix of sizes, so that fits/overflows, caps and comparisons all occur.
            var bits = rng.Next(6) switch { 0 => 0, 1 => 16, 2 => 48, 3 => 100, 4 => 113, _ => 128 };
            var hi = (ulong)rng.NextInt64() ^ ((ulong)rng.NextInt64() << 1);
            var lo = (ulong)rng.NextInt64() ^ ((ulong)rng.NextInt64() << 1);
            var x = new UInt128(hi, lo);
            return bits == 128 ? x : bits == 0 ? (UInt128)(ulong)rng.Next(3) : x & (((UInt128)1 << bits) - 1);
        }
        for (var i = 0; i < count; i++)
        {
            yield return (Amount(), Amount(), Amount(), Amount());
        }
    }

    private static IEnumerable<(UInt128 Value, UInt128 MaxFee, UInt128 Prio, UInt128 BaseFee)> AllCases() => EdgeCases.Concat(RandomCases(300, 77));

    // ---------------------------------------------------------------- witness vs rules

    [Fact]
    public void Burn_limbs_are_21000_times_the_base_fee()
    {
        foreach (var (_, _, _, baseFee) in AllCases())
        {
            var limbs = FeeTermsGadget.BurnLimbs(baseFee);
            Assert.Equal(5, limbs.Length);
            Assert.All(limbs, l => Assert.True(l <= uint.MaxValue));
            var recomposed = limbs.Select((l, i) => new BigInteger(l) << (32 * i)).Aggregate(BigInteger.Zero, (a, b) => a + b);
            Assert.Equal(21000 * (BigInteger)baseFee, recomposed);
        }
    }

    [Fact]
    public void Fill_matches_the_rules_on_edge_cases_and_random_values()
    {
        foreach (var (value, maxFee, prio, baseFee) in AllCases())
        {
            var air = new FeeTermsTestAir(value, maxFee, prio, baseFee);
            var row = air.Row(value, maxFee, prio, baseFee);
            var expected = Reference(value, maxFee, prio, baseFee);
            var g = air.Gadget;
            Assert.Equal(expected.FeeCapOk ? 1UL : 0, row[g.FeeCapOk]);
            Assert.Equal(expected.CostFits ? 1UL : 0, row[g.CostFits]);
            // Cost is reported modulo 2^128 even when it does not fit.
            Assert.Equal((UInt128)(((BigInteger)value + 21000 * (BigInteger)maxFee) % TwoTo128), Read(row, g.Cost));
            if (expected.CostFits)
            {
                Assert.Equal(expected.Cost, Read(row, g.Cost));
            }
            if (expected.FeeCapOk && expected.CostFits)
            {
                Assert.Equal(expected.Debit, Read(row, g.Debit));
                Assert.Equal(expected.Tip, Read(row, g.Tip));
            }
            Assert.Empty(Violations(air, row));
        }
    }

    [Fact]
    public void Fill_matches_TransferStatement_Terms()
    {
        // The statement refuses priority fees above the max fee; every other case goes through it.
        var count = 0;
        foreach (var (value, maxFee, prio, baseFee) in AllCases().Where(c => c.Prio <= c.MaxFee))
        {
            var terms = Terms(value, maxFee, prio, baseFee);
            var air = new FeeTermsTestAir(value, maxFee, prio, baseFee);
            var row = air.Row(value, maxFee, prio, baseFee);
            var g = air.Gadget;
            Assert.Equal(terms.FeeCapOk ? 1UL : 0, row[g.FeeCapOk]);
            Assert.Equal(terms.CostFits ? 1UL : 0, row[g.CostFits]);
            Assert.Equal(terms.Cost, terms.CostFits ? Read(row, g.Cost) : 0);
            var applies = terms.FeeCapOk && terms.CostFits;
            Assert.Equal(terms.Debit, applies ? Read(row, g.Debit) : 0);
            Assert.Equal(terms.Tip, applies ? Read(row, g.Tip) : 0);
            count++;
        }
        Assert.True(count > 100, $"only {count} cases reached the statement");
    }

    [Fact]
    public void Shape_columns_range_checks_and_degrees()
    {
        var air = new FeeTermsTestAir(0, 0, 0, 0);
        var g = air.Gadget;
        Assert.Equal(42, g.Columns);
        Assert.Equal(20, g.RangeChecks.Count(r => r.Bits == 32));
        Assert.Equal(8, g.RangeChecks.Count(r => r.Bits == 16));
        Assert.All(g.RangeChecks, r => Assert.InRange(r.Column, g.FirstColumn, g.FirstColumn + g.Columns - 1));
        var constraints = g.Constraints();
        Assert.Equal(34, constraints.Count);
        Assert.All(constraints, c => Assert.InRange(c.Degree(1, _ => 0), 1, 3));
        Assert.All(constraints, c => Assert.False(ReadsNext(c)));
    }

    [Fact]
    public void Bad_definitions_are_refused()
    {
        Expr[] four = [1, 2, 3, 4];
        Expr[] five = [1, 2, 3, 4, 0];
        Assert.Throws<AirDefinitionException>(() => new FeeTermsGadget(12, 0, 4, 8, [1, 2, 3], five));
        Assert.Throws<AirDefinitionException>(() => new FeeTermsGadget(12, 0, 4, 8, four, four));
        Assert.Throws<AirDefinitionException>(() => new FeeTermsGadget(12, 0, 4, 8, [Expr.Cur(0), 2, 3, 4], five));
        Assert.Throws<AirDefinitionException>(() => new FeeTermsGadget(12, 0, 4, 10, four, five));
        Assert.Throws<AirDefinitionException>(() => new FeeTermsGadget(-1, 0, 4, 8, four, five));
        var g = new FeeTermsGadget(12, 0, 4, 8, four, five);
        Assert.Throws<ArgumentException>(() => g.Fill(new ulong[20][], 0, 1, 1, 1, 1));
    }

    // ---------------------------------------------------------------- proofs

    [Fact]
    public void Embedded_gadget_proves_and_verifies_and_binds_its_outputs()
    {
        (UInt128, UInt128, UInt128, UInt128)[] cases =
        [
            (10, 1000, 300, 700),
            (10, 99, 5, 100), // fee cap below base fee
            (10, Max / 21000, Max - 5, 100), // base fee + prio overflows
            (Max - 21000 * (Max / 21000) + 1, Max / 21000, 1, 2), // cost 2^128
        ];
        foreach (var (value, maxFee, prio, baseFee) in cases)
        {
            var air = new FeeTermsTestAir(value, maxFee, prio, baseFee);
            var proof = new StarkProver().Prove(air, air.BuildTrace(), Prover).ToBytes();
            StarkVerifier.Verify(air, proof, Prover);
            // The same proof does not verify a different claimed output (each claim is asserted).
            foreach (var output in new[] { FeeTermsTestAir.PublicFeeCapOk, FeeTermsTestAir.PublicCostFits, FeeTermsTestAir.PublicCost + 2, FeeTermsTestAir.PublicDebit, FeeTermsTestAir.PublicTip + 3 })
            {
                var claimed = air.PublicInputs.ToArray();
                claimed[output] = output < FeeTermsTestAir.PublicCost ? 1 - claimed[output] : (claimed[output] + 1) & uint.MaxValue;
                Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new FeeTermsTestAir(claimed), proof, Prover));
            }
        }
    }

    [Fact]
    public void The_prover_refuses_a_trace_that_lies_about_the_fee_cap()
    {
        var air = new FeeTermsTestAir(10, 99, 5, 100);
        var trace = air.BuildTrace();
        var g = air.Gadget;
        var row = air.Row(10, 99, 5, 100, feeCapOkLie: true);
        for (var c = g.FirstColumn; c < g.FirstColumn + g.Columns; c++)
        {
            Array.Fill(trace[c], row[c]);
        }
        Assert.Throws<TraceException>(() => new StarkProver().Prove(air, trace, Prover));
    }

    // ---------------------------------------------------------------- soundness

    [Fact]
    public void Lying_about_FeeCapOk_or_the_price_choice_breaks_a_constraint_or_range_check()
    {
        foreach (var (value, maxFee, prio, baseFee) in AllCases())
        {
            var air = new FeeTermsTestAir(value, maxFee, prio, baseFee);
            var g = air.Gadget;
            var honest = air.Row(value, maxFee, prio, baseFee);
            var feeCapOk = honest[g.FeeCapOk] == 1;
            var covers = honest[g.PrioCovers] == 1;
            // The lie with everything downstream recomputed for it.
            var lie = air.Row(value, maxFee, prio, baseFee, feeCapOkLie: !feeCapOk);
            // FeeCapOk is pinned by its own block (d1 and its borrows) alone, as the soundness argument says.
            var block = FeeCapBlock(g);
            AssertCaught(air, lie, block);
            // ... also with the top limb or the last borrow re-solved from its broken equation.
            AssertCaught(air, lie, block, g.D1 + 3);
            AssertCaught(air, lie, block, g.D1Borrow + 2);
            AssertCaught(air, lie, block, g.D1Borrow + 2, g.D1 + 3);
            NonBooleanCheats(air, lie, block, g.FeeCapOk, g.D1, g.D1Borrow);
            var lieP = air.Row(value, maxFee, prio, baseFee, prioCoversLie: !covers);
            var priceBlock = PriceBlock(g);
            AssertCaught(air, lieP, priceBlock);
            AssertCaught(air, lieP, priceBlock, g.D2 + 3);
            AssertCaught(air, lieP, priceBlock, g.D2Borrow + 2);
            AssertCaught(air, lieP, priceBlock, g.D2Borrow + 2, g.D2 + 3);
            NonBooleanCheats(air, lieP, priceBlock, g.PrioCovers, g.D2, g.D2Borrow);
            NonBooleanCheats(air, honest, priceBlock, g.PrioCovers, g.D2, g.D2Borrow);
            NonBooleanCheats(air, honest, block, g.FeeCapOk, g.D1, g.D1Borrow);
        }
    }

    [Fact]
    public void Lying_about_CostFits_breaks_a_constraint_or_range_check()
    {
        foreach (var (value, maxFee, prio, baseFee) in AllCases())
        {
            var air = new FeeTermsTestAir(value, maxFee, prio, baseFee);
            var g = air.Gadget;
            var fits = air.Row(value, maxFee, prio, baseFee)[g.CostFits] == 1;
            var lie = air.Row(value, maxFee, prio, baseFee, costFitsLie: !fits);
            var block = CostBlock(g);
            AssertCaught(air, lie, block);
            AssertCaught(air, lie, block, g.OverflowInverse);
            // Making the overflow carry agree with the lie (0 for "fits", 1 for "does not") and
            // re-solving the cost limbs and carries below it.
            var adjusted = (ulong[])lie.Clone();
            adjusted[g.CostCarry + 3] = fits ? 1UL : 0;
            adjusted[g.OverflowInverse] = 1;
            AssertCaught(air, adjusted, block, g.Cost + 3);
            AssertCaught(air, adjusted, block, g.CostCarry + 2, g.Cost + 3);
            AssertCaught(air, adjusted, block, g.CostCarry + 2, g.CostCarry + 1, g.CostCarry);
            AssertCaught(air, adjusted, block, g.Cost + 3, g.CostCarry + 2, g.Cost + 2, g.CostCarry + 1, g.Cost + 1, g.CostCarry, g.Cost);
        }
    }

    [Fact]
    public void Lying_about_any_cost_debit_or_tip_limb_breaks_a_constraint_or_range_check()
    {
        ulong[] deltas = [1, Goldilocks.Neg(1), 1UL << 32, Goldilocks.Neg(1UL << 32), 21000, 0xFFFF_FFFF];
        var cases = EdgeCases.Concat(RandomCases(40, 5)).ToArray();
        foreach (var (value, maxFee, prio, baseFee) in cases)
        {
            var air = new FeeTermsTestAir(value, maxFee, prio, baseFee);
            var g = air.Gadget;
            var honest = air.Row(value, maxFee, prio, baseFee);
            foreach (var (first, carry, block) in new[] { (g.Cost, g.CostCarry, CostBlock(g)), (g.Debit, g.DebitCarry, DebitBlock(g)), (g.Tip, g.TipCarry, TipBlock(g)) })
            {
                for (var i = 0; i < 4; i++)
                {
                    foreach (var delta in deltas)
                    {
                        var lie = (ulong[])honest.Clone();
                        lie[first + i] = Goldilocks.Add(lie[first + i], delta);
                        AssertCaught(air, lie, block);
                        // The carry out of the lied limb re-solved, then each higher limb and carry in turn.
                        var chain = new List<int>();
                        for (var j = i; j < 4; j++)
                        {
                            chain.Add(carry + j);
                            AssertCaught(air, lie, block, [.. chain]);
                            if (j + 1 < 4)
                            {
                                chain.Add(first + j + 1);
                                AssertCaught(air, lie, block, [.. chain]);
                            }
                        }
                        // Only the carries re-solved, the top one absorbing the difference.
                        AssertCaught(air, lie, block, [.. Enumerable.Range(i, 4 - i).Select(j => carry + j)]);
                        // The carry into the lied limb re-solved instead (and the limbs below it).
                        var down = new List<int>();
                        for (var j = i - 1; j >= 0; j--)
                        {
                            down.Add(carry + j);
                            AssertCaught(air, lie, block, [.. down]);
                            down.Add(first + j);
                            AssertCaught(air, lie, block, [.. down]);
                        }
                        if (first == g.Tip)
                        {
                            // A lied tip feeds the debit: recompute the debit from it as the honest sum would.
                            var fed = (ulong[])lie.Clone();
                            RecomputeDebit(air, fed, value, baseFee);
                            AssertCaught(air, fed, block);
                            AssertCaught(air, fed, block, carry + i);
                        }
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>
    /// Field aliases a prover could try if the flag or the borrows were not boolean: the flag at
    /// 2 (then (2F - 1) = 3 and a small difference still fits), -1 or 1/2, with the limbs
    /// re-solved; a borrow moved by -(2^32 - 1), whose 2^32 multiple is 1 modulo p, absorbing a
    /// final borrow with the limbs on both sides re-solved.
    /// </summary>
    private static void NonBooleanCheats(FeeTermsTestAir air, ulong[] row, int[] block, int flag, int limbs, int borrows)
    {
        ulong[] flags = [2, 3, Goldilocks.Neg(1), Goldilocks.Inverse(2)];
        foreach (var f in flags)
        {
            var cheat = (ulong[])row.Clone();
            cheat[flag] = f;
            AssertCaught(air, cheat, block, limbs, limbs + 1, limbs + 2, limbs + 3);
        }
        ulong[] shifts = [Goldilocks.Neg(0xFFFF_FFFF), 0xFFFF_FFFF, 2, Goldilocks.Neg(1)];
        for (var j = 0; j < 3; j++)
        {
            foreach (var shift in shifts)
            {
                var cheat = (ulong[])row.Clone();
                cheat[borrows + j] = Goldilocks.Add(cheat[borrows + j], shift);
                AssertCaught(air, cheat, block, limbs + j + 1, limbs + j);
                AssertCaught(air, cheat, block, limbs + j, limbs + j + 1);
            }
        }
    }

    // Blocks: the columns one output's argument rests on (constraints reading only these and the
    // inputs, range checks on these). A lie must be caught inside its own block.
    private static int[] Limbs(int first, int count = 4) => [.. Enumerable.Range(first, count)];

    private static int[] FeeCapBlock(FeeTermsGadget g) => [g.FeeCapOk, .. Limbs(g.D1), .. Limbs(g.D1Borrow, 3)];

    private static int[] PriceBlock(FeeTermsGadget g) => [g.PrioCovers, .. Limbs(g.D2), .. Limbs(g.D2Borrow, 3), .. Limbs(g.D1)];

    private static int[] CostBlock(FeeTermsGadget g) => [.. Limbs(g.Cost), .. Limbs(g.CostCarry), g.CostFits, g.OverflowInverse];

    private static int[] TipBlock(FeeTermsGadget g) => [.. Limbs(g.Tip), .. Limbs(g.TipCarry), g.PrioCovers, .. Limbs(g.D1)];

    private static int[] DebitBlock(FeeTermsGadget g) => [.. Limbs(g.Debit), .. Limbs(g.DebitCarry), .. Limbs(g.Tip)];

    /// <summary>Re-solves each column in turn from a broken constraint of the block that is linear in it, then asserts the block still catches the lie.</summary>
    private static void AssertCaught(FeeTermsTestAir air, ulong[] row, int[] block, params int[] resolve)
    {
        var cheat = (ulong[])row.Clone();
        foreach (var column in resolve)
        {
            Solve(air, cheat, block, column);
        }
        Assert.True(Violations(air, cheat, block).Count > 0, $"a lie went through after re-solving [{string.Join(", ", resolve)}]");
    }

    private static bool InBlock(Expr constraint, int[] block) =>
        Columns(constraint).All(c => c < FeeTermsTestAir.GadgetColumn || block.Contains(c));

    private static IEnumerable<int> Columns(Expr e) => e switch
    {
        ColumnExpr col => [col.Column],
        BinaryExpr b => Columns(b.Left).Concat(Columns(b.Right)),
        _ => [],
    };

    /// <summary>The cheater's move: set <paramref name="column"/> so that the first violated constraint linear in it holds.</summary>
    private static void Solve(FeeTermsTestAir air, ulong[] row, int[] block, int column)
    {
        var saved = row[column];
        foreach (var constraint in air.GadgetConstraints.Where(c => InBlock(c, block)))
        {
            if (Eval(constraint, row, air.PublicInputs) == 0)
            {
                continue;
            }
            row[column] = 0;
            var f0 = Eval(constraint, row, air.PublicInputs);
            row[column] = 1;
            var f1 = Eval(constraint, row, air.PublicInputs);
            row[column] = 2;
            var f2 = Eval(constraint, row, air.PublicInputs);
            var slope = Goldilocks.Sub(f1, f0);
            if (slope != 0 && Goldilocks.Sub(f2, f1) == slope)
            {
                row[column] = Goldilocks.Mul(Goldilocks.Neg(f0), Goldilocks.Inverse(slope));
                return;
            }
        }
        row[column] = saved;
    }

    private static void RecomputeDebit(FeeTermsTestAir air, ulong[] row, UInt128 value, UInt128 baseFee)
    {
        var g = air.Gadget;
        var burn = FeeTermsGadget.BurnLimbs(baseFee);
        ulong carry = 0;
        for (var i = 0; i < 4; i++)
        {
            var sum = (ulong)(value >> (32 * i)) % (1UL << 32) + burn[i] + (row[g.Tip + i] & uint.MaxValue) + carry;
            row[g.Debit + i] = sum & uint.MaxValue;
            carry = sum >> 32;
            row[g.DebitCarry + i] = carry;
        }
    }

    /// <summary>Indices of violated gadget constraints, and range checks as -1 - index (within <paramref name="block"/> when given).</summary>
    private static List<int> Violations(FeeTermsTestAir air, ulong[] row, int[]? block = null)
    {
        var bad = new List<int>();
        var constraints = air.GadgetConstraints;
        for (var i = 0; i < constraints.Count; i++)
        {
            if ((block is null || InBlock(constraints[i], block)) && Eval(constraints[i], row, air.PublicInputs) != 0)
            {
                bad.Add(i);
            }
        }
        var checks = air.Gadget.RangeChecks;
        for (var i = 0; i < checks.Count; i++)
        {
            if ((block is null || block.Contains(checks[i].Column)) && row[checks[i].Column] >= 1UL << checks[i].Bits)
            {
                bad.Add(-1 - i);
            }
        }
        return bad;
    }

    private static ulong Eval(Expr e, ulong[] row, IReadOnlyList<ulong> publicInputs) => e switch
    {
        ConstExpr c => c.Value,
        ColumnExpr { IsNext: false } col => row[col.Column],
        PublicInputExpr p => publicInputs[p.Index],
        BinaryExpr { Op: ExprOp.Add } b => Goldilocks.Add(Eval(b.Left, row, publicInputs), Eval(b.Right, row, publicInputs)),
        BinaryExpr { Op: ExprOp.Sub } b => Goldilocks.Sub(Eval(b.Left, row, publicInputs), Eval(b.Right, row, publicInputs)),
        BinaryExpr { Op: ExprOp.Mul } b => Goldilocks.Mul(Eval(b.Left, row, publicInputs), Eval(b.Right, row, publicInputs)),
        _ => throw new InvalidOperationException($"the gadget's constraints read only the current row and public inputs, not {e}"),
    };

    private static bool ReadsNext(Expr e) => e switch
    {
        ColumnExpr col => col.IsNext,
        BinaryExpr b => ReadsNext(b.Left) || ReadsNext(b.Right),
        PeriodicExpr => true,
        _ => false,
    };

    private static UInt128 Read(ulong[] row, int first) =>
        ((UInt128)row[first + 3] << 96) | ((UInt128)row[first + 2] << 64) | ((UInt128)row[first + 1] << 32) | row[first];

    /// <summary>The rules as the executor states them (TransferRules), independently of the gadget.</summary>
    private static (bool FeeCapOk, bool CostFits, UInt128 Cost, UInt128 Debit, UInt128 Tip) Reference(UInt128 value, UInt128 maxFee, UInt128 prio, UInt128 baseFee)
    {
        var price = UInt128.Min(maxFee, Keel.Rollup.Transactions.TransferRules.TryAdd(baseFee, prio, out var sum) ? sum : Max);
        var fits = Keel.Rollup.Transactions.TransferRules.TryMul(maxFee, 21000, out var gas) && Keel.Rollup.Transactions.TransferRules.TryAdd(value, gas, out _);
        var feeCapOk = maxFee >= baseFee;
        if (!(fits && feeCapOk))
        {
            return (feeCapOk, fits, fits ? value + gas : 0, 0, 0);
        }
        return (feeCapOk, fits, value + gas, value + price * 21000, price * 21000 - baseFee * 21000);
    }

    /// <summary>The terms TransferStatement derives for a transfer with these amounts under this base fee.</summary>
    private static TransferTerms Terms(UInt128 value, UInt128 maxFee, UInt128 prio, UInt128 baseFee)
    {
        var e = new ulong[TransferStatement.Elements];
        e[0] = 7;
        e[14] = 1;
        FieldEncoding.WriteAmount(baseFee, e.AsSpan(15));
        e[19] = 0xfee;
        var tx = new Keel.Rollup.Transactions.Transfer(2, 7, Keel.Core.Address.Parse("0x0000000000000000000000000000000000000001"),
            Keel.Core.Address.Parse("0x0000000000000000000000000000000000000002"), value, 3, maxFee, prio, 21_000, Keel.Core.Hash32.Zero);
        return new TransferStatement(e).Terms(tx);
    }
}

/// <summary>
/// A 32-row AIR around the gadget: value, maxFee and priorityFee limbs in columns 0..11 (public,
/// asserted at row 0), the gadget from column 12, everything constant down the trace, and one
/// accumulator column per range-checked limb: it gathers one bit per row, most significant first
/// (acc_0 boolean, acc_(r+1) - 2 acc_r boolean), and must equal the limb after 16 or 32 bits.
/// Public inputs: [baseFee(4), burn(5), value(4), maxFee(4), prio(4), feeCapOk, costFits, cost(4), debit(4), tip(4)].
/// </summary>
internal sealed class FeeTermsTestAir : IAir
{
    public const int Rows = 32;
    public const int GadgetColumn = 12;
    public const int PublicValue = 9;
    public const int PublicFeeCapOk = 21;
    public const int PublicCostFits = 22;
    public const int PublicCost = 23;
    public const int PublicDebit = 27;
    public const int PublicTip = 31;
    private const int PublicCount = 35;

    // Periodic columns: 1 at row 0; 1 at row 14 (the 16-bit check reads row 15); 1 at row 30 (row 31).
    private const int FirstRow = 0;
    private const int Check16 = 1;
    private const int Check32 = 2;

    public FeeTermsTestAir(UInt128 value, UInt128 maxFee, UInt128 prio, UInt128 baseFee)
        : this(PublicFor(value, maxFee, prio, baseFee))
    {
    }

    public FeeTermsTestAir(ulong[] publicInputs)
    {
        if (publicInputs.Length != PublicCount)
        {
            throw new ArgumentException($"{PublicCount} public inputs", nameof(publicInputs));
        }
        _public = [.. publicInputs];
        PublicInputs = _public;
        Gadget = new FeeTermsGadget(GadgetColumn, 0, 4, 8,
            [.. Enumerable.Range(0, 4).Select(Expr.PublicInput)],
            [.. Enumerable.Range(4, 5).Select(Expr.PublicInput)]);
        Accumulator = GadgetColumn + Gadget.Columns;
        TraceWidth = Accumulator + Gadget.RangeChecks.Count;

        GadgetConstraints = Gadget.Constraints();
        var constraints = new List<Expr>(GadgetConstraints);
        for (var c = 0; c < Accumulator; c++)
        {
            constraints.Add(Expr.Next(c) - Expr.Cur(c));
        }
        for (var k = 0; k < Gadget.RangeChecks.Count; k++)
        {
            var (column, bits) = Gadget.RangeChecks[k];
            var acc = Accumulator + k;
            var bit = Expr.Next(acc) - 2 * Expr.Cur(acc);
            constraints.Add(Expr.Periodic(FirstRow) * Expr.Cur(acc) * (Expr.Cur(acc) - 1));
            constraints.Add(bit * (bit - 1));
            constraints.Add(Expr.Periodic(bits == 16 ? Check16 : Check32) * (Expr.Next(acc) - Expr.Next(column)));
        }
        TransitionConstraints = constraints;

        var assertions = new List<Assertion>();
        for (var i = 0; i < 12; i++)
        {
            assertions.Add(new Assertion(i, 0, publicInputs[PublicValue + i]));
        }
        assertions.Add(new Assertion(Gadget.FeeCapOk, 0, publicInputs[PublicFeeCapOk]));
        assertions.Add(new Assertion(Gadget.CostFits, 0, publicInputs[PublicCostFits]));
        for (var i = 0; i < 4; i++)
        {
            assertions.Add(new Assertion(Gadget.Cost + i, 0, publicInputs[PublicCost + i]));
            assertions.Add(new Assertion(Gadget.Debit + i, 0, publicInputs[PublicDebit + i]));
            assertions.Add(new Assertion(Gadget.Tip + i, 0, publicInputs[PublicTip + i]));
        }
        Assertions = assertions;
        var first = new ulong[Rows];
        var check16 = new ulong[Rows];
        var check32 = new ulong[Rows];
        first[0] = 1;
        check16[14] = 1;
        check32[30] = 1;
        PeriodicColumns = [first, check16, check32];
    }

    private readonly ulong[] _public;

    public FeeTermsGadget Gadget { get; }
    public IReadOnlyList<Expr> GadgetConstraints { get; }
    public int Accumulator { get; }
    public string Name => "fee-terms-test";
    public int TraceWidth { get; }
    public int TraceLength => Rows;
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns { get; }

    private UInt128 Amount(int offset) => TransferStatement.Amount(_public, offset);

    /// <summary>One row: inputs and gadget columns (accumulators left 0).</summary>
    public ulong[] Row(UInt128 value, UInt128 maxFee, UInt128 prio, UInt128 baseFee, bool? feeCapOkLie = null, bool? prioCoversLie = null, bool? costFitsLie = null)
    {
        var columns = new ulong[TraceWidth][];
        for (var c = 0; c < TraceWidth; c++)
        {
            columns[c] = new ulong[1];
        }
        var inputs = new ulong[12];
        FieldEncoding.WriteAmount(value, inputs);
        FieldEncoding.WriteAmount(maxFee, inputs.AsSpan(4));
        FieldEncoding.WriteAmount(prio, inputs.AsSpan(8));
        for (var i = 0; i < 12; i++)
        {
            columns[i][0] = inputs[i];
        }
        Gadget.Fill(columns, 0, value, maxFee, prio, baseFee, feeCapOkLie, prioCoversLie, costFitsLie);
        return [.. columns.Select(c => c[0])];
    }

    public ulong[][] BuildTrace()
    {
        var row = Row(Amount(PublicValue), Amount(PublicValue + 4), Amount(PublicValue + 8), Amount(0));
        var trace = new ulong[TraceWidth][];
        for (var c = 0; c < Accumulator; c++)
        {
            trace[c] = Enumerable.Repeat(row[c], Rows).ToArray();
        }
        for (var k = 0; k < Gadget.RangeChecks.Count; k++)
        {
            var (column, bits) = Gadget.RangeChecks[k];
            var limb = row[column];
            var acc = new ulong[Rows];
            for (var r = 0; r < Rows; r++)
            {
                // Prefixes of the limb's bits, most significant first; after `bits` rows, zeros are appended.
                acc[r] = r < bits ? limb >> (bits - 1 - r) : acc[r - 1] << 1;
            }
            trace[Accumulator + k] = acc;
        }
        return trace;
    }

    private static ulong[] PublicFor(UInt128 value, UInt128 maxFee, UInt128 prio, UInt128 baseFee)
    {
        var p = new ulong[PublicCount];
        FieldEncoding.WriteAmount(baseFee, p);
        FeeTermsGadget.BurnLimbs(baseFee).CopyTo(p, 4);
        FieldEncoding.WriteAmount(value, p.AsSpan(PublicValue));
        FieldEncoding.WriteAmount(maxFee, p.AsSpan(PublicValue + 4));
        FieldEncoding.WriteAmount(prio, p.AsSpan(PublicValue + 8));
        // The outputs are the gadget's own witness (the verifier of a real AIR would not know them; here they are the claim).
        var air = new FeeTermsTestAir(p);
        var row = air.Row(value, maxFee, prio, baseFee);
        var g = air.Gadget;
        p[PublicFeeCapOk] = row[g.FeeCapOk];
        p[PublicCostFits] = row[g.CostFits];
        for (var i = 0; i < 4; i++)
        {
            p[PublicCost + i] = row[g.Cost + i];
            p[PublicDebit + i] = row[g.Debit + i];
            p[PublicTip + i] = row[g.Tip + i];
        }
        return p;
    }
}
