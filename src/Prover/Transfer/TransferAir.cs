using Keel.Prover.Air;

namespace Keel.Prover.Transfer;

/// <summary>
/// The transfer AIR, version 2: applying a batch's transfers in order to the account tree with the
/// public pre-state root gives the public post-state root, and the transfers are exactly those of
/// the public batch commitment (docs/prover.md section 9; the rules of <c>WitnessChecker</c>).
/// Statement: <see cref="TransferStatement"/> (header only: the transfers are private columns).
///
/// Layout: one 88-row region per transfer, then one for the fee recipient, then no-op regions;
/// eleven regions per 1024-row period (the eleventh takes the period's 56 idle rows), a power of two
/// of periods. A region is two 44-row blocks, the sender block (the transfer's from) and the
/// receiver block (to; for a skipped transfer a no-op re-opening of from; in the fee region both
/// are the fee recipient). One row computes whole Poseidon2 permutations
/// (<see cref="Poseidon2RowGadget"/>) in two lanes of four width-8 slots each (lane L at columns
/// 0, 94, 188, 282; lane R at 376 + 94s); a width-12 permutation runs at a lane's first column:
/// <code>
/// block row 0          lane L: width 12, the old account's leaf; lane R: width 12, the new account's leaf
/// block rows 1..40     slot s of row r is level h = 4(r - 1) + s: lane L compresses the old path, lane R
///                      the new one, same sibling and bit; slot 0 takes the previous row's leaf or slot 3
/// block row 40         slot 3's outputs are the old and new roots
/// sender rows 41..43   lane L: width 12, the batch-commitment sponge absorbs the transfer (3 blocks of 8)
/// </code>
/// A lane's width-12 columns overlap its slot 1's first 36, which no permutation uses on those rows.
/// Range-check bits run down their own 18 lanes inside each region. The sponge state is carried
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
    /// Transfers per proof: 511 transfers and the fee region need 2^16 rows (64 periods
    /// hold 704 regions); the CPU prover holds the 8x extension of every column in memory.
    /// </summary>
    public const int MaxTransfers = 511;

    public const int Depth = MerklePathAir.Depth;

    /// <summary>Tree levels per level row: one width-8 permutation per level in each of four slots per lane.</summary>
    public const int LevelsPerRow = 4;

    /// <summary>Level rows of a block: 160 levels, four per row.</summary>
    public const int LevelRows = Depth / LevelsPerRow;

    /// <summary>Rows of one account-update block: the leaf row, 40 level rows, three sponge rows (sender blocks).</summary>
    public const int BlockRows = 1 + LevelRows + SpongeRows;

    /// <summary>A region (one transfer) is a sender and a receiver block.</summary>
    public const int RegionRows = 2 * BlockRows;

    /// <summary>
    /// Periodic columns repeat every 1024 rows, which hold eleven regions (968 rows) and 56 idle
    /// rows appended to the eleventh region's receiver block. A power-of-two region size (128)
    /// would waste a third of the rows.
    /// </summary>
    public const int PeriodRows = 1024;

    public const int RegionsPerPeriod = PeriodRows / RegionRows;

    internal const int LeafRow = 0;
    internal const int FirstLevelRow = 1;
    internal const int RootRowInBlock = FirstLevelRow + LevelRows - 1;
    internal const int SpongeRow = RootRowInBlock + 1;
    internal const int SpongeRows = 3;

    internal static readonly Poseidon2RowGadget Wide = new(12);
    internal static readonly Poseidon2RowGadget Narrow = new(8);

    // ---- columns
    // Lane L: four width-8 slots side by side; its width-12 rows (leaf, sponge) run at column 0 over
    // slot 0 and the first 36 columns of slot 1, which no level-row permutation uses on those rows.
    // Lane R likewise from column LaneR (its width-12 row is the new leaf).
    internal const int LaneL = 0;
    internal static readonly int LaneR = LevelsPerRow * Narrow.Columns;

    /// <summary>First column of slot <paramref name="slot"/> (level 4(row - 1) + slot) of lane <paramref name="lane"/>.</summary>
    internal static int Slot(int lane, int slot) => lane + slot * Narrow.Columns;

    internal static readonly int Sib = LaneR + LevelsPerRow * Narrow.Columns; // four per slot
    internal static readonly int Bit = Sib + 4 * LevelsPerRow; // one per slot
    internal static readonly int Acc = Bit + LevelsPerRow;

    // block-constant
    internal static readonly int OldAcc = Acc + 1;
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

    // ---- periodic columns (period: PeriodRows)
    private const int PW12 = 0; // lane L width 12: leaf and sponge rows
    private const int PW8 = 1; // every slot width 8: level rows
    private const int PLeaf = 2; // leaf rows: lane R width 12, the leaf preimages
    private const int PLevelT = 3; // level rows but the root row: slot 3 feeds the next row's slot 0
    private const int PRoot = 4;
    private const int PSpA = 5;
    private const int PSpB = 6;
    private const int PSpEnd = 7;
    private const int PBlockEnd = 8;
    private const int PRegionEnd = 9;
    private const int PSide = 10;
    private const int PLimbFirst = 11;
    private const int PStep = 12;
    private const int PWeight = 13;
    private const int PAddrSel = 14; // five
    private const int PRange = PAddrSel + 5;

    /// <summary>
    /// Range-check lanes: a region's 36 32-bit and 8 16-bit checks (1280 bits) in its 88 rows. A
    /// 32-bit check must lie inside the region (the new balance inside its 44-row block), so a lane
    /// holds at most two of them per region: 18 lanes.
    /// </summary>
    internal const int RangeLanes = 18;

    public TransferAir(IReadOnlyList<ulong> publicInputs)
    {
        Statement = new TransferStatement(publicInputs);
        Periods = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)((Statement.Count + RegionsPerPeriod) / RegionsPerPeriod));
        Regions = Periods * RegionsPerPeriod;
        PublicInputs = Statement.Values;
        var baseFee = Enumerable.Range(0, 4).Select(i => Expr.PublicInput(TransferStatement.BaseFeeIndex + i)).ToArray();
        var burn = FeeTermsGadget.BurnLimbs(Statement.BaseFee).Select(Expr.Const).ToArray();
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

    /// <summary>Transfer regions, the fee region and no-op padding: <see cref="RegionsPerPeriod"/> per period.</summary>
    public int Regions { get; }

    /// <summary>Periods of <see cref="PeriodRows"/> rows: a power of two.</summary>
    public int Periods { get; }

    public int Width { get; }

    public string Name => AirName;
    public int TraceWidth => Width;
    public int TraceLength => Periods * PeriodRows;

    /// <summary>First row of region <paramref name="region"/>.</summary>
    public static int RegionStart(int region) => region / RegionsPerPeriod * PeriodRows + region % RegionsPerPeriod * RegionRows;

    /// <summary>Rows of region <paramref name="region"/> (the last of a period also has the period's idle rows).</summary>
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
            var levelRow = b >= FirstLevelRow && b <= RootRowInBlock;
            p[PW12][r] = b == LeafRow || spongeRow ? 1UL : 0;
            p[PW8][r] = levelRow ? 1UL : 0;
            p[PLeaf][r] = b == LeafRow ? 1UL : 0;
            p[PLevelT][r] = b >= FirstLevelRow && b < RootRowInBlock ? 1UL : 0;
            p[PRoot][r] = b == RootRowInBlock ? 1UL : 0;
            p[PSpA][r] = sender && b == SpongeRow ? 1UL : 0;
            p[PSpB][r] = sender && b == SpongeRow + 1 ? 1UL : 0;
            p[PSpEnd][r] = sender && b == SpongeRow + 2 ? 1UL : 0;
            p[PBlockEnd][r] = blockEnd ? 1UL : 0;
            p[PRegionEnd][r] = !sender && blockEnd ? 1UL : 0;
            p[PSide][r] = sender ? 1UL : 0;
            if (levelRow)
            {
                // Row b holds levels 4(b - 1) .. 4(b - 1) + 3: bits 4i .. 4i + 3 of address limb
                // (b - 1) / 8 (limb 0 least significant), i = (b - 1) % 8.
                var i = (b - FirstLevelRow) % 8;
                p[PLimbFirst][r] = i == 0 ? 1UL : 0;
                if (i < 7)
                {
                    p[PStep][r] = 1;
                    p[PWeight][r] = 1UL << (LevelsPerRow * (i + 1));
                }
                else
                {
                    p[PAddrSel + (b - FirstLevelRow) / 8][r] = 1;
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
        Expr[] Out12(int lane) => [.. Enumerable.Range(0, 4).Select(i => Wide.Output(lane, i))];
        Expr[] Out8(int lane, int slot) => [.. Enumerable.Range(0, 4).Select(i => Narrow.Output(Slot(lane, slot), i))];
        var two32 = Expr.Const(1UL << 32);
        int[] lanes = [LaneL, LaneR];

        // ---- permutations: lane L width 12 on leaf and sponge rows, lane R width 12 on leaf rows,
        // every slot of both lanes width 8 on level rows
        list.AddRange(Wide.Constraints(LaneL, P(PW12)));
        list.AddRange(Wide.Constraints(LaneR, P(PLeaf)));
        foreach (var lane in lanes)
        {
            for (var s = 0; s < LevelsPerRow; s++)
            {
                list.AddRange(Narrow.Constraints(Slot(lane, s), P(PW8)));
            }
        }

        // ---- leaves: H([1, bal 0..3, nonce]) as one width-12 permutation (LeafPreimage);
        // lane L hashes the old account, lane R the new one
        foreach (var lane in lanes)
        {
            var account = lane == LaneL ? OldAcc : NewAcc;
            var pre = LeafPreimage.Of(Cs(account, LeafPreimage.AccountElements), Expr.Const);
            for (var i = 0; i < 12; i++)
            {
                list.Add(P(PLeaf) * (C(Poseidon2RowGadget.InputColumn(lane, i)) - pre[i]));
            }
        }

        // ---- paths: slot 0 of the first level row takes the leaf; slot 0 of a later level row takes
        // the previous row's slot 3; slot s > 0 takes slot s - 1 of its own row; inputs ordered by the slot's bit
        foreach (var lane in lanes)
        {
            var fromLeaf = Select(N(Bit), Out12(lane), Ns(Sib, 4));
            var fromRow = Select(N(Bit), Out8(lane, LevelsPerRow - 1), Ns(Sib, 4));
            for (var i = 0; i < 8; i++)
            {
                var next = N(Poseidon2RowGadget.InputColumn(Slot(lane, 0), i));
                list.Add(P(PLeaf) * (next - fromLeaf[i]));
                list.Add(P(PLevelT) * (next - fromRow[i]));
            }
            for (var s = 1; s < LevelsPerRow; s++)
            {
                var input = Select(C(Bit + s), Out8(lane, s - 1), Cs(Sib + 4 * s, 4));
                for (var i = 0; i < 8; i++)
                {
                    list.Add(P(PW8) * (C(Poseidon2RowGadget.InputColumn(Slot(lane, s), i)) - input[i]));
                }
            }
        }
        // Level 159's outputs (slot 3 of the last level row) are the roots.
        var rootL = Out8(LaneL, LevelsPerRow - 1);
        var rootR = Out8(LaneR, LevelsPerRow - 1);
        for (var i = 0; i < 4; i++)
        {
            list.Add(P(PRoot) * (rootL[i] - C(OldRoot + i)));
            list.Add(P(PRoot) * (rootR[i] - C(NewRoot + i)));
        }

        // ---- address bits: boolean, accumulated four per row (32 levels, eight rows) into the limb the block opens
        Expr Nibble(Func<int, Expr> column)
        {
            Expr sum = column(Bit);
            for (var s = 1; s < LevelsPerRow; s++)
            {
                sum = sum + Expr.Const(1UL << s) * column(Bit + s);
            }
            return sum;
        }
        for (var s = 0; s < LevelsPerRow; s++)
        {
            var bit = C(Bit + s);
            list.Add(bit * (bit - 1));
        }
        list.Add(P(PLimbFirst) * (C(Acc) - Nibble(C)));
        list.Add(P(PStep) * (N(Acc) - C(Acc) - P(PWeight) * Nibble(N)));
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
        Expr[] outL12 = [.. Enumerable.Range(0, 12).Select(i => Wide.Output(LaneL, i))];
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
