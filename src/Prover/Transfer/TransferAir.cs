using Keel.Prover.Air;

namespace Keel.Prover.Transfer;

/// <summary>
/// The transfer AIR: applying a batch's transfers in order to the account tree with the public
/// pre-state root gives the public post-state root (docs/prover.md section 9, the rules of
/// <c>WitnessChecker</c>). Statement: <see cref="TransferStatement"/>.
///
/// Layout: one 16384-row region per transfer, then one for the fee recipient, padded to a power
/// of two with no-op regions. A region is two 8192-row account-update blocks in the shape of
/// <see cref="MerklePathAir.AccountUpdate"/> (leaf cycle, 160 levels, padding): the sender block
/// (old sender account to new, at the transfer's from address) and the receiver block (old
/// receiver account to credited, at the to address; for a skipped transfer a no-op re-opening of
/// the sender). Each block's old root is the previous block's new root (block-constant columns
/// carried over the boundary), the first is the pre-state root, and the fee region's new root is
/// the post-state root.
///
/// Per region the transfer's public terms sit in region-constant columns asserted at its first
/// row. The rules: eq (old nonce == tx nonce, proven by an inverse when not), suf (old balance
/// &gt;= cost, or cost - 1 - old balance &gt;= 0 when not, a 128-bit subtraction with range-checked
/// result), applied = feeCapOk * eq * suf; the sender's balance loses applied * debit and its nonce
/// gains applied; the receiver's balance gains applied * value (the fee region: the tips), all as
/// 32-bit limb arithmetic with carries and the new balance range-checked, so no balance under- or
/// overflows. Tips accumulate region by region (range-checked). Range checks decompose twelve
/// limbs per block into bits over the block's first 384 rows.
/// </summary>
public sealed class TransferAir : IAir
{
    public const string AirName = "transfer-batch-v1";

    /// <summary>
    /// Transfers per proof: 15 transfers and the fee region fill 16 regions = 2^18 rows x 135 columns,
    /// whose 8x extension takes about 2.3 GB (the CPU prover keeps it in memory). The AIR itself would
    /// allow 62 (one asserted row per region, the engine allows 64).
    /// </summary>
    public const int MaxTransfers = 15;

    public const int CycleRows = Poseidon2Gadget.CycleRows;
    public const int BlockCycles = 256;
    public const int BlockRows = BlockCycles * CycleRows;
    public const int RegionRows = 2 * BlockRows;
    public const int Depth = MerklePathAir.Depth;

    // ---- columns: the account-update part (as in MerklePathAir with two lanes and leaf hashing)
    internal const int B0 = 0;
    internal const int Bit = 4;
    internal const int Acc = 5;
    internal static int S0(int lane) => 6 + lane * 12;
    internal static int N0(int lane) => S0(lane) + 8;
    internal static int Q0(int lane) => 30 + lane * 17;
    internal static int A0(int lane) => Q0(lane) + 12;

    // ---- block-constant columns
    internal const int OldRoot = 64;
    internal const int NewRoot = 68;
    internal const int BalanceCarry = 72; // carries into limbs 1..3, in {-1, 0, 1}
    internal const int RangeBit = 75;
    internal const int RangeAcc = 76;

    // ---- region-constant public terms (asserted at the region's first row)
    internal const int From = 77;
    internal const int To = 82;
    internal const int Value = 87;
    internal const int TxNonce = 91;
    internal const int Cost = 92;
    internal const int CostMinus1 = 96;
    internal const int CostFits = 100;
    internal const int CostZero = 101;
    internal const int FeeCapOk = 102;
    internal const int Debit = 103;
    internal const int Tip = 107;
    internal const int IsFee = 111;
    internal const int FirstPublicColumn = From;
    internal const int PublicColumns = IsFee + 1 - From;

    // ---- region-constant private columns
    internal const int Eq = 112;
    internal const int Inv = 113;
    internal const int Suf = 114;
    internal const int Applied = 115;
    internal const int Tips = 116;
    internal const int TipsAfter = 120;
    internal const int TipsCarry = 124;
    internal const int Margin = 127;
    internal const int MarginBorrow = 131;

    /// <summary>1 in a region's sender block, 0 in its receiver block (alternates at every block end).</summary>
    internal const int Side = 134;
    public const int Width = 135;

    // ---- periodic columns
    private const int Gadget8Base = 0;
    private const int First = Poseidon2Gadget.SelectorColumns + 8;
    private const int Hold = First + 1;
    private const int LimbFirst = First + 2;
    private const int StepSelect = First + 3;
    private const int StepWeight = First + 4;
    private const int Gadget12Base = StepWeight + 1;
    private const int LeafEnd = Gadget12Base + Poseidon2Gadget.SelectorColumns + 12;
    private const int BlockEnd = LeafEnd + 1;
    private const int RootRow = BlockEnd + 1;
    private const int AddrSel = RootRow + 1;
    private const int RangeFirst = AddrSel + 5;
    private const int RangeStep = RangeFirst + 1;
    private const int RangeWeight = RangeFirst + 2;
    private const int RangeTarget = RangeFirst + 3;
    internal const int RangeLimbs = 12;

