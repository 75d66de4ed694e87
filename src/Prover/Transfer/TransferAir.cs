using Keel.Prover.Air;

namespace Keel.Prover.Transfer;

/// <summary>
/// The transfer AIR, version 2: applying a batch's transfers in order to the account tree with the
/// public pre-state root gives the public post-state root, and the transfers are exactly those of
/// the public batch commitment (docs/prover.md section 9; the rules of <c>WitnessChecker</c>).
/// Statement: <see cref="TransferStatement"/> (header only: the transfers are private columns).
///
/// Layout: one 330-row region per transfer, then one for the fee recipient, then no-op regions;
/// three regions per 1024-row period (the third takes the period's 34 idle rows), a power of two
/// of periods. A region is two 165-row blocks, the sender block (the transfer's from) and the
/// receiver block (to; for a skipped transfer a no-op re-opening of from; in the fee region both
/// are the fee recipient). One row computes one whole Poseidon2 permutation
/// (<see cref="Poseidon2RowGadget"/>) in each of two lanes:
/// <code>
/// block row 0        lane L: width 12, the old account's leaf (lane L's width-12 columns overlap lane R's first ones)
/// block row 1        lane L: width 12, the new account's leaf
/// block rows 2..161  level h = row - 2: lane L compresses the old path, lane R the new one, same sibling
/// block row 161      lane outputs are the old and new roots
/// sender rows 162..164  lane L: width 12, the batch-commitment sponge absorbs the transfer (3 blocks of 8)
/// </code>
/// Range-check bits run down their own lanes over the whole region. The sponge state is carried
/// from region to region (column Sp), starts at the header state the verifier computes, and its digest after region n-1
/// is the public commitment; so the private transfer columns are the committed transfers.
/// Fee terms (price, cost and whether it fits in 128 bits, debit, tip, fee-cap check) are proven
/// by <see cref="FeeTermsGadget"/> from those columns and the public base fee. Region kinds come
/// from a countdown from n: Rem = n at row 0, minus one per transfer region; IsTx = [Rem != 0].
/// </summary>
public sealed class TransferAir : IAir
{
    public const string AirName = "transfer-batch-v2";

    /// <summary>
    /// Transfers per proof: 511 transfers and the fee region need 2^18 rows (383 fit in 2^17); the CPU
    /// prover holds the 8x extension of the 330 columns in memory (4.7 GB peak measured at 2^17 rows).
    /// </summary>
    public const int MaxTransfers = 511;

    public const int Depth = MerklePathAir.Depth;

    /// <summary>Rows of one account-update block: two leaf rows, 160 level rows, three sponge rows (sender blocks).</summary>
    public const int BlockRows = 165;

    /// <summary>A region (one transfer) is a sender and a receiver block.</summary>
    public const int RegionRows = 2 * BlockRows;

    /// <summary>
    /// Periodic columns repeat every 1024 rows, which hold three regions (990 rows) and 34 idle rows
    /// appended to the third region's receiver block. A power-of-two region size (512) would waste a
    /// third of the rows; this packing proves a 2^k-transfer batch in half the rows.
    /// </summary>
    public const int PeriodRows = 1024;

    public const int RegionsPerPeriod = 3;

    internal const int LeafOldRow = 0;
    internal const int LeafNewRow = 1;
    internal const int FirstLevelRow = 2;
    internal const int RootRowInBlock = FirstLevelRow + Depth - 1;
    internal const int SpongeRow = RootRowInBlock + 1;
    internal const int SpongeRows = 3;

    internal static readonly Poseidon2RowGadget Wide = new(12);
    internal static readonly Poseidon2RowGadget Narrow = new(8);

    // ---- columns
    internal const int LaneL = 0;

    // Lane R starts where lane L's width-8 columns end: lane L's width-12 rows (leaves, sponge) run
    // over lane R's first 36 columns, which lane R (levels only) never uses on those rows.
    internal static readonly int LaneR = Narrow.Columns;
    internal static readonly int Sib = LaneR + Narrow.Columns;
    internal static readonly int Bit = Sib + 4;
    internal static readonly int Acc = Bit + 1;
    internal static readonly int Hold = Acc + 1;

