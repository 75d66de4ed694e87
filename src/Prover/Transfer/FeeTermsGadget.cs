using Keel.Core.Field;
using Keel.Prover.Air;

namespace Keel.Prover.Transfer;

/// <summary>
/// Constraints that derive a transfer's fee terms (the values of <see cref="TransferStatement.Terms"/>)
/// from private 32-bit limb columns, for an AIR in which the transfers are witnesses rather than
/// public inputs. Inputs: value, maxFee, maxPriorityFee (4 limb columns each, owned by the caller,
/// each limb &lt; 2^32 because the caller binds them to the batch commitment) and the public base
/// fee and burn = 21000 baseFee as limb expressions.
///
/// Outputs, with price = min(maxFee, baseFee + priorityFee) (the sum saturating at 2^128 - 1):
/// <list type="bullet">
/// <item>FeeCapOk = [maxFee &gt;= baseFee];</item>
/// <item>Cost = value + 21000 maxFee mod 2^128, CostFits = [value + 21000 maxFee &lt; 2^128];</item>
/// <item>Debit = value + 21000 price and Tip = 21000 (price - baseFee), both exact whenever
/// FeeCapOk and CostFits (the only case in which a transfer can apply); otherwise determined but
/// meaningless.</item>
/// </list>
///
/// Construction: d1 = FeeCapOk ? maxFee - baseFee : baseFee - 1 - maxFee as a limb subtraction
/// whose final borrow is 0, so d1 &gt;= 0 proves the chosen side; then q = min(d1, priorityFee) the
/// same way (P = [d1 &lt;= priorityFee], d2 = P ? prio - d1 : d1 - 1 - prio), so that with FeeCapOk
/// price = baseFee + q (if baseFee + prio overflows, prio &gt; d1 and q = d1 gives price = maxFee).
/// Tip = 21000 q, Debit = value + burn + Tip, Cost = value + 21000 maxFee, each a limb sum with
/// carries. Every output is unique given the constraints and <see cref="RangeChecks"/>: the
/// embedding AIR MUST range-check those columns, or the limb equations alias modulo p.
///
/// All constraints read the current row only and have degree at most 3. Values are meant to be
/// constant over the rows where the embedding AIR applies the constraints.
/// </summary>
public sealed class FeeTermsGadget
{
    public const int AmountLimbs = 4;
    public const int BurnLimbCount = 5;
    public const ulong IntrinsicGas = TransferStatement.IntrinsicGas;

    private const ulong LimbMask = uint.MaxValue;
    private const ulong Radix = 1UL << 32;
    private const int LimbBits = 32;
    private const int CarryBits = 16;

    // Column offsets from FirstColumn.
    private const int FeeCapOkOffset = 0;
    private const int D1Offset = 1;
    private const int D1BorrowOffset = 5;
    private const int PrioCoversOffset = 8;
    private const int D2Offset = 9;
    private const int D2BorrowOffset = 13;
    private const int TipOffset = 16;
    private const int TipCarryOffset = 20;
    private const int DebitOffset = 24;
    private const int DebitCarryOffset = 28;
    private const int CostOffset = 32;
    private const int CostCarryOffset = 36;
    private const int CostFitsOffset = 40;
    private const int OverflowInverseOffset = 41;
    private const int ColumnCount = 42;

    private readonly int _value;
    private readonly int _maxFee;
    private readonly int _priorityFee;
    private readonly Expr[] _baseFee;
    private readonly Expr[] _burn;