    /// <summary>Range checks repeat with this period (harmless: their targets are block-constant) to keep the periodic columns small.</summary>
    internal const int RangePeriod = 1024;

    /// <summary>Row (within a block) where both lanes hold the root: level 159's output.</summary>
    internal const int RootRowInBlock = CycleRows + (Depth - 1) * CycleRows + CycleRows - 2;

    private static readonly Poseidon2Gadget Gadget8 = new(Gadget8Base, copyAtRow31: false);
    private static readonly Poseidon2Gadget Gadget12 = new(Gadget12Base, copyAtRow31: false, width: 12);

    public TransferAir(IReadOnlyList<ulong> publicInputs)
    {
        Statement = new TransferStatement(publicInputs);
        Regions = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(Statement.Count + 1));
        PublicInputs = Statement.Elements;
        var assertions = new List<Assertion>();
        for (var i = 0; i < 4; i++)
        {
            assertions.Add(new Assertion(OldRoot + i, 0, Statement.PreRoot[i]));
            assertions.Add(new Assertion(Tips + i, 0, 0));
            if (i == 0)
            {
                assertions.Add(new Assertion(Side, 0, 1));
            }
            assertions.Add(new Assertion(NewRoot + i, (Statement.Count + 1) * RegionRows - 1, Statement.PostRoot[i]));
        }
        for (var t = 0; t <= Statement.Count; t++)
        {
            var values = RegionPublicValues(Statement, t);
            for (var i = 0; i < PublicColumns; i++)
            {
                assertions.Add(new Assertion(FirstPublicColumn + i, t * RegionRows, values[i]));
            }
        }
        Assertions = assertions;
        PeriodicColumns = BuildPeriodicColumns();
        TransitionConstraints = BuildConstraints();
    }

    public TransferStatement Statement { get; }

    /// <summary>Transfer regions, the fee region and no-op padding: a power of two.</summary>
    public int Regions { get; }

    public string Name => AirName;
    public int TraceWidth => Width;
    public int TraceLength => Regions * RegionRows;
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns { get; }

    /// <summary>
    /// The values of the public region columns (From..IsFee) for region <paramref name="t"/>:
    /// a transfer for t &lt; n, the fee-recipient credit for t == n, a no-op beyond.
    /// </summary>
    internal static ulong[] RegionPublicValues(TransferStatement s, int t)
    {
        var v = new ulong[PublicColumns];
        Span<ulong> span = v;
        if (t < s.Count)
        {
            var tx = s.Transfer(t);
            tx[..10].CopyTo(span[(From - From)..]);
            var terms = s.Terms(t);
            tx.Slice(10, 4).CopyTo(span[(Value - From)..]);
            v[TxNonce - From] = terms.Nonce;
            TransferStatement.WriteAmount(terms.Cost, span[(Cost - From)..]);
            TransferStatement.WriteAmount(!terms.CostFits ? UInt128.MaxValue : terms.Cost == 0 ? 0 : terms.Cost - 1, span[(CostMinus1 - From)..]);
            v[CostFits - From] = terms.CostFits ? 1UL : 0;
            v[CostZero - From] = terms.CostFits && terms.Cost == 0 ? 1UL : 0;
            v[FeeCapOk - From] = terms.FeeCapOk ? 1UL : 0;
            TransferStatement.WriteAmount(terms.Debit, span[(Debit - From)..]);
            TransferStatement.WriteAmount(terms.Tip, span[(Tip - From)..]);
            return v;
        }
        // The fee region (and padding): the fee recipient opened twice, nothing applied (cost 0, so
        // the balance comparison is trivially "sufficient"); the fee region credits the tips.
        s.FeeRecipient.CopyTo(span[(From - From)..]);
        s.FeeRecipient.CopyTo(span[(To - From)..]);
        v[CostFits - From] = 1;
        v[CostZero - From] = 1;
        v[IsFee - From] = t == s.Count ? 1UL : 0;
        return v;
    }

    private ulong[][] BuildPeriodicColumns()
    {
        var columns = new List<ulong[]>(Gadget8.PeriodicColumns());
        var first = new ulong[CycleRows];
        var hold = new ulong[CycleRows];
        first[0] = 1;
        for (var r = 0; r < CycleRows - 1; r++)
        {
            hold[r] = 1;
        }
        // Address-limb bookkeeping repeats every 32 levels; level h sits in cycle h + 1 of a block.
        const int limbRows = 32 * CycleRows;
        var limbFirst = new ulong[limbRows];
        var stepSelect = new ulong[limbRows];
        var stepWeight = new ulong[limbRows];
        limbFirst[CycleRows] = 1;
        for (var level = 0; level < 31; level++)
        {
            var row = ((level + 1) * CycleRows + CycleRows - 1) % limbRows;
            stepSelect[row] = 1;
            stepWeight[row] = 1UL << (level + 1);
        }
        columns.AddRange([first, hold, limbFirst, stepSelect, stepWeight]);
        columns.AddRange(Gadget12.PeriodicColumns());
        var leafEnd = new ulong[BlockRows];
        leafEnd[CycleRows - 1] = 1;
        var blockEnd = new ulong[BlockRows];
        blockEnd[BlockRows - 1] = 1;
        var rootRow = new ulong[BlockRows];
        rootRow[RootRowInBlock] = 1;
        columns.AddRange([leafEnd, blockEnd, rootRow]);
        for (var k = 0; k < 5; k++)
        {
            // Level 32k + 31 (cycle 32k + 32) holds the whole limb k in Acc.
            var sel = new ulong[BlockRows];
            sel[(32 * k + 32) * CycleRows] = 1;
            columns.Add(sel);
        }
        var rangeFirst = new ulong[RangePeriod];
        var rangeStep = new ulong[RangePeriod];
        var rangeWeight = new ulong[RangePeriod];
        var targets = new ulong[RangeLimbs][];
        for (var k = 0; k < RangeLimbs; k++)
        {
            rangeFirst[32 * k] = 1;
            for (var j = 0; j < 31; j++)
            {
                rangeStep[32 * k + j] = 1;
                rangeWeight[32 * k + j] = 1UL << (j + 1);
            }
            targets[k] = new ulong[RangePeriod];
            targets[k][32 * k + 31] = 1;
        }
        columns.AddRange([rangeFirst, rangeStep, rangeWeight]);
        columns.AddRange(targets);
        return [.. columns];
    }

    /// <summary>The column range-checked as limb k: new balance (0..3), margin (4..7), tips after (8..11).</summary>
    internal static int RangeTargetColumn(int k) => k < 4 ? A0(1) + k : k < 8 ? Margin + k - 4 : TipsAfter + k - 8;

    private static Expr[] BuildConstraints()
    {
        var list = new List<Expr>();
        Expr P(int k) => Expr.Periodic(k);
        Expr C(int c) => Expr.Cur(c);
        Expr N(int c) => Expr.Next(c);
        var two32 = Expr.Const(1UL << 32);
        var bit = C(Bit);

        // ---- the two account-update lanes (old, new), as MerklePathAir.AccountUpdate
        for (var lane = 0; lane < 2; lane++)
        {
            list.AddRange(Gadget8.Constraints([.. Enumerable.Range(S0(lane), 8)]));
            for (var i = 0; i < 4; i++)
            {
                var node = C(N0(lane) + i);
                var sibling = C(B0 + i);
                list.Add(P(First) * (C(S0(lane) + i) - node - bit * (sibling - node)));
                list.Add(P(First) * (C(S0(lane) + 4 + i) - sibling - bit * (node - sibling)));
                list.Add(P(Hold) * (N(N0(lane) + i) - node));
                list.Add((1 - P(Hold) - P(LeafEnd)) * (N(N0(lane) + i) - C(S0(lane) + i))
                    + P(LeafEnd) * (N(N0(lane) + i) - C(Q0(lane) + i)));
            }
            list.AddRange(Gadget12.Constraints([.. Enumerable.Range(Q0(lane), 12)]));
            var preimage = new Expr[12];
            preimage[0] = 1;
            for (var i = 0; i < 5; i++)
            {
                preimage[1 + i] = C(A0(lane) + i);
            }
            preimage[6] = 0;
            preimage[7] = 0;
            preimage[8] = 6;
            preimage[9] = 0;
            preimage[10] = 0;
            preimage[11] = 0;
            for (var i = 0; i < 12; i++)
            {
                list.Add(P(First) * (C(Q0(lane) + i) - preimage[i]));
            }
            for (var i = 0; i < 5; i++)
            {
                list.Add((1 - P(BlockEnd)) * (N(A0(lane) + i) - C(A0(lane) + i)));
            }
            // Level 159's output is the lane's root.
            for (var i = 0; i < 4; i++)
            {
                list.Add(P(RootRow) * (C(S0(lane) + i) - C((lane == 0 ? OldRoot : NewRoot) + i)));
            }
        }
        for (var j = B0; j <= Acc; j++)
        {
            list.Add(P(Hold) * (N(j) - C(j)));
        }
        list.Add(bit * (bit - 1));
        list.Add(P(LimbFirst) * (C(Acc) - bit));
        list.Add(P(StepSelect) * (N(Acc) - C(Acc) - P(StepWeight) * N(Bit)));

        // ---- the block's address: from (sender block), to (receiver block of an applied transfer), else from again
        var isSender = C(Side);
        var regionEnd = P(BlockEnd) * (1 - isSender);
        var ap = C(Applied);
        Expr addressCheck = 0;
        for (var k = 0; k < 5; k++)
        {
            var receiverAddress = ap * C(To + k) + (1 - ap) * C(From + k);
            addressCheck = addressCheck + P(AddrSel + k) * (C(Acc) - isSender * C(From + k) - (1 - isSender) * receiverAddress);
        }
        list.Add(addressCheck);

        // ---- roots carried from block to block
        for (var c = OldRoot; c < RangeBit; c++)
        {
            list.Add((1 - P(BlockEnd)) * (N(c) - C(c)));
        }
        for (var i = 0; i < 4; i++)
        {
            list.Add(P(BlockEnd) * (N(OldRoot + i) - C(NewRoot + i)));
        }

        // ---- region-constant columns, tips carried from region to region
        list.Add((1 - P(BlockEnd)) * (N(Side) - isSender));
        list.Add(P(BlockEnd) * (N(Side) + isSender - 1));
        for (var c = From; c < Side; c++)
        {
            list.Add((1 - regionEnd) * (N(c) - C(c)));
        }
        for (var i = 0; i < 4; i++)
        {
            list.Add(regionEnd * (N(Tips + i) - C(TipsAfter + i)));
        }

        // ---- the rules (sender block reads the sender's old account)
        var oldNonce = C(A0(0) + 4);
        var eq = C(Eq);
        var suf = C(Suf);
        list.Add(eq * (eq - 1));
        list.Add(isSender * eq * (oldNonce - C(TxNonce)));
        list.Add(isSender * (1 - eq) * ((oldNonce - C(TxNonce)) * C(Inv) - 1));
        list.Add(suf * (suf - 1));
        list.Add(suf * (1 - C(CostFits)));
        list.Add((1 - suf) * C(CostZero));
        list.Add(ap - C(FeeCapOk) * eq * suf);
        // suf: margin = old - cost; else margin = (cost - 1) - old; a 128-bit subtraction, borrows in {0, 1}, margin range-checked.
        for (var i = 0; i < 4; i++)
        {
            var old = C(A0(0) + i);
            var a = suf * old + (1 - suf) * C(CostMinus1 + i);
            var b = suf * C(Cost + i) + (1 - suf) * old;
            Expr borrowIn = i == 0 ? 0 : C(MarginBorrow + i - 1);
            Expr borrowOut = i == 3 ? 0 : C(MarginBorrow + i);
            list.Add(isSender * (C(Margin + i) + b + borrowIn - a - two32 * borrowOut));
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
        // tips after = tips + applied * tip, no overflow past 128 bits.
        for (var i = 0; i < 4; i++)
        {
            Expr carryIn = i == 0 ? 0 : C(TipsCarry + i - 1);
            Expr carryOut = i == 3 ? 0 : C(TipsCarry + i);
            list.Add(C(TipsAfter + i) + two32 * carryOut - C(Tips + i) - ap * C(Tip + i) - carryIn);
        }
        // new balance + debit = old balance + credit, limb by limb; the new balance is range-checked.
        for (var i = 0; i < 4; i++)
        {
            var debit = isSender * ap * C(Debit + i);
            var credit = (1 - isSender) * ((1 - C(IsFee)) * ap * C(Value + i) + C(IsFee) * C(Tips + i));
            Expr carryIn = i == 0 ? 0 : C(BalanceCarry + i - 1);
            Expr carryOut = i == 3 ? 0 : C(BalanceCarry + i);
            list.Add(C(A0(1) + i) + debit + two32 * carryOut - C(A0(0) + i) - credit - carryIn);
        }
        list.Add(C(A0(1) + 4) - C(A0(0) + 4) - isSender * ap);

        // ---- range checks: twelve 32-bit limbs per block, one bit per row
        var rb = C(RangeBit);
        list.Add(rb * (rb - 1));
        list.Add(P(RangeFirst) * (C(RangeAcc) - rb));
        list.Add(P(RangeStep) * (N(RangeAcc) - C(RangeAcc) - P(RangeWeight) * N(RangeBit)));
        Expr rangeCheck = 0;
        for (var k = 0; k < RangeLimbs; k++)
        {
            rangeCheck = rangeCheck + P(RangeTarget + k) * (C(RangeAcc) - C(RangeTargetColumn(k)));
        }
        list.Add(rangeCheck);
        return [.. list];
    }
}
