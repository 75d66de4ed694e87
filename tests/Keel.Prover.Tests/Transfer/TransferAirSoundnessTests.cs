using Keel.Core;
using Keel.Core.Field;
using Keel.Prover.Air;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Transfer;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Testing;
using Keel.Rollup.Transactions;
using Keel.Rollup.Witness;
using Xunit.Abstractions;
using Tx = Keel.Rollup.Transactions.Transfer;

namespace Keel.Prover.Tests.Transfer;

/// <summary>
/// Adversarial review of <see cref="TransferAir"/>: (1) every cell of an honest trace, changed alone
/// on representative rows of every region kind, breaks a constraint unless it is a cell the
/// statement does not depend on (the exact allowed set is pinned, so a loosened constraint fails
/// here); (2) semantic cheats, each a trace kept consistent with its lie (tree, roots, sponge and
/// range bits re-derived for the lie) and refused at the rule it breaks; (3) the periodic layout.
/// One honest batch (applied, skipped, applied: regions 0..2 of period 0, the fee region opening
/// period 1, two padding regions) is shared by every case.
/// </summary>
public class TransferAirSoundnessTests(ITestOutputHelper output)
{

    // ------------------------------------------------------------------ the honest batch

    private sealed record Honest(AccountState State, RollupParameters Parameters, Tx[] Transfers, BatchWitness Witness, TransferAir Air, AirContext Ctx, ulong[][] Trace);

    private static readonly Lazy<Honest> Shared = new(() =>
    {
        // Deterministic search for a batch whose statuses are applied, skipped, applied.
        for (var seed = 1; seed < 200; seed++)
        {
            var batch = RandomBatchGenerator.FromGenesis(3, seed);
            Tx[] txs = [batch.Transfers[0], batch.Transfers[1] with { Nonce = batch.Transfers[1].Nonce + 1000 }, batch.Transfers[2]];
            var witness = new BatchExecutor(batch.State.Clone()).Execute(batch.Parameters, txs).Witness;
            if (witness.Transfers[0].Status != TransferStatus.Applied || witness.Transfers[1].Status == TransferStatus.Applied
                || witness.Transfers[2].Status != TransferStatus.Applied || txs[0].From == txs[2].From || txs[0].To == txs[0].From)
            {
                continue;
            }
            var (air, trace) = TransferTraceBuilder.Build(witness);
            return new Honest(batch.State, batch.Parameters, txs, witness, air, new AirContext(air, new ProofOptions()), trace);
        }
        throw new InvalidOperationException("no seed gives applied, skipped, applied");
    });

    private static ulong[][] Copy(ulong[][] t) => [.. t.Select(c => (ulong[])c.Clone())];

    private static int BlockStart(int region, bool sender) => TransferAir.RegionStart(region) + (sender ? 0 : TransferAir.BlockRows);

    private static int BlockLength(int region, bool sender) => sender ? TransferAir.BlockRows : TransferAir.RegionLength(region) - TransferAir.BlockRows;

    // ------------------------------------------------------------------ evaluation

    /// <summary>Failing (constraint, row) pairs of the rows [first, first + count) and failing assertions (constraint -1 - index).</summary>
    private static List<(int Constraint, int Row)> Failures(AirContext ctx, ulong[][] trace, int first = 0, int count = -1, int limit = 64)
    {
        var n = ctx.TraceLength;
        if (count < 0)
        {
            count = n;
        }
        var result = new List<(int, int)>();
        var assertions = ctx.Air.Assertions;
        for (var a = 0; a < assertions.Count; a++)
        {
            var x = assertions[a];
            if (x.Row >= first && x.Row < first + count && trace[x.Column][x.Row] != x.Value)
            {
                result.Add((-1 - a, x.Row));
            }
        }
        var program = ctx.Program;
        var k = program.ConstraintCount;
        var evaluator = Evaluators.Value;
        if (evaluator is null || evaluator.Program != program)
        {
            evaluator = new EvaluatorState(program);
            Evaluators.Value = evaluator;
        }
        var periodic = ctx.Air.PeriodicColumns;
        for (var start = Math.Max(0, first); start < Math.Min(n, first + count) && result.Count < limit; start += BlockEvaluator.BlockRows)
        {
            var rows = Math.Min(BlockEvaluator.BlockRows, Math.Min(n, first + count) - start);
            evaluator.Evaluator.Evaluate(trace, 1, periodic, ctx.Air.PublicInputs, start, rows, evaluator.Output);
            for (var r = 0; r < rows && result.Count < limit; r++)
            {
                if (start + r == n - 1)
                {
                    continue; // transitions do not apply from the last row
                }
                for (var c = 0; c < k; c++)
                {
                    if (evaluator.Output[c * BlockEvaluator.BlockRows + r] != 0)
                    {
                        result.Add((c, start + r));
                    }
                }
            }
        }
        return result;
    }