    /// <param name="firstColumn">First of the gadget's own <see cref="Columns"/> columns.</param>
    /// <param name="valueColumn">First of value's 4 limb columns (least significant first).</param>
    /// <param name="maxFeeColumn">First of maxFeePerGas's 4 limb columns.</param>
    /// <param name="priorityFeeColumn">First of maxPriorityFeePerGas's 4 limb columns.</param>
    /// <param name="baseFee">The base fee's 4 limbs (public: the embedding AIR's public inputs or constants).</param>
    /// <param name="burn">The 5 limbs of 21000 baseFee (<see cref="BurnLimbs"/>), public like the base fee.</param>
    public FeeTermsGadget(int firstColumn, int valueColumn, int maxFeeColumn, int priorityFeeColumn, Expr[] baseFee, Expr[] burn)
    {
        ArgumentNullException.ThrowIfNull(baseFee);
        ArgumentNullException.ThrowIfNull(burn);
        if (baseFee.Length != AmountLimbs || burn.Length != BurnLimbCount)
        {
            throw new AirDefinitionException($"the fee-terms gadget takes {AmountLimbs} base-fee and {BurnLimbCount} burn limbs, not {baseFee.Length} and {burn.Length}");
        }
        if (baseFee.Concat(burn).Any(e => e is null || HasColumn(e)))
        {
            throw new AirDefinitionException("base fee and burn must be public expressions (constants or public inputs), not trace columns");
        }
        foreach (var (name, column) in new[] { ("first", firstColumn), ("value", valueColumn), ("maxFee", maxFeeColumn), ("priorityFee", priorityFeeColumn) })
        {
            if (column < 0)
            {
                throw new AirDefinitionException($"fee-terms gadget: {name} column {column} is negative");
            }
            if (name != "first" && column + AmountLimbs > firstColumn && column < firstColumn + ColumnCount)
            {
                throw new AirDefinitionException($"fee-terms gadget: {name} limbs at {column} overlap the gadget's columns {firstColumn}..{firstColumn + ColumnCount - 1}");
            }
        }
        FirstColumn = firstColumn;
        _value = valueColumn;
        _maxFee = maxFeeColumn;
        _priorityFee = priorityFeeColumn;
        _baseFee = [.. baseFee];
        _burn = [.. burn];
        var checks = new List<(int, int)>();
        foreach (var first in new[] { D1, D2, Tip, Debit, Cost })
        {
            for (var i = 0; i < AmountLimbs; i++)
            {
                checks.Add((first + i, LimbBits));
            }
        }
        for (var i = 0; i < AmountLimbs; i++)
        {
            checks.Add((TipCarry + i, CarryBits));
        }
        for (var i = 0; i < AmountLimbs; i++)
        {
            checks.Add((CostCarry + i, CarryBits));
        }
        RangeChecks = checks;
    }

    public int FirstColumn { get; }

    /// <summary>Columns the gadget owns, from <see cref="FirstColumn"/>.</summary>
    public int Columns => ColumnCount;

    /// <summary>1 iff maxFee &gt;= baseFee.</summary>
    public int FeeCapOk => FirstColumn + FeeCapOkOffset;

    /// <summary>First of 4 limbs: value + 21000 maxFee mod 2^128.</summary>
    public int Cost => FirstColumn + CostOffset;

    /// <summary>1 iff value + 21000 maxFee &lt; 2^128.</summary>
    public int CostFits => FirstColumn + CostFitsOffset;

    /// <summary>First of 4 limbs: value + 21000 price (exact when FeeCapOk and CostFits).</summary>
    public int Debit => FirstColumn + DebitOffset;

    /// <summary>First of 4 limbs: 21000 (price - baseFee) (exact when FeeCapOk and CostFits).</summary>
    public int Tip => FirstColumn + TipOffset;

    // Intermediate columns (exposed to the tests, which play a cheating prover on them).
    internal int D1 => FirstColumn + D1Offset;
    internal int D1Borrow => FirstColumn + D1BorrowOffset;
    internal int PrioCovers => FirstColumn + PrioCoversOffset;
    internal int D2 => FirstColumn + D2Offset;
    internal int D2Borrow => FirstColumn + D2BorrowOffset;
    internal int TipCarry => FirstColumn + TipCarryOffset;
    internal int DebitCarry => FirstColumn + DebitCarryOffset;
    internal int CostCarry => FirstColumn + CostCarryOffset;
    internal int OverflowInverse => FirstColumn + OverflowInverseOffset;

    /// <summary>
    /// Columns the embedding AIR must range-check to [0, 2^Bits): 20 limbs of 32 bits (d1, d2, tip,
    /// debit, cost) and 8 carries of 16 bits (tip and cost carries). Without these the limb
    /// equations have field aliases.
    /// </summary>
    public IReadOnlyList<(int Column, int Bits)> RangeChecks { get; }