    // block-constant
    internal static readonly int OldAcc = Hold + 4;
    internal static readonly int NewAcc = OldAcc + 5;
    internal static readonly int OldRoot = NewAcc + 5;
    internal static readonly int NewRoot = OldRoot + 4;
    internal static readonly int BalanceCarry = NewRoot + 4; // carries into limbs 1..3, in {-1, 0, 1}

    // carried from sponge update to sponge update
    internal static readonly int Sp = BalanceCarry + 3;

    // region-constant: the transfer (private, bound by the sponge)
    internal static readonly int From = Sp + 12;
    internal static readonly int To = From + 5;
    internal static readonly int Value = To + 5;
    internal static readonly int TxNonce = Value + 4;
    internal static readonly int MaxFee = TxNonce + 1;
    internal static readonly int Prio = MaxFee + 4;

    // region-constant: kind
    internal static readonly int Rem = Prio + 4;
    internal static readonly int RemInv = Rem + 1;
    internal static readonly int IsTx = RemInv + 1;
    internal static readonly int IsFee = IsTx + 1;

    // region-constant: rules
    internal static readonly int Eq = IsFee + 1;
    internal static readonly int Inv = Eq + 1;
    internal static readonly int Suf = Inv + 1;
    internal static readonly int Applied = Suf + 1;
    internal static readonly int Tips = Applied + 1;
    internal static readonly int TipsAfter = Tips + 4;
    internal static readonly int TipsCarry = TipsAfter + 4;
    internal static readonly int Margin = TipsCarry + 3;
    internal static readonly int MarginBorrow = Margin + 4;
    internal static readonly int Fee = MarginBorrow + 3;

    internal static readonly int RegionFirst = From;

    // ---- periodic columns (period: one region)
    private const int PW12 = 0;
    private const int PW8 = 1;
    private const int PRow0 = 2;
    private const int PRow1 = 3;
    private const int PRow2 = 4;
    private const int PLevelT = 5;
    private const int PRoot = 6;
    private const int PSpA = 7;
    private const int PSpB = 8;
    private const int PSpEnd = 9;
    private const int PBlockEnd = 10;
    private const int PRegionEnd = 11;
    private const int PSide = 12;
    private const int PLimbFirst = 13;
    private const int PStep = 14;
    private const int PWeight = 15;
    private const int PAddrSel = 16; // five
    private const int PRange = PAddrSel + 5;

    internal const int RangeLanes = 4;