    private sealed class EvaluatorState(ConstraintProgram program)
    {
        public ConstraintProgram Program { get; } = program;
        public BlockEvaluator Evaluator { get; } = new(program);
        public ulong[] Output { get; } = new ulong[program.ConstraintCount * BlockEvaluator.BlockRows];
    }

    private static readonly ThreadLocal<EvaluatorState?> Evaluators = new(() => null);

    /// <summary>Whether changing the one cell (column, row) breaks anything: the transitions from row - 1 and row, and the cell's assertions.</summary>
    private static bool CellChangeCaught(AirContext ctx, ulong[][] trace, int row)
    {
        var first = Math.Max(0, row - 1);
        return Failures(ctx, trace, first, row - first + 1, limit: 1).Count > 0;
    }

    // ------------------------------------------------------------------ names

    private static string ColumnGroup(TransferAir air, int c)
    {
        var gadget = Poseidon2RowGadget.OutputOffset;
        if (c < TransferAir.LaneR)
        {
            // Lane L: width 8 is a prefix of width 12.
            return c < 8 ? "L.in8" : c < 12 ? "L.in12" : c < gadget + 8 ? "L.out8" : c < gadget + 12 ? "L.out12" : c < TransferAir.Narrow.Columns ? "L.mid8" : "L.mid12";
        }
        if (c < TransferAir.Sib)
        {
            var o = c - TransferAir.LaneR;
            return o < 8 ? "R.in" : o >= gadget && o < gadget + 8 ? "R.out" : "R.mid";
        }
        (int First, int Count, string Name)[] named =
        [
            (TransferAir.Sib, 4, "Sib"), (TransferAir.Bit, 1, "Bit"), (TransferAir.Acc, 1, "Acc"), (TransferAir.Hold, 4, "Hold"),
            (TransferAir.OldAcc, 4, "OldBal"), (TransferAir.OldAcc + 4, 1, "OldNonce"), (TransferAir.NewAcc, 4, "NewBal"), (TransferAir.NewAcc + 4, 1, "NewNonce"),
            (TransferAir.OldRoot, 4, "OldRoot"), (TransferAir.NewRoot, 4, "NewRoot"), (TransferAir.BalanceCarry, 3, "BalanceCarry"),
            (TransferAir.Sp, 4, "Sp.digest"), (TransferAir.Sp + 4, 8, "Sp.rest"),
            (TransferAir.From, 5, "From"), (TransferAir.To, 5, "To"), (TransferAir.Value, 4, "Value"), (TransferAir.TxNonce, 1, "TxNonce"),
            (TransferAir.MaxFee, 4, "MaxFee"), (TransferAir.Prio, 4, "Prio"), (TransferAir.Rem, 1, "Rem"), (TransferAir.RemInv, 1, "RemInv"),
            (TransferAir.IsTx, 1, "IsTx"), (TransferAir.IsFee, 1, "IsFee"), (TransferAir.Eq, 1, "Eq"), (TransferAir.Inv, 1, "Inv"), (TransferAir.Suf, 1, "Suf"),
            (TransferAir.Applied, 1, "Applied"), (TransferAir.Tips, 4, "Tips"), (TransferAir.TipsAfter, 4, "TipsAfter"), (TransferAir.TipsCarry, 3, "TipsCarry"),
            (TransferAir.Margin, 4, "Margin"), (TransferAir.MarginBorrow, 3, "MarginBorrow"),
            (air.FeeTerms.FeeCapOk, 1, "F.FeeCapOk"), (air.FeeTerms.D1, 4, "F.D1"), (air.FeeTerms.D1Borrow, 3, "F.D1Borrow"),
            (air.FeeTerms.PrioCovers, 1, "F.PrioCovers"), (air.FeeTerms.D2, 4, "F.D2"), (air.FeeTerms.D2Borrow, 3, "F.D2Borrow"),
            (air.FeeTerms.Tip, 4, "F.Tip"), (air.FeeTerms.TipCarry, 4, "F.TipCarry"), (air.FeeTerms.Debit, 4, "F.Debit"), (air.FeeTerms.DebitCarry, 4, "F.DebitCarry"),
            (air.FeeTerms.Cost, 4, "F.Cost"), (air.FeeTerms.CostCarry, 4, "F.CostCarry"), (air.FeeTerms.CostFits, 1, "F.CostFits"), (air.FeeTerms.OverflowInverse, 1, "F.OverflowInverse"),
        ];
        foreach (var (first, count, name) in named)
        {
            if (c >= first && c < first + count)
            {
                return name;
            }
        }
        var rangeFirst = TransferAir.Fee + air.FeeTerms.Columns;
        if (c >= rangeFirst && c < air.Width)
        {
            return (c - rangeFirst) % 2 == 0 ? "RangeBit" : "RangeAcc";
        }
        return $"?{c}";
    }