    /// <summary>
    /// The gadget's constraints, row-local. Soundness notes use the range checks: a, b limbs &lt; 2^32,
    /// booleans in {0, 1}, 16-bit carries &lt; 2^16; each limb equation then holds over the integers
    /// (both sides far below p ≈ 2^64), so the limbs weighted by 2^(32 i) telescope into the
    /// 128-bit statement named per block. 34 constraints of degree at most 2, except the debit carries' cubics (degree 3).
    /// </summary>
    public IReadOnlyList<Expr> Constraints()
    {
        var c = new List<Expr>();
        Expr Col(int column) => Expr.Cur(column);
        Expr radix = Expr.Const(Radix);
        Expr gas = Expr.Const(IntrinsicGas);
        Expr Boolean(Expr x) => x * (x - 1);

        // FeeCapOk (F): d1 = F ? maxFee - baseFee : baseFee - 1 - maxFee, limb i:
        //   (2F - 1)(m_i - b_i) - [i = 0](1 - F) - borrow_{i-1} + 2^32 borrow_i - d1_i = 0, borrow_{-1} = borrow_3 = 0.
        // Bound: the first terms lie in [-2^32 - 1, 2^33), d1_i in [0, 2^32): |lhs| < 2^34, no wrap.
        // Telescoped: d1 = (2F - 1)(maxFee - baseFee) - (1 - F) with 0 <= d1 < 2^128, so F = 1 forces
        // maxFee >= baseFee and F = 0 forces maxFee <= baseFee - 1: F is [maxFee >= baseFee].
        var f = Col(FeeCapOk);
        c.Add(Boolean(f));
        AddSignedSubtraction(c, f, i => Col(_maxFee + i), i => _baseFee[i], D1, D1Borrow);

        // P = [d1 <= prio] by d2 = P ? prio - d1 : d1 - 1 - prio, the same shape (d1 limbs range-checked).
        var p = Col(PrioCovers);
        c.Add(Boolean(p));
        AddSignedSubtraction(c, p, i => Col(_priorityFee + i), i => Col(D1 + i), D2, D2Borrow);

        // Tip = 21000 q, q = min(d1, prio) limb-wise P d1_i + (1 - P) prio_i (< 2^32 since P is boolean):
        //   21000 q_i + t_{i-1} - tip_i - 2^32 t_i = 0, t_{-1} = 0, t_3 free (the part above 2^128).
        // Bound: 21000 q_i + t_{i-1} < 2^47 and tip_i + 2^32 t_i < 2^49: no wrap. With tip limbs and
        // carries range-checked, tip = 21000 q mod 2^128, t_3 = floor(21000 q / 2^128) (< 2^15).
        // When FeeCapOk: price = baseFee + q (if baseFee + prio >= 2^128 then prio > d1, q = d1, price
        // = maxFee), so Tip = 21000 (price - baseFee), exact when 21000 maxFee < 2^128 (CostFits).
        for (var i = 0; i < AmountLimbs; i++)
        {
            var q = p * Col(D1 + i) + (1 - p) * Col(_priorityFee + i);
            var carryIn = i == 0 ? Expr.Const(0) : Col(TipCarry + i - 1);
            c.Add(gas * q + carryIn - Col(Tip + i) - radix * Col(TipCarry + i));
        }

        // Debit = value + burn + tip = value + 21000 (baseFee + q) = value + 21000 price:
        //   v_i + burn_i + tip_i + e_{i-1} - debit_i - 2^32 e_i = 0, e_i in {0, 1, 2} (a cubic), e_3 free.
        // Bound: the sum is < 3 * 2^32 and debit_i + 2^32 e_i < 3 * 2^32: no wrap. So debit = value +
        // burn_lo + tip mod 2^128 (burn limb 4 is not used: it is 0 whenever 21000 baseFee <= 21000
        // maxFee < 2^128, that is whenever the transfer can apply, and then the sum itself is < 2^128).
        for (var i = 0; i < AmountLimbs; i++)
        {
            var carryIn = i == 0 ? Expr.Const(0) : Col(DebitCarry + i - 1);
            var e = Col(DebitCarry + i);
            c.Add(Col(_value + i) + _burn[i] + Col(Tip + i) + carryIn - Col(Debit + i) - radix * e);
            c.Add(e * (e - 1) * (e - 2));
        }

        // Cost = value + 21000 maxFee:  v_i + 21000 m_i + k_{i-1} - cost_i - 2^32 k_i = 0, k_{-1} = 0.
        // Bound: the sum is < 21001 * 2^32 < 2^47 and cost_i + 2^32 k_i < 2^49: no wrap; honest
        // carries are <= 21000 < 2^16. So cost = (value + 21000 maxFee) mod 2^128 and k_3 is the
        // integer overflow (< 2^16 by its range check, hence nonzero as a field element iff nonzero).
        for (var i = 0; i < AmountLimbs; i++)
        {
            var carryIn = i == 0 ? Expr.Const(0) : Col(CostCarry + i - 1);
            c.Add(Col(_value + i) + gas * Col(_maxFee + i) + carryIn - Col(Cost + i) - radix * Col(CostCarry + i));
        }

        // CostFits = [k_3 = 0]: k_3 w = 1 - CostFits and CostFits k_3 = 0. If k_3 = 0 the first gives
        // CostFits = 1; otherwise the second gives CostFits = 0 (and w = 1 / k_3 satisfies the first).
        var k3 = Col(CostCarry + AmountLimbs - 1);
        var fits = Col(CostFits);
        c.Add(k3 * Col(OverflowInverse) - (1 - fits));
        c.Add(fits * k3);
        return c;
    }