    public TransferAir(IReadOnlyList<ulong> publicInputs)
    {
        Statement = new TransferStatement(publicInputs);
        Periods = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)((Statement.Count + RegionsPerPeriod) / RegionsPerPeriod));
        Regions = Periods * RegionsPerPeriod;
        PublicInputs = Statement.Values;
        var baseFee = Enumerable.Range(0, 4).Select(i => Expr.PublicInput(TransferStatement.BaseFeeIndex + i)).ToArray();
        var burn = Statement.BurnLimbs().Select(Expr.Const).ToArray();
        FeeTerms = new FeeTermsGadget(Fee, Value, MaxFee, Prio, baseFee, burn);
        Width = Fee + FeeTerms.Columns + 2 * RangeLanes;
        Range = new RangeCheckLanes(Fee + FeeTerms.Columns, RangeLanes, PeriodRows, PRange, RangeItems(FeeTerms));

        var assertions = new List<Assertion>();
        var header = Statement.HeaderSpongeState();
        for (var i = 0; i < 12; i++)
        {
            assertions.Add(new Assertion(Sp + i, 0, header[i]));
        }
        for (var i = 0; i < 4; i++)
        {
            assertions.Add(new Assertion(OldRoot + i, 0, Statement.PreRoot[i]));
            assertions.Add(new Assertion(Tips + i, 0, 0));
            assertions.Add(new Assertion(NewRoot + i, RegionStart(Statement.Count) + RegionLength(Statement.Count) - 1, Statement.PostRoot[i]));
            if (Statement.Count > 0)
            {
                assertions.Add(new Assertion(Sp + i, SpongeDigestRow(Statement.Count - 1), Statement.Commitment[i]));
            }
        }
        assertions.Add(new Assertion(Rem, 0, (ulong)Statement.Count));
        assertions.Add(new Assertion(IsFee, 0, Statement.Count == 0 ? 1UL : 0));
        if (Statement.Count == 0 && !header.AsSpan(0, 4).SequenceEqual(Statement.Commitment))
        {
            // An empty batch's commitment is the header's digest; nothing in the trace binds it.
            throw new AirDefinitionException("the batch commitment does not match the empty batch's header");
        }
        Assertions = assertions;
        PeriodicColumns = BuildPeriodicColumns();
        TransitionConstraints = BuildConstraints();
    }

    public TransferStatement Statement { get; }

    internal FeeTermsGadget FeeTerms { get; }

    internal RangeCheckLanes Range { get; }

    /// <summary>Transfer regions, the fee region and no-op padding: three per period.</summary>
    public int Regions { get; }

    /// <summary>Periods of <see cref="PeriodRows"/> rows: a power of two.</summary>
    public int Periods { get; }

    public int Width { get; }

    public string Name => AirName;
    public int TraceWidth => Width;
    public int TraceLength => Periods * PeriodRows;

    /// <summary>First row of region <paramref name="region"/>.</summary>
    public static int RegionStart(int region) => region / RegionsPerPeriod * PeriodRows + region % RegionsPerPeriod * RegionRows;

    /// <summary>Rows of region <paramref name="region"/> (the third of a period also has the period's idle rows).</summary>
    public static int RegionLength(int region) => region % RegionsPerPeriod == RegionsPerPeriod - 1 ? PeriodRows - (RegionsPerPeriod - 1) * RegionRows : RegionRows;
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns { get; }

    /// <summary>The row where Sp holds the sponge state after region <paramref name="region"/>'s transfer.</summary>
    internal static int SpongeDigestRow(int region) => RegionStart(region) + SpongeRow + SpongeRows;

    /// <summary>
    /// What to range-check: each block's new balance (its new account is block-constant) inside its
    /// block; the region-constant margin, tips after, and the fee terms' limbs anywhere in the region.
    /// </summary>
    private static List<RangeCheckLanes.Item> RangeItems(FeeTermsGadget fee)
    {
        var items = new List<RangeCheckLanes.Item>();
        for (var j = 0; j < RegionsPerPeriod; j++)
        {
            var start = RegionStart(j);
            var end = start + RegionLength(j);
            for (var i = 0; i < 4; i++)
            {
                items.Add(new(NewAcc + i, 32, start, start + BlockRows));
                items.Add(new(NewAcc + i, 32, start + BlockRows, end));
            }
            for (var i = 0; i < 4; i++)
            {
                items.Add(new(Margin + i, 32, start, end));
                items.Add(new(TipsAfter + i, 32, start, end));
            }
            foreach (var (column, bits) in fee.RangeChecks)
            {
                items.Add(new(column, bits, start, end));
            }
        }
        return items;
    }

    private ulong[][] BuildPeriodicColumns()
    {
        var p = new ulong[PRange][];
        for (var k = 0; k < p.Length; k++)
        {
            p[k] = new ulong[PeriodRows];
        }
        for (var r = 0; r < PeriodRows; r++)
        {
            var j = Math.Min(r / RegionRows, RegionsPerPeriod - 1);
            var o = r - RegionStart(j);
            var sender = o < BlockRows;
            var b = sender ? o : o - BlockRows;
            var blockEnd = sender ? o == BlockRows - 1 : o == RegionLength(j) - 1;
            var spongeRow = sender && b >= SpongeRow && b < SpongeRow + SpongeRows;
            p[PW12][r] = b is LeafOldRow or LeafNewRow || spongeRow ? 1UL : 0;
            p[PW8][r] = b >= FirstLevelRow && b <= RootRowInBlock ? 1UL : 0;
            p[PRow0][r] = b == LeafOldRow ? 1UL : 0;
            p[PRow1][r] = b == LeafNewRow ? 1UL : 0;
            p[PRow2][r] = b == FirstLevelRow ? 1UL : 0;
            p[PLevelT][r] = b >= FirstLevelRow && b < RootRowInBlock ? 1UL : 0;
            p[PRoot][r] = b == RootRowInBlock ? 1UL : 0;
            p[PSpA][r] = sender && b == SpongeRow ? 1UL : 0;
            p[PSpB][r] = sender && b == SpongeRow + 1 ? 1UL : 0;
            p[PSpEnd][r] = sender && b == SpongeRow + 2 ? 1UL : 0;
            p[PBlockEnd][r] = blockEnd ? 1UL : 0;
            p[PRegionEnd][r] = !sender && blockEnd ? 1UL : 0;
            p[PSide][r] = sender ? 1UL : 0;
            if (b >= FirstLevelRow && b <= RootRowInBlock)
            {
                // Level h's bit is bit h % 32 of address limb h / 32 (limb 0 least significant).
                var h = b - FirstLevelRow;
                var bitIndex = h % 32;
                p[PLimbFirst][r] = bitIndex == 0 ? 1UL : 0;
                if (bitIndex < 31)
                {
                    p[PStep][r] = 1;
                    p[PWeight][r] = 1UL << (bitIndex + 1);
                }
                else
                {
                    p[PAddrSel + h / 32][r] = 1;
                }
            }
        }
        return [.. p, .. Range.PeriodicColumns()];
    }

    private static Expr[] Select(Expr bit, Expr[] node, Expr[] sibling)
    {
        // bit 0: the node is the left child.
        var input = new Expr[8];
        for (var i = 0; i < 4; i++)
        {
            input[i] = node[i] + bit * (sibling[i] - node[i]);
            input[4 + i] = sibling[i] + bit * (node[i] - sibling[i]);
        }
        return input;
    }

    private Expr[] BuildConstraints()
    {
        var list = new List<Expr>();
        Expr P(int k) => Expr.Periodic(k);
        Expr C(int c) => Expr.Cur(c);
        Expr N(int c) => Expr.Next(c);
        Expr[] Cs(int c, int count) => [.. Enumerable.Range(c, count).Select(C)];
        Expr[] Ns(int c, int count) => [.. Enumerable.Range(c, count).Select(N)];
        Expr[] OutL(int count, bool next = false) => [.. Enumerable.Range(0, count).Select(i => Wide.Output(LaneL, i, next))];
        Expr[] OutL8(int count) => [.. Enumerable.Range(0, count).Select(i => Narrow.Output(LaneL, i))];
        Expr[] OutR8(int count) => [.. Enumerable.Range(0, count).Select(i => Narrow.Output(LaneR, i))];
        var two32 = Expr.Const(1UL << 32);

        // ---- permutations: lane L width 12 on leaf and sponge rows, both lanes width 8 on level rows
        list.AddRange(Wide.Constraints(LaneL, P(PW12)));
        list.AddRange(Narrow.Constraints(LaneL, P(PW8)));
        list.AddRange(Narrow.Constraints(LaneR, P(PW8)));

        // ---- leaves: H([1, bal 0..3, nonce]) as one width-12 permutation of [1, a.., 0, 0 | 6, 0, 0, 0]
        for (var row = 0; row < 2; row++)
        {
            var account = row == 0 ? OldAcc : NewAcc;
            var pre = new Expr[12];
            pre[0] = 1;
            for (var i = 0; i < 5; i++)
            {
                pre[1 + i] = C(account + i);
            }
            pre[6] = 0;
            pre[7] = 0;
            pre[8] = 6;
            pre[9] = 0;
            pre[10] = 0;
            pre[11] = 0;
            for (var i = 0; i < 12; i++)
            {
                list.Add(P(row == 0 ? PRow0 : PRow1) * (C(Poseidon2RowGadget.InputColumn(LaneL, i)) - pre[i]));
            }
        }
        // The old leaf is held (Hold) from row 0 to level 0 at row 2; the new leaf feeds lane R's level 0 from row 1.
        var outL4 = OutL(4);
        for (var i = 0; i < 4; i++)
        {
            list.Add(P(PRow0) * (N(Hold + i) - outL4[i]));
            list.Add((1 - P(PRow0)) * (N(Hold + i) - C(Hold + i)));
        }
        var bit = C(Bit);
        var nextBit = N(Bit);
        var level0L = Select(bit, Cs(Hold, 4), Cs(Sib, 4));
        var level0R = Select(nextBit, outL4, Ns(Sib, 4));
        var nextL = Select(nextBit, OutL8(4), Ns(Sib, 4));
        var nextR = Select(nextBit, OutR8(4), Ns(Sib, 4));
        for (var i = 0; i < 8; i++)
        {
            list.Add(P(PRow2) * (C(Poseidon2RowGadget.InputColumn(LaneL, i)) - level0L[i]));
            list.Add(P(PRow1) * (N(Poseidon2RowGadget.InputColumn(LaneR, i)) - level0R[i]));
            list.Add(P(PLevelT) * (N(Poseidon2RowGadget.InputColumn(LaneL, i)) - nextL[i]));
            list.Add(P(PLevelT) * (N(Poseidon2RowGadget.InputColumn(LaneR, i)) - nextR[i]));
        }
        // Level 159's outputs are the roots.
        var rootL = OutL8(4);
        var rootR = OutR8(4);
        for (var i = 0; i < 4; i++)
        {
            list.Add(P(PRoot) * (rootL[i] - C(OldRoot + i)));
            list.Add(P(PRoot) * (rootR[i] - C(NewRoot + i)));
        }

        // ---- address bits: boolean, accumulated per 32 levels into the limb the block opens
        list.Add(bit * (bit - 1));
        list.Add(P(PLimbFirst) * (C(Acc) - bit));
        list.Add(P(PStep) * (N(Acc) - C(Acc) - P(PWeight) * nextBit));
        var side = P(PSide);
        var ap = C(Applied);
        Expr addressCheck = 0;
        for (var k = 0; k < 5; k++)
        {
            var receiverAddress = ap * C(To + k) + (1 - ap) * C(From + k);
            addressCheck = addressCheck + P(PAddrSel + k) * (C(Acc) - side * C(From + k) - (1 - side) * receiverAddress);
        }
        list.Add(addressCheck);

        // ---- block-constant columns; roots chained from block to block
        for (var c = OldAcc; c < Sp; c++)
        {
            list.Add((1 - P(PBlockEnd)) * (N(c) - C(c)));
        }
        for (var i = 0; i < 4; i++)
        {
            list.Add(P(PBlockEnd) * (N(OldRoot + i) - C(NewRoot + i)));
        }

        // ---- the commitment sponge: three blocks of the region's transfer, then carried in Sp
        var tx = new Expr[24];
        for (var i = 0; i < 23; i++)
        {
            tx[i] = C(From + i);
        }
        tx[23] = 0;
        var outL12 = OutL(12);
        for (var j = 0; j < 12; j++)
        {
            var input = C(Poseidon2RowGadget.InputColumn(LaneL, j));
            list.Add(P(PSpA) * (input - C(Sp + j) - (j < 8 ? tx[j] : 0)));
            var nextInput = N(Poseidon2RowGadget.InputColumn(LaneL, j));
            list.Add((P(PSpA) + P(PSpB)) * (nextInput - outL12[j]) - (j < 8 ? P(PSpA) * tx[8 + j] + P(PSpB) * tx[16 + j] : 0));
            list.Add(P(PSpEnd) * (N(Sp + j) - outL12[j]));
            list.Add((1 - P(PSpEnd)) * (N(Sp + j) - C(Sp + j)));
        }

        // ---- region kind: Rem counts down from n; IsTx = [Rem != 0]; IsFee marks the first region after the transfers
        var isTx = C(IsTx);
        var isFee = C(IsFee);
        var regionEnd = P(PRegionEnd);
        list.Add(isTx * (isTx - 1));
        list.Add(isFee * (isFee - 1));
        list.Add((1 - isTx) * C(Rem));
        list.Add(isTx * (C(Rem) * C(RemInv) - 1));
        list.Add(regionEnd * (N(Rem) - C(Rem) + isTx));
        list.Add(regionEnd * (N(IsFee) - isTx * (1 - N(IsTx))));
        for (var k = 0; k < 5; k++)
        {
            // Outside transfer regions the blocks open the fee recipient.
            list.Add((1 - isTx) * (C(From + k) - Expr.PublicInput(TransferStatement.FeeRecipientIndex + k)));
        }
        for (var c = RegionFirst; c < Fee + FeeTerms.Columns; c++)
        {
            list.Add((1 - regionEnd) * (N(c) - C(c)));
        }
        for (var i = 0; i < 4; i++)
        {
            list.Add(regionEnd * (N(Tips + i) - C(TipsAfter + i)));
        }

        // ---- fee terms from the private transfer and the public base fee
        list.AddRange(FeeTerms.Constraints());

        // ---- the rules (the sender block reads the sender's old account)
        var oldNonce = C(OldAcc + 4);
        var eq = C(Eq);
        var suf = C(Suf);
        var costFits = C(FeeTerms.CostFits);
        list.Add(eq * (eq - 1));
        list.Add(side * eq * (oldNonce - C(TxNonce)));
        list.Add(side * (1 - eq) * ((oldNonce - C(TxNonce)) * C(Inv) - 1));
        list.Add(suf * (suf - 1));
        list.Add(suf * (1 - costFits));
        list.Add(ap - isTx * C(FeeTerms.FeeCapOk) * eq * suf);
        // suf: margin = old - cost. Not suf: margin = cost - 1 - old when the cost fits (so old < cost),
        // else margin = (2^128 - 1) - old, always possible. A 128-bit subtraction with borrows; the margin is range-checked.
        for (var i = 0; i < 4; i++)
        {
            var old = C(OldAcc + i);
            var cap = costFits * C(FeeTerms.Cost + i) + (1 - costFits) * Expr.Const(uint.MaxValue);
            var a = suf * old + (1 - suf) * cap;
            var b = suf * C(FeeTerms.Cost + i) + (1 - suf) * old;
            Expr borrowIn = i == 0 ? (1 - suf) * costFits : C(MarginBorrow + i - 1);
            Expr borrowOut = i == 3 ? 0 : C(MarginBorrow + i);
            list.Add(side * (C(Margin + i) + b + borrowIn - a - two32 * borrowOut));
        }
        for (var i = 0; i < 3; i++)
        {
            var d = C(MarginBorrow + i);
            list.Add(d * (d - 1));
            var t = C(TipsCarry + i);
            list.Add(t * (t - 1));
            var c = C(BalanceCarry + i);
            list.Add(c * (c - 1) * (c + 1));
        }
        // tips after = tips + applied * tip, no overflow past 128 bits (tips after is range-checked).
        for (var i = 0; i < 4; i++)
        {
            Expr carryIn = i == 0 ? 0 : C(TipsCarry + i - 1);
            Expr carryOut = i == 3 ? 0 : C(TipsCarry + i);
            list.Add(C(TipsAfter + i) + two32 * carryOut - C(Tips + i) - ap * C(FeeTerms.Tip + i) - carryIn);
        }
        // new balance + debit = old balance + credit, limb by limb; the new balance is range-checked.
        for (var i = 0; i < 4; i++)
        {
            var debit = side * ap * C(FeeTerms.Debit + i);
            var credit = (1 - side) * ((1 - isFee) * ap * C(Value + i) + isFee * C(Tips + i));
            Expr carryIn = i == 0 ? 0 : C(BalanceCarry + i - 1);
            Expr carryOut = i == 3 ? 0 : C(BalanceCarry + i);
            list.Add(C(NewAcc + i) + debit + two32 * carryOut - C(OldAcc + i) - credit - carryIn);
        }
        list.Add(C(NewAcc + 4) - C(OldAcc + 4) - side * ap);

        // ---- range checks
        list.AddRange(Range.Constraints());
        return [.. list];
    }
}