    private static string RegionKind(int region, int n, IReadOnlyList<bool> applied) =>
        region < n ? (applied[region] ? "applied" : "skipped") : region == n ? "fee" : "pad";

    /// <summary>Row kind inside its block: leaf rows, level rows by their role in the address accumulation, root, sponge, idle.</summary>
    private static string RowKind(int row)
    {
        var o = row % TransferAir.PeriodRows;
        var j = Math.Min(o / TransferAir.RegionRows, TransferAir.RegionsPerPeriod - 1);
        o -= TransferAir.RegionStart(j);
        var sender = o < TransferAir.BlockRows;
        var b = sender ? o : o - TransferAir.BlockRows;
        var side = sender ? "S" : "R";
        var end = sender ? b == TransferAir.BlockRows - 1 : o == TransferAir.RegionLength(j) - 1;
        var kind = b switch
        {
            0 => "leafOld",
            1 => "leafNew",
            2 => "level0",
            < TransferAir.RootRowInBlock when (b - 2) % 32 == 31 => "levelLimbLast",
            < TransferAir.RootRowInBlock when (b - 2) % 32 == 0 => "levelLimbFirst",
            < TransferAir.RootRowInBlock => "level",
            TransferAir.RootRowInBlock => "root",
            < TransferAir.BlockRows => sender ? $"sponge{b - TransferAir.SpongeRow}" : "post",
            _ => "idle",
        };
        return $"{side}.{kind}{(end ? ".end" : "")}";
    }

    private static IEnumerable<int> RepresentativeRows(int traceLength)
    {
        int[] offsets = [0, 1, 2, 3, 4, 20, 33, 34, 35, 100, 160, 161, 162, 163, 164];
        var rows = new SortedSet<int>();
        for (var region = 0; region * TransferAir.RegionRows < traceLength && TransferAir.RegionStart(region) < traceLength; region++)
        {
            foreach (var sender in new[] { true, false })
            {
                var start = BlockStart(region, sender);
                foreach (var o in offsets)
                {
                    rows.Add(start + o);
                }
                var length = BlockLength(region, sender);
                rows.Add(start + length - 1);
                if (length > TransferAir.BlockRows)
                {
                    rows.Add(start + TransferAir.BlockRows);
                    rows.Add(start + length - 2);
                }
            }
        }
        return rows.Where(r => r < traceLength);
    }

    // ------------------------------------------------------------------ 0. the tools agree with the prover's check

    [Fact]
    public void Honest_trace_holds_and_the_local_evaluator_agrees_with_CheckTrace()
    {
        var h = Shared.Value;
        Assert.Equal(3, h.Air.Statement.Count);
        Assert.Equal(2, h.Air.Periods);
        StarkProver.CheckTrace(h.Ctx, h.Trace);
        Assert.Empty(Failures(h.Ctx, h.Trace));

        // A few cells that CheckTrace refuses are found by the local check, and vice versa.
        var t = Copy(h.Trace);
        foreach (var (column, row) in new[] { (TransferAir.Value, 10), (TransferAir.NewAcc, 400), (TransferAir.Sp + 3, 1200), (TransferAir.LaneR + 5, 2 + TransferAir.BlockRows + 7) })
        {
            t[column][row] = Goldilocks.Add(t[column][row], 1);
            Assert.True(CellChangeCaught(h.Ctx, t, row));
            Assert.Throws<TraceException>(() => StarkProver.CheckTrace(h.Ctx, t));
            t[column][row] = h.Trace[column][row];
        }
        StarkProver.CheckTrace(h.Ctx, t);
    }