    /// <summary>
    /// d = S ? x - y : y - 1 - x, limb by limb with boolean borrows and no final borrow:
    ///   (2S - 1)(x_i - y_i) - [i = 0](1 - S) - borrow_{i-1} + 2^32 borrow_i - d_i = 0.
    /// Bound (x_i, y_i, d_i &lt; 2^32, borrows boolean): every term is below 2^33 in magnitude, the
    /// sum below 2^35, so the equation holds over the integers.
    /// </summary>
    private static void AddSignedSubtraction(List<Expr> c, Expr s, Func<int, Expr> x, Func<int, Expr> y, int d, int borrow)
    {
        Expr radix = Expr.Const(Radix);
        for (var i = 0; i < AmountLimbs; i++)
        {
            var lhs = (2 * s - 1) * (x(i) - y(i));
            if (i == 0)
            {
                lhs -= 1 - s;
            }
            else
            {
                lhs -= Expr.Cur(borrow + i - 1);
            }
            if (i < AmountLimbs - 1)
            {
                lhs += radix * Expr.Cur(borrow + i);
            }
            c.Add(lhs - Expr.Cur(d + i));
        }
        for (var i = 0; i < AmountLimbs - 1; i++)
        {
            var b = Expr.Cur(borrow + i);
            c.Add(b * (b - 1));
        }
    }

    private static bool HasColumn(Expr e) => e switch
    {
        ColumnExpr => true,
        BinaryExpr b => HasColumn(b.Left) || HasColumn(b.Right),
        _ => false,
    };

    /// <summary>The 5 limbs (least significant first, each &lt; 2^32) of 21000 baseFee, which is below 2^143.</summary>
    public static ulong[] BurnLimbs(UInt128 baseFee)
    {
        var limbs = new ulong[BurnLimbCount];
        ulong carry = 0;
        for (var i = 0; i < AmountLimbs; i++)
        {
            // < 21000 * 2^32 + 2^15: fits a ulong.
            var sum = IntrinsicGas * Limb(baseFee, i) + carry;
            limbs[i] = sum & LimbMask;
            carry = sum >> 32;
        }
        limbs[AmountLimbs] = carry;
        return limbs;
    }

    /// <summary>Writes the gadget's columns at <paramref name="row"/> (the caller copies them to the other rows it needs).</summary>
    public void Fill(ulong[][] trace, int row, UInt128 value, UInt128 maxFee, UInt128 priorityFee, UInt128 baseFee) =>
        Fill(trace, row, value, maxFee, priorityFee, baseFee, null, null, null);

