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
/// One honest batch (applied, skipped, applied: regions 0..2, the fee region, seven padding regions,
/// the last with the period's idle rows: one period) is shared by every case.
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
        if (c < TransferAir.Sib)
        {
            // Lane L then lane R, four width-8 slots each; a lane's width-12 permutation (leaf,
            // sponge) runs over slot 0 and the first 36 columns of slot 1 ("X.shared").
            var lane = c < TransferAir.LaneR ? "L" : "R";
            var o = c - (c < TransferAir.LaneR ? TransferAir.LaneL : TransferAir.LaneR);
            var slot = o / TransferAir.Narrow.Columns;
            var so = o % TransferAir.Narrow.Columns;
            if (o >= TransferAir.Narrow.Columns && o < TransferAir.Wide.Columns)
            {
                return $"{lane}.shared";
            }
            var part = so < 8 ? "in8" : so < 12 ? "in12" : so < gadget + 8 ? "out8" : so < gadget + 12 ? "out12" : "mid";
            return $"{lane}{slot}.{part}";
        }
        (int First, int Count, string Name)[] named =
        [
            (TransferAir.Sib, 16, "Sib"), (TransferAir.Bit, 4, "Bit"), (TransferAir.Acc, 1, "Acc"),
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
        // Level row b's four levels are bits 4i..4i+3 of address limb (b - 1) / 8, i = (b - 1) % 8.
        var kind = b switch
        {
            TransferAir.LeafRow => "leaf",
            TransferAir.FirstLevelRow => "level0",
            TransferAir.RootRowInBlock => "root",
            < TransferAir.RootRowInBlock when (b - TransferAir.FirstLevelRow) % 8 == 7 => "levelLimbLast",
            < TransferAir.RootRowInBlock when (b - TransferAir.FirstLevelRow) % 8 == 0 => "levelLimbFirst",
            < TransferAir.RootRowInBlock => "level",
            < TransferAir.BlockRows => sender ? $"sponge{b - TransferAir.SpongeRow}" : "post",
            _ => "idle",
        };
        return $"{side}.{kind}{(end ? ".end" : "")}";
    }

    private static IEnumerable<int> RepresentativeRows(int traceLength)
    {
        int[] offsets = [0, 1, 2, 8, 9, 10, 20, 39, 40, 41, 42, 43];
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
        Assert.Equal(1, h.Air.Periods);
        StarkProver.CheckTrace(h.Ctx, h.Trace);
        Assert.Empty(Failures(h.Ctx, h.Trace));

        // A few cells that CheckTrace refuses are found by the local check, and vice versa.
        var t = Copy(h.Trace);
        foreach (var (column, row) in new[] { (TransferAir.Value, 10), (TransferAir.NewAcc, 400), (TransferAir.Sp + 3, 300), (TransferAir.LaneR + 5, 2 + TransferAir.BlockRows + 7), (TransferAir.Slot(TransferAir.LaneL, 3) + 20, 3 * TransferAir.BlockRows + TransferAir.RootRowInBlock) })
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
    /// the path inputs (siblings, bits, accumulator) off the level rows; on a leaf row, each lane's
    /// columns outside its width-12 permutation (slot 1 past the shared part, slots 2 and 3); on a
    /// sender's sponge rows, lane L outside its width-12 permutation and all of lane R; on the
    /// receiver block's rows after its root, every lane column (no permutation selected there);
    /// range-lane cells outside every scheduled slot. Everything else, every slot on every level
    /// row, every region- and block-constant column, the sponge state, and each width-12
    /// permutation on its rows included, must be caught.
    /// </summary>
    private static bool AllowedToSurvive(string group, string side, string kind)
    {
        var level = LevelKinds.Contains(kind);
        var receiverTail = side == "R" && kind is "post" or "idle";
        var sponge = kind.StartsWith("sponge", StringComparison.Ordinal);
        if (group.Length >= 2 && (group[0] == 'L' || group[0] == 'R') && (char.IsAsciiDigit(group[1]) || group[1..] == ".shared"))
        {
            // A lane column: group is "{lane}{slot}.{part}" or "{lane}.shared".
            var lane = group[0];
            var wide = group[1] == '.' || group[1] == '0';
            return !level && (receiverTail || !wide || (sponge && lane == 'R'));
        }
        return group switch
        {
            "Sib" or "Bit" or "Acc" => !level,
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
                if (survived != AllowedToSurvive(group, side, kind))
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
    // ------------------------------------------------------------------ 2. semantic cheats

    /// <summary>How a cheating executor departs from the rules; the witness, tree and roots follow the lie.</summary>
    private sealed record Lie(
        Func<int, bool?>? Applied = null,
        Func<int, Account, Account>? SenderAfter = null,
        Func<int, Account, Account>? ReceiverAfter = null,
        Func<int, Tx, Address?>? CreditAddress = null,
        Func<UInt128, UInt128>? Tips = null);

    private sealed record Forged(BatchWitness Witness, (Account Before, Account After)[] Senders, (Account Before, Account After)?[] Receivers, Address?[] Credited);

    private static Forged Execute(AccountState state, RollupParameters p, IReadOnlyList<Tx> txs, Lie? lie = null, IReadOnlyList<Tx>? committed = null)
    {
        lie ??= new Lie();
        var pre = state.Root;
        var list = new List<TransferWitness>();
        var senders = new (Account, Account)[txs.Count];
        var receivers = new (Account, Account)?[txs.Count];
        var credited = new Address?[txs.Count];
        UInt128 tips = 0;
        for (var i = 0; i < txs.Count; i++)
        {
            var tx = txs[i];
            var sender = state.GetAccount(tx.From);
            var senderOpening = new AccountOpening(sender, state.GetPath(tx.From));
            var outcome = TransferRules.Evaluate(sender, tx, p.BaseFeePerGas);
            var applied = lie.Applied?.Invoke(i) ?? outcome.Applied;
            var status = applied ? TransferStatus.Applied : outcome.Applied ? TransferStatus.InsufficientBalance : outcome.Status;
            AccountOpening? receiverOpening = null;
            senders[i] = (sender, sender);
            if (applied)
            {
                var price = TransferRules.EffectiveGasPrice(tx, p.BaseFeePerGas);
                var honest = new Account(sender.Balance - (tx.Value + price * Tx.IntrinsicGas), sender.Nonce + 1);
                var after = lie.SenderAfter?.Invoke(i, honest) ?? honest;
                senders[i] = (sender, after);
                state.SetAccount(tx.From, after);
                var to = lie.CreditAddress?.Invoke(i, tx) ?? tx.To;
                credited[i] = to;
                var before = state.GetAccount(to);
                receiverOpening = new AccountOpening(before, state.GetPath(to));
                var credit = before with { Balance = before.Balance + tx.Value };
                credit = lie.ReceiverAfter?.Invoke(i, credit) ?? credit;
                receivers[i] = (before, credit);
                state.SetAccount(to, credit);
                tips += price >= p.BaseFeePerGas ? (price - p.BaseFeePerGas) * Tx.IntrinsicGas : 0;
            }
            list.Add(new TransferWitness(tx, status, outcome.EffectiveGasPrice, senderOpening, receiverOpening, state.Root));
        }
        var declared = lie.Tips?.Invoke(tips) ?? tips;
        var recipient = state.GetAccount(p.FeeRecipient);
        var feeOpening = new AccountOpening(recipient, state.GetPath(p.FeeRecipient));
        state.SetAccount(p.FeeRecipient, recipient with { Balance = recipient.Balance + declared });
        var commitment = BatchCommitment.Compute(state.Hasher, p, committed ?? txs);
        return new Forged(new BatchWitness(p, pre, list, new FeeRecipientWitness(feeOpening, declared), state.Root, commitment), senders, receivers, credited);
    }

    private static ulong[] Leaf(Account a)
    {
        var l = new ulong[4];
        FieldEncoding.WriteAmount(a.Balance, l);
        return [1, l[0], l[1], l[2], l[3], a.Nonce % Goldilocks.Modulus, 0, 0, 6, 0, 0, 0];
    }

    private static ulong ToField(long v) => v >= 0 ? (ulong)v : Goldilocks.Neg((ulong)(-v));

    /// <summary>
    /// Re-derives a block for old and new accounts chosen by the cheat: accounts, both leaf
    /// permutations (one leaf row), both paths from the trace's own siblings and bits, the roots, and balance
    /// carries that make limbs 0..2 of the balance equation hold (so only a real lie breaks it).
    /// </summary>
    private static void RefillBlock(TransferAir air, ulong[][] t, int region, bool sender, Account before, Account after)
    {
        var start = BlockStart(region, sender);
        var length = BlockLength(region, sender);
        var oldLeaf = Leaf(before);
        var newLeaf = Leaf(after);
        for (var i = 0; i < 5; i++)
        {
            Array.Fill(t[TransferAir.OldAcc + i], oldLeaf[1 + i], start, length);
            Array.Fill(t[TransferAir.NewAcc + i], newLeaf[1 + i], start, length);
        }
        var out12 = new ulong[12];
        TransferAir.Wide.Fill(t, start + TransferAir.LeafRow, TransferAir.LaneL, oldLeaf, out12);
        var nodeL = out12[..4];
        TransferAir.Wide.Fill(t, start + TransferAir.LeafRow, TransferAir.LaneR, newLeaf, out12);
        var nodeR = out12[..4];
        var input = new ulong[8];
        var out8 = new ulong[8];
        for (var level = 0; level < TransferAir.Depth; level++)
        {
            var slot = level % TransferAir.LevelsPerRow;
            var row = start + TransferAir.FirstLevelRow + level / TransferAir.LevelsPerRow;
            var bit = t[TransferAir.Bit + slot][row];
            foreach (var (lane, node) in new[] { (TransferAir.LaneL, nodeL), (TransferAir.LaneR, nodeR) })
            {
                for (var i = 0; i < 4; i++)
                {
                    var sib = t[TransferAir.Sib + 4 * slot + i][row];
                    input[i] = bit == 0 ? node[i] : sib;
                    input[4 + i] = bit == 0 ? sib : node[i];
                }
                TransferAir.Narrow.Fill(t, row, TransferAir.Slot(lane, slot), input, out8);
                Array.Copy(out8, node, 4);
            }
        }
        for (var i = 0; i < 4; i++)
        {
            Array.Fill(t[TransferAir.OldRoot + i], nodeL[i], start, length);
            Array.Fill(t[TransferAir.NewRoot + i], nodeR[i], start, length);
        }
        var ap = t[TransferAir.Applied][start] == 1;
        var isFee = t[TransferAir.IsFee][start] == 1;
        var debitColumn = air.FeeTerms.Debit;
        long carry = 0;
        for (var i = 0; i < 3; i++)
        {
            long debit = sender && ap ? (long)t[debitColumn + i][start] : 0;
            long credit = sender ? 0 : isFee ? (long)t[TransferAir.Tips + i][start] : ap ? (long)t[TransferAir.Value + i][start] : 0;
            var total = (long)oldLeaf[1 + i] + credit - debit + carry - (long)newLeaf[1 + i];
            carry = total >> 32;
            Array.Fill(t[TransferAir.BalanceCarry + i], ToField(carry), start, length);
        }
    }

    /// <summary>The trace of a forged witness, every transfer block re-derived for the accounts the cheat wrote to its tree; <paramref name="patch"/> then edits it and the range bits are re-derived last.</summary>
    private static (AirContext Ctx, ulong[][] Trace) Build(Forged f, Action<TransferAir, ulong[][]>? patch = null)
    {
        var (air, trace) = TransferTraceBuilder.Build(f.Witness);
        for (var i = 0; i < f.Senders.Length; i++)
        {
            RefillBlock(air, trace, i, true, f.Senders[i].Before, f.Senders[i].After);
            if (f.Receivers[i] is { } r)
            {
                if (f.Credited[i] is { } address && address != f.Witness.Transfers[i].Transfer.To)
                {
                    WriteAddressBits(trace, BlockStart(i, false), address);
                }
                RefillBlock(air, trace, i, false, r.Before, r.After);
            }
        }
        patch?.Invoke(air, trace);
        for (var period = 0; period < air.Periods; period++)
        {
            air.Range.Fill(trace, period * TransferAir.PeriodRows);
        }
        return (new AirContext(air, new ProofOptions()), trace);
    }

    /// <summary>Re-runs the commitment sponge over every region from the header state, absorbing the trace's own transfer columns.</summary>
    private static void RefillSponges(TransferAir air, ulong[][] t)
    {
        var state = air.Statement.HeaderSpongeState();
        var output12 = new ulong[12];
        for (var region = 0; region < air.Regions; region++)
        {
            var start = TransferAir.RegionStart(region);
            var tx = new ulong[24];
            for (var i = 0; i < 23; i++)
            {
                tx[i] = t[TransferAir.From + i][start];
            }
            var carried = (ulong[])state.Clone();
            for (var k = 0; k < TransferAir.SpongeRows; k++)
            {
                for (var i = 0; i < 8; i++)
                {
                    state[i] = Goldilocks.Add(state[i], tx[8 * k + i]);
                }
                TransferAir.Wide.Fill(t, start + TransferAir.SpongeRow + k, TransferAir.LaneL, state, output12);
                output12.CopyTo(state, 0);
            }
            var digest = TransferAir.SpongeRow + TransferAir.SpongeRows;
            for (var j = 0; j < 12; j++)
            {
                Array.Fill(t[TransferAir.Sp + j], carried[j], start, digest);
                Array.Fill(t[TransferAir.Sp + j], state[j], start + digest, TransferAir.RegionLength(region) - digest);
            }
        }
    }

    private static ulong[] AddressLimbs(Address a)
    {
        var limbs = new ulong[5];
        FieldEncoding.WriteAddress(a, limbs);
        return limbs;
    }

    /// <summary>Bits and accumulators of a block's level rows for <paramref name="address"/> (its siblings are the cheat's path).</summary>
    private static void WriteAddressBits(ulong[][] t, int blockStart, Address address)
    {
        var limbs = AddressLimbs(address);
        ulong acc = 0;
        for (var level = 0; level < TransferAir.Depth; level++)
        {
            var row = blockStart + TransferAir.FirstLevelRow + level / TransferAir.LevelsPerRow;
            var bit = (limbs[level / 32] >> (level % 32)) & 1;
            acc = level % 32 == 0 ? bit : acc + (bit << (level % 32));
            t[TransferAir.Bit + level % TransferAir.LevelsPerRow][row] = bit;
            t[TransferAir.Acc][row] = acc;
        }
    }

    private static readonly Dictionary<(IAir, int), HashSet<int>> ReadColumns = [];

    /// <summary>Whether constraint <paramref name="k"/> (or assertion -1 - k) reads <paramref name="column"/>.</summary>
    private static bool Reads(IAir air, int k, int column)
    {
        if (k < 0)
        {
            return air.Assertions[-1 - k].Column == column;
        }
        HashSet<int>? columns;
        lock (ReadColumns)
        {
            if (!ReadColumns.TryGetValue((air, k), out columns))
            {
                columns = [];
                var seen = new HashSet<Expr>(ReferenceEqualityComparer.Instance);
                var stack = new Stack<Expr>([air.TransitionConstraints[k]]);
                while (stack.Count > 0)
                {
                    var e = stack.Pop();
                    if (!seen.Add(e))
                    {
                        continue;
                    }
                    if (e is ColumnExpr c)
                    {
                        columns.Add(c.Column);
                    }
                    else if (e is BinaryExpr b)
                    {
                        stack.Push(b.Left);
                        stack.Push(b.Right);
                    }
                }
                ReadColumns[(air, k)] = columns;
            }
        }
        return columns.Contains(column);
    }

    /// <summary>
    /// The trace is refused (by CheckTrace too), and among its failures is one in rows [from, to)
    /// that reads one of <paramref name="columns"/>: the rule the cheat breaks. With <paramref name="localized"/>,
    /// nothing fails outside those rows (the transition into them included), so the rest of the lie is consistent.
    /// </summary>
    private void AssertRefusedAt(AirContext ctx, ulong[][] trace, int[] columns, int from, int to, bool localized = true)
    {
        var failures = Failures(ctx, trace, limit: 10_000);
        foreach (var (k, row) in failures.Take(8))
        {
            output.WriteLine($"  fails: {(k < 0 ? $"assertion {-1 - k}" : $"constraint {k}")} at row {row} ({RowKind(row)})");
        }
        Assert.NotEmpty(failures);
        Assert.Throws<TraceException>(() => StarkProver.CheckTrace(ctx, trace));
        Assert.Contains(failures, f => f.Row >= from && f.Row < to && columns.Any(c => Reads(ctx.Air, f.Constraint, c)));
        if (localized)
        {
            Assert.All(failures, f => Assert.InRange(f.Row, from - 1, to - 1));
        }
    }

    private static readonly int[] Balance = [TransferAir.NewAcc, TransferAir.NewAcc + 1, TransferAir.NewAcc + 2, TransferAir.NewAcc + 3];

    private static int RegionEnd(int region) => TransferAir.RegionStart(region) + TransferAir.RegionLength(region);

    private static Forged HonestForged(Lie? lie = null) { var h = Shared.Value; return Execute(h.State.Clone(), h.Parameters, h.Transfers, lie); }

    [Fact]
    public void Forged_refill_of_an_honest_execution_holds()
    {
        // The cheat's tools are honest when the cheat is: otherwise the refusals below would prove nothing.
        var f = HonestForged();
        Assert.Equal(Shared.Value.Witness.PostStateRoot, f.Witness.PostStateRoot);
        var (ctx, trace) = Build(f);
        Assert.Empty(Failures(ctx, trace));
        Assert.Equal(Shared.Value.Trace.Length, trace.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Paying_the_receiver_more_than_the_value_is_refused(int region)
    {
        var (ctx, trace) = Build(HonestForged(new Lie(ReceiverAfter: (i, a) => i == region ? a with { Balance = a.Balance + 1 } : a)));
        AssertRefusedAt(ctx, trace, Balance, BlockStart(region, false), RegionEnd(region));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Debiting_the_sender_less_than_value_plus_fee_is_refused(int region)
    {
        var (ctx, trace) = Build(HonestForged(new Lie(SenderAfter: (i, a) => i == region ? a with { Balance = a.Balance + 1 } : a)));
        AssertRefusedAt(ctx, trace, Balance, BlockStart(region, true), BlockStart(region, false));
    }

    [Fact]
    public void Not_bumping_the_sender_nonce_is_refused()
    {
        var (ctx, trace) = Build(HonestForged(new Lie(SenderAfter: (i, a) => i == 0 ? a with { Nonce = a.Nonce - 1 } : a)));
        AssertRefusedAt(ctx, trace, [TransferAir.NewAcc + 4], BlockStart(0, true), BlockStart(0, false));
    }

    /// <summary>
    /// The fee recipient is credited tips + delta (delta = -tips: the credit skipped), the lie pushed
    /// back one layer at a time: the credit alone, then the fee and padding regions' Tips, then the
    /// last transfer's TipsAfter, then its gadget Tip. Each layer is refused where it stops.
    /// </summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(1, 3)]
    [InlineData(-1, 0)]
    [InlineData(-1, 1)]
    [InlineData(-1, 2)]
    public void Crediting_the_fee_recipient_other_than_the_tips_is_refused(int sign, int layers)
    {
        var h = Shared.Value;
        var honestTips = h.Witness.FeeRecipient.Tips;
        Assert.True(honestTips > 1);
        UInt128 forged = sign > 0 ? honestTips + 1 : 0;
        var n = h.Air.Statement.Count;
        var f = HonestForged(new Lie(Tips: _ => forged));
        var forgedLimbs = new ulong[4];
        FieldEncoding.WriteAmount(forged, forgedLimbs);
        var (ctx, trace) = Build(f, (air, t) =>
        {
            void Fill(int column, int region) { for (var i = 0; i < 4; i++) { Array.Fill(t[column + i], forgedLimbs[i], TransferAir.RegionStart(region), TransferAir.RegionLength(region)); } }
            if (layers >= 1)
            {
                for (var region = n; region < air.Regions; region++)
                {
                    Fill(TransferAir.Tips, region);
                    Fill(TransferAir.TipsAfter, region);
                }
                // The fee region's receiver block: the carries for the forged credit.
                RefillBlock(air, t, n, false, f.Witness.FeeRecipient.Opening.Before, f.Witness.FeeRecipient.Opening.Before with { Balance = f.Witness.FeeRecipient.Opening.Before.Balance + forged });
            }
            if (layers >= 2)
            {
                Fill(TransferAir.TipsAfter, n - 1);
            }
            if (layers >= 3)
            {
                var before = TransferStatement.Amount([.. Enumerable.Range(0, 4).Select(i => t[TransferAir.Tips + i][TransferAir.RegionStart(n - 1)])], 0);
                var tip = new ulong[4];
                FieldEncoding.WriteAmount(forged - before, tip);
                for (var i = 0; i < 4; i++)
                {
                    Array.Fill(t[air.FeeTerms.Tip + i], tip[i], TransferAir.RegionStart(n - 1), TransferAir.RegionLength(n - 1));
                }
            }
        });
        var feeReceiver = BlockStart(n, false);
        switch (layers)
        {
            case 0:
                AssertRefusedAt(ctx, trace, Balance, feeReceiver, RegionEnd(n));
                break;
            case 1:
                AssertRefusedAt(ctx, trace, [TransferAir.Tips], TransferAir.RegionStart(n) - 1, TransferAir.RegionStart(n));
                break;
            case 2:
                AssertRefusedAt(ctx, trace, [TransferAir.TipsAfter], TransferAir.RegionStart(n - 1), RegionEnd(n - 1), localized: false);
                break;
            default:
                AssertRefusedAt(ctx, trace, [((TransferAir)ctx.Air).FeeTerms.Tip], TransferAir.RegionStart(n - 1), RegionEnd(n - 1), localized: false);
                break;
        }
    }

    [Fact]
    public void Applying_a_transfer_whose_fee_cap_is_below_the_base_fee_is_refused()
    {
        var h = Shared.Value;
        var tx = h.Transfers[0];
        Tx cheap = new(2, tx.ChainId, tx.From, tx.To, tx.Value, tx.Nonce, h.Parameters.BaseFeePerGas - 1, 0, Tx.IntrinsicGas, tx.Hash);
        // The cheat debits what the gadget's Debit column says (value + burn + tip of a meaningless q), so only the rule is broken.
        var probe = Build(Execute(h.State.Clone(), h.Parameters, [cheap], new Lie(Applied: _ => true)));
        var air = (TransferAir)probe.Ctx.Air;
        var debit = TransferStatement.Amount([.. Enumerable.Range(0, 4).Select(i => probe.Trace[air.FeeTerms.Debit + i][0])], 0);
        var f = Execute(h.State.Clone(), h.Parameters, [cheap], new Lie(Applied: _ => true, SenderAfter: (_, a) => a with { Balance = a.Balance + (cheap.Value + (h.Parameters.BaseFeePerGas - 1) * Tx.IntrinsicGas) - debit }));
        var (ctx, trace) = Build(f);
        Assert.Equal(0UL, trace[air.FeeTerms.FeeCapOk][0]);
        AssertRefusedAt(ctx, trace, [TransferAir.Applied], 0, RegionEnd(0), localized: false);
    }

    [Fact]
    public void Claiming_that_an_overflowing_cost_fits_is_refused()
    {
        var h = Shared.Value;
        var huge = h.Transfers[0] with { Value = UInt128.MaxValue };
        var f = Execute(h.State.Clone(), h.Parameters, [huge]);
        Assert.NotEqual(TransferStatus.Applied, f.Witness.Transfers[0].Status);
        var (ctx0, honest) = Build(f);
        Assert.Empty(Failures(ctx0, honest));
        var fee = ((TransferAir)ctx0.Air).FeeTerms;
        Assert.Equal(0UL, honest[fee.CostFits][0]);
        var length = TransferAir.RegionLength(0);
        // Flag only, then the flag with the overflow folded into limb 3 (k3 = 0), then with Suf set too.
        for (var variant = 0; variant < 3; variant++)
        {
            var (ctx, trace) = Build(f, (air, t) =>
            {
                Array.Fill(t[fee.CostFits], 1UL, 0, length);
                Array.Fill(t[fee.OverflowInverse], 0UL, 0, length);
                if (variant >= 1)
                {
                    var k3 = t[fee.CostCarry + 3][0];
                    Array.Fill(t[fee.Cost + 3], Goldilocks.Add(t[fee.Cost + 3][0], Goldilocks.Mul(k3, 1UL << 32)), 0, length);
                    Array.Fill(t[fee.CostCarry + 3], 0UL, 0, length);
                }
                if (variant >= 2)
                {
                    Array.Fill(t[TransferAir.Suf], 1UL, 0, length);
                }
            });
            AssertRefusedAt(ctx, trace, variant == 0 ? [fee.CostFits] : [fee.Cost + 3, TransferAir.Margin, TransferAir.Margin + 3], 0, RegionEnd(0), localized: false);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Crediting_another_address_than_to_is_refused(bool rewriteTo)
    {
        var h = Shared.Value;
        var other = Address.Parse("0x00000000000000000000000000000000000b0b00");
        var f = HonestForged(new Lie(CreditAddress: (i, tx) => i == 0 ? other : null));
        var (ctx, trace) = Build(f, (air, t) =>
        {
            if (rewriteTo)
            {
                var limbs = AddressLimbs(other);
                for (var k = 0; k < 5; k++)
                {
                    Array.Fill(t[TransferAir.To + k], limbs[k], 0, TransferAir.RegionLength(0));
                }
                RefillSponges(air, t);
            }
        });
        if (rewriteTo)
        {
            // The sponge re-run on the rewritten limbs: only the committed digest disagrees.
            var digestRow = TransferAir.SpongeDigestRow(h.Air.Statement.Count - 1);
            AssertRefusedAt(ctx, trace, [TransferAir.Sp], digestRow, digestRow + 1);
        }
        else
        {
            AssertRefusedAt(ctx, trace, [TransferAir.Acc], BlockStart(0, false), RegionEnd(0));
        }
    }

    [Fact]
    public void Changing_a_transfer_after_the_sponge_absorbed_it_is_refused()
    {
        var h = Shared.Value;
        var start = TransferAir.RegionStart(0);
        var after = start + TransferAir.SpongeRow + TransferAir.SpongeRows;
        // Only after the sponge: the region-constant value breaks at the first changed row.
        var t = Copy(h.Trace);
        for (var r = after; r < RegionEnd(0); r++)
        {
            t[TransferAir.Value][r] = Goldilocks.Add(t[TransferAir.Value][r], 1);
        }
        AssertRefusedAt(h.Ctx, t, [TransferAir.Value], after - 1, after, localized: false);
        // Over the whole region: the sponge row absorbing the value refuses it.
        t = Copy(h.Trace);
        for (var r = start; r < RegionEnd(0); r++)
        {
            t[TransferAir.Value][r] = Goldilocks.Add(t[TransferAir.Value][r], 1);
        }
        AssertRefusedAt(h.Ctx, t, [TransferAir.Value], start + TransferAir.SpongeRow, start + TransferAir.SpongeRow + 2, localized: false);
    }

    /// <summary>Region-kind cheats: move the fee region later, add a fee region, cut the countdown.</summary>
    [Theory]
    [InlineData("fee-later")]
    [InlineData("fee-twice")]
    [InlineData("no-fee")]
    [InlineData("rem-skips")]
    [InlineData("istx-off")]
    [InlineData("istx-on")]
    public void Region_kind_cheats_are_refused(string cheat)
    {
        var h = Shared.Value;
        var n = h.Air.Statement.Count;
        var t = Copy(h.Trace);
        void Set(int column, int region, ulong value) => Array.Fill(t[column], value, TransferAir.RegionStart(region), TransferAir.RegionLength(region));
        int[] columns;
        int boundary;
        switch (cheat)
        {
            case "fee-later":
                Set(TransferAir.IsFee, n, 0);
                Set(TransferAir.IsFee, n + 1, 1);
                (columns, boundary) = ([TransferAir.IsFee], n);
                break;
            case "fee-twice":
                Set(TransferAir.IsFee, n + 1, 1);
                (columns, boundary) = ([TransferAir.IsFee], n + 1);
                break;
            case "no-fee":
                Set(TransferAir.IsFee, n, 0);
                (columns, boundary) = ([TransferAir.IsFee], n);
                break;
            case "rem-skips":
                Set(TransferAir.Rem, 1, 1);
                Set(TransferAir.RemInv, 1, 1);
                (columns, boundary) = ([TransferAir.Rem], 1);
                break;
            case "istx-off":
                Set(TransferAir.IsTx, 1, 0);
                (columns, boundary) = ([TransferAir.IsTx], 1);
                break;
            default:
                Set(TransferAir.IsTx, n, 1);
                (columns, boundary) = ([TransferAir.IsTx], n);
                break;
        }
        AssertRefusedAt(h.Ctx, t, columns, TransferAir.RegionStart(boundary) - 1, RegionEnd(boundary), localized: false);
    }

    [Fact]
    public void Skipping_the_applicable_third_transfer_or_applying_the_skipped_one_is_refused()
    {
        var (ctx, trace) = Build(HonestForged(new Lie(Applied: i => i == 2 ? false : null)));
        AssertRefusedAt(ctx, trace, [TransferAir.Applied], TransferAir.RegionStart(2), RegionEnd(2), localized: false);
        (ctx, trace) = Build(HonestForged(new Lie(Applied: i => i == 1 ? true : null)));
        AssertRefusedAt(ctx, trace, [TransferAir.Applied], TransferAir.RegionStart(1), RegionEnd(1), localized: false);
    }

    [Fact]
    public void Reordering_or_dropping_transfers_breaks_the_commitment()
    {
        var h = Shared.Value;
        var digestRow = TransferAir.SpongeDigestRow(h.Air.Statement.Count - 1);
        // Reordered execution, the original order's commitment.
        var reordered = Execute(h.State.Clone(), h.Parameters, [h.Transfers[2], h.Transfers[1], h.Transfers[0]], committed: h.Transfers);
        var (ctx, trace) = Build(reordered);
        AssertRefusedAt(ctx, trace, [TransferAir.Sp], digestRow, digestRow + 1);

        // Two transfers executed and stated; the commitment is the three-transfer batch's.
        var dropped = Execute(h.State.Clone(), h.Parameters, h.Transfers[..2], committed: h.Transfers);
        (ctx, trace) = Build(dropped);
        var row = TransferAir.SpongeDigestRow(1);
        AssertRefusedAt(ctx, trace, [TransferAir.Sp], row, row + 1);

        // The commitment claimed is the sponge state after only two of the three transfers.
        var publics = h.Air.PublicInputs.ToArray();
        for (var i = 0; i < 4; i++)
        {
            publics[10 + i] = h.Trace[TransferAir.Sp + i][TransferAir.SpongeDigestRow(1)];
        }
        var early = new TransferAir(publics);
        AssertRefusedAt(new AirContext(early, new ProofOptions()), h.Trace, [TransferAir.Sp], digestRow, digestRow + 1);
    }

    // ------------------------------------------------------------------ 3. the periodic layout

    [Fact]
    public void Periodic_selectors_mark_exactly_the_intended_rows_of_a_period()
    {
        var air = Shared.Value.Air;
        var p = air.PeriodicColumns;
        Assert.All(p, c => Assert.Equal(TransferAir.PeriodRows, c.Length));
        IEnumerable<int> Rows(int k) => Enumerable.Range(0, TransferAir.PeriodRows).Where(r => p[k][r] != 0);
        Assert.Equal(44, TransferAir.BlockRows);
        Assert.Equal(11, TransferAir.RegionsPerPeriod);
        var blockStarts = Enumerable.Range(0, 22).Select(i => 44 * i).ToArray();
        var senderStarts = Enumerable.Range(0, 11).Select(j => 88 * j).ToArray();
        // Indices of BuildPeriodicColumns: PW12, PW8, PLeaf, PLevelT, PRoot, PSpA, PSpB, PSpEnd, PBlockEnd, PRegionEnd, PSide,
        // PLimbFirst, PStep, PWeight, PAddrSel (five).
        Assert.Equal(blockStarts.Concat(senderStarts.SelectMany(b => new[] { b + 41, b + 42, b + 43 })).Order(), Rows(0));
        Assert.Equal(blockStarts.SelectMany(b => Enumerable.Range(b + 1, 40)), Rows(1));
        Assert.Equal(blockStarts, Rows(2));
        Assert.Equal(blockStarts.SelectMany(b => Enumerable.Range(b + 1, 39)), Rows(3));
        Assert.Equal(blockStarts.Select(b => b + 40), Rows(4));
        Assert.Equal(senderStarts.Select(b => b + 41), Rows(5));
        Assert.Equal(senderStarts.Select(b => b + 42), Rows(6));
        Assert.Equal(senderStarts.Select(b => b + 43), Rows(7));
        Assert.Equal(blockStarts[..^1].Select(b => b + 43).Append(1023), Rows(8));
        Assert.Equal(senderStarts[..^1].Select(b => b + 87).Append(1023), Rows(9));
        Assert.Equal(senderStarts.SelectMany(b => Enumerable.Range(b, 44)), Rows(10));
        // Address selectors: limb k (levels 32k..32k+31) is level rows 1 + 8k .. 8 + 8k of every block, four bits
        // per row; the accumulator steps with weight 2^(4(i+1)) from the limb's row i to row i + 1.
        for (var k = 0; k < 5; k++)
        {
            Assert.Equal(blockStarts.Select(b => b + 1 + 8 * k + 7), Rows(14 + k));
        }
        Assert.Equal(blockStarts.SelectMany(b => Enumerable.Range(0, 5).Select(k => b + 1 + 8 * k)), Rows(11));
        Assert.Equal(blockStarts.SelectMany(b => Enumerable.Range(0, 5).SelectMany(k => Enumerable.Range(b + 1 + 8 * k, 7))), Rows(12));
        foreach (var b in blockStarts)
        {
            for (var k = 0; k < 5; k++)
            {
                for (var i = 0; i < 7; i++)
                {
                    Assert.Equal(1UL << (4 * (i + 1)), p[13][b + 1 + 8 * k + i]);
                }
            }
        }
        Assert.Equal(blockStarts.Length * 35, Rows(13).Count());
        Assert.True(p.Count <= AirContext.MaxPeriodicColumns);
        // The statement's rows: the digest after region r on its receiver block's first row, the post root on the fee region's last row.
        for (var r = 0; r < 22; r++)
        {
            Assert.Equal(TransferAir.RegionStart(r) + TransferAir.BlockRows, TransferAir.SpongeDigestRow(r));
        }
        var n = air.Statement.Count;
        Assert.Contains(air.Assertions, a => a.Column == TransferAir.NewRoot && a.Row == RegionEnd(n) - 1 && RegionEnd(n) - 1 == 4 * 88 - 1);
    }
}