    // ------------------------------------------------------------------ 1. cell mutation

    private static readonly HashSet<string> LevelKinds = ["level0", "level", "levelLimbFirst", "levelLimbLast", "root"];

    /// <summary>
    /// The exact set of cells that may change alone without breaking a constraint, by column group
    /// and row kind (region kind does not matter). Each is a cell the statement does not read there:
    /// the path inputs (sibling, bit, accumulator) and lane R off the level rows; lane L on the
    /// receiver block's rows after its root (no permutation selected there) and its width-12-only
    /// columns on level rows (width 8 selected); Hold on the trace's first row (Hold is read only
    /// from a block's row 1 on, and row 0 has no previous row to carry it from); range-lane cells
    /// outside every scheduled slot. Everything else, every region- and block-constant column,
    /// the sponge state, and lane L on leaf and sponge rows included, must be caught.
    /// </summary>
    private static bool AllowedToSurvive(string group, string side, string kind, bool firstRow)
    {
        var level = LevelKinds.Contains(kind);
        var receiverTail = side == "R" && kind is "post" or "idle";
        return group switch
        {
            "Sib" or "Bit" or "Acc" or "R.in" or "R.mid" or "R.out" => !level,
            "L.in8" or "L.in12" or "L.out8" or "L.out12" or "L.mid8" => receiverTail,
            "L.mid12" => level || receiverTail,
            "Hold" => firstRow,
            "RangeBit.free" or "RangeAcc.free" => true,
            _ => false,
        };
    }

    /// <summary>Whether range lane <paramref name="lane"/> has a scheduled slot covering period row <paramref name="row"/> (from the periodic first/step columns).</summary>
    private static bool InRangeSlot(TransferAir air, int lane, int row)
    {
        var periodic = air.PeriodicColumns;
        var rangeBase = periodic.Count - air.Range.PeriodicCount;
        var r = row % TransferAir.PeriodRows;
        var first = periodic[rangeBase + 3 * lane];
        var step = periodic[rangeBase + 3 * lane + 1];
        return first[r] == 1 || step[r] == 1 || (r > 0 && step[r - 1] == 1);
    }

    [Fact]
    public void Every_cell_that_matters_is_constrained()
    {
        var h = Shared.Value;
        var air = h.Air;
        var n = air.Statement.Count;
        var applied = h.Witness.Transfers.Select(w => w.Status == TransferStatus.Applied).ToArray();
        var t = Copy(h.Trace);
        var survivors = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var caught = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var cells = 0;
        var unexpected = new List<string>();
        foreach (var row in RepresentativeRows(air.TraceLength))
        {
            var region = row / TransferAir.PeriodRows * TransferAir.RegionsPerPeriod + Math.Min(row % TransferAir.PeriodRows / TransferAir.RegionRows, TransferAir.RegionsPerPeriod - 1);
            var rowKind = RowKind(row);
            var side = rowKind[..1];
            var kind = rowKind[2..].Replace(".end", "", StringComparison.Ordinal);
            var rowKey = $"{RegionKind(region, n, applied)}.{rowKind}{(row == 0 ? ".first" : "")}{(row == air.TraceLength - 1 ? ".last" : "")}";
            for (var c = 0; c < air.Width; c++)
            {
                var group = ColumnGroup(air, c);
                if (group.StartsWith("Range", StringComparison.Ordinal))
                {
                    var lane = (c - (TransferAir.Fee + air.FeeTerms.Columns)) / 2;
                    group += InRangeSlot(air, lane, row) ? ".slot" : ".free";
                }
                var old = t[c][row];
                t[c][row] = Goldilocks.Add(old, 1);
                var survived = !CellChangeCaught(h.Ctx, t, row);
                t[c][row] = old;
                cells++;
                var key = $"{group}@{rowKey}";
                (survived ? survivors : caught)[key] = (survived ? survivors : caught).GetValueOrDefault(key) + 1;
                if (survived != AllowedToSurvive(group, side, kind, row == 0))
                {
                    unexpected.Add($"column {c} ({key}, row {row}) {(survived ? "survives a change" : "is caught but was expected free")}");
                }
            }
        }
        output.WriteLine($"{cells} cells mutated; {survivors.Count} (group@row) keys with survivors, {unexpected.Count} unexpected");
        foreach (var line in unexpected.Take(40))
        {
            output.WriteLine(line);
        }
        Assert.True(cells > 50_000);
        Assert.Empty(unexpected);
    }
}