    /// <summary>
    /// Tests only: <see cref="Fill(ulong[][], int, UInt128, UInt128, UInt128, UInt128)"/> with a lie
    /// about FeeCapOk, P or CostFits, every dependent column computed as the honest procedure would
    /// for that lie (the subtractions wrap modulo 2^128 and drop their final borrow).
    /// </summary>
    internal void Fill(ulong[][] trace, int row, UInt128 value, UInt128 maxFee, UInt128 priorityFee, UInt128 baseFee,
        bool? feeCapOkLie, bool? prioCoversLie, bool? costFitsLie)
    {
        ArgumentNullException.ThrowIfNull(trace);
        if (trace.Length < FirstColumn + ColumnCount)
        {
            throw new ArgumentException($"the trace has {trace.Length} columns; the gadget needs {FirstColumn + ColumnCount}", nameof(trace));
        }
        for (var col = FirstColumn; col < FirstColumn + ColumnCount; col++)
        {
            if (trace[col] is null || row < 0 || row >= trace[col].Length)
            {
                throw new ArgumentOutOfRangeException(nameof(row), $"row {row} is outside column {col}");
            }
        }
        void Set(int column, ulong v) => trace[column][row] = v;

        var feeCapOk = feeCapOkLie ?? (maxFee >= baseFee);
        Set(FeeCapOk, feeCapOk ? 1UL : 0);
        var d1 = SignedSubtraction(trace, row, feeCapOk, maxFee, baseFee, D1, D1Borrow);
        var covers = prioCoversLie ?? (d1 <= priorityFee);
        Set(PrioCovers, covers ? 1UL : 0);
        SignedSubtraction(trace, row, covers, priorityFee, d1, D2, D2Borrow);
        var q = covers ? d1 : priorityFee;

        var tip = new ulong[AmountLimbs];
        ulong carry = 0;
        for (var i = 0; i < AmountLimbs; i++)
        {
            var sum = IntrinsicGas * Limb(q, i) + carry;
            tip[i] = sum & LimbMask;
            carry = sum >> 32;
            Set(Tip + i, tip[i]);
            Set(TipCarry + i, carry);
        }

        var burn = BurnLimbs(baseFee);
        carry = 0;
        for (var i = 0; i < AmountLimbs; i++)
        {
            var sum = Limb(value, i) + burn[i] + tip[i] + carry;
            carry = sum >> 32;
            Set(Debit + i, sum & LimbMask);
            Set(DebitCarry + i, carry);
        }

        carry = 0;
        for (var i = 0; i < AmountLimbs; i++)
        {
            var sum = Limb(value, i) + IntrinsicGas * Limb(maxFee, i) + carry;
            carry = sum >> 32;
            Set(Cost + i, sum & LimbMask);
            Set(CostCarry + i, carry);
        }
        Set(CostFits, (costFitsLie ?? carry == 0) ? 1UL : 0);
        Set(OverflowInverse, carry == 0 ? 0 : Goldilocks.Inverse(carry));
    }

    /// <summary>Writes d = take ? x - y : y - 1 - x (never negative) and its borrows; returns d.</summary>
    private static UInt128 SignedSubtraction(ulong[][] trace, int row, bool take, UInt128 x, UInt128 y, int d, int borrow)
    {
        var result = unchecked(take ? x - y : y - 1 - x);
        long borrowIn = 0;
        for (var i = 0; i < AmountLimbs; i++)
        {
            // The constraint's own arithmetic, in [-2^32, 2^32): adding 2^32 on a borrow lands in [0, 2^32).
            var diff = take ? (long)Limb(x, i) - (long)Limb(y, i) : (long)Limb(y, i) - (long)Limb(x, i) - (i == 0 ? 1 : 0);
            diff -= borrowIn;
            borrowIn = diff < 0 ? 1 : 0;
            trace[d + i][row] = (ulong)(diff + (borrowIn << 32));
            if (i < AmountLimbs - 1)
            {
                trace[borrow + i][row] = (ulong)borrowIn;
            }
        }
        return result;
    }

    private static ulong Limb(UInt128 x, int i) => (ulong)(x >> (32 * i)) & LimbMask;
}
