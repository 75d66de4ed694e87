using Keel.Prover.Air;

namespace Keel.Prover.Transfer;

/// <summary>
/// Range checks by bit accumulation down the rows. A lane is two columns (bit, accumulator); a
/// checked limb of b bits takes b consecutive rows of one lane inside a repeating period: the
/// first row starts the accumulator at the bit, each next row adds 2^j times its bit, and the
/// last row requires the accumulator to equal the target column. Bits are boolean on every row,
/// so the target is below 2^b. The target column must hold one value over the item's rows
/// (callers schedule block- or region-constant columns inside the rows where they are constant).
/// Scheduling is greedy and deterministic, so prover and verifier derive the same periodic
/// columns from the same item list. One target selector per (lane, target column) marks the last
/// rows of every slot of that lane checking that column (slots in a lane never share a row), so
/// a layout that repeats its items region after region inside the period pays one periodic
/// column per item of a region, not per item of the period.
/// </summary>
internal sealed class RangeCheckLanes
{
    /// <summary>A column to check to [0, 2^Bits), somewhere in rows [WindowStart, WindowEnd) of the period.</summary>
    public readonly record struct Item(int Column, int Bits, int WindowStart, int WindowEnd);

    private readonly record struct Slot(int Lane, int Start, Item Item);

    private readonly int _firstColumn;
    private readonly int _periodicBase;
    private readonly List<Slot> _slots = [];

    /// <summary>The (lane, target column) pairs in order of first appearance: one target selector each.</summary>
    private readonly List<(int Lane, int Column)> _targets = [];

    public RangeCheckLanes(int firstColumn, int lanes, int period, int periodicBase, IReadOnlyList<Item> items)
    {
        _firstColumn = firstColumn;
        _periodicBase = periodicBase;
        Lanes = lanes;
        Period = period;
        var used = new bool[lanes, period];
        foreach (var item in items)
        {
            if (item.Bits is < 1 or > 32 || item.WindowStart < 0 || item.WindowEnd > period)
            {
                throw new AirDefinitionException($"range check of column {item.Column}: {item.Bits} bits in rows [{item.WindowStart}, {item.WindowEnd}) of {period}");
            }
            var placed = false;
            for (var lane = 0; lane < lanes && !placed; lane++)
            {
                for (var start = item.WindowStart; start + item.Bits <= item.WindowEnd && !placed; start++)
                {
                    var free = true;
                    for (var r = start; r < start + item.Bits && free; r++)
                    {
                        free = !used[lane, r];
                    }
                    if (free)
                    {
                        for (var r = start; r < start + item.Bits; r++)
                        {
                            used[lane, r] = true;
                        }
                        _slots.Add(new Slot(lane, start, item));
                        if (!_targets.Contains((lane, item.Column)))
                        {
                            _targets.Add((lane, item.Column));
                        }
                        placed = true;
                    }
                }
            }
            if (!placed)
            {
                throw new AirDefinitionException($"range checks do not fit in {lanes} lanes of {period} rows (column {item.Column})");
            }
        }
    }

    public int Lanes { get; }
    public int Period { get; }
    public int Columns => 2 * Lanes;

    /// <summary>First, step and weight per lane, then one target selector per (lane, target column).</summary>
    public int PeriodicCount => 3 * Lanes + _targets.Count;

    private int BitColumn(int lane) => _firstColumn + 2 * lane;
    private int AccColumn(int lane) => _firstColumn + 2 * lane + 1;

    public ulong[][] PeriodicColumns()
    {
        var columns = new ulong[PeriodicCount][];
        for (var k = 0; k < columns.Length; k++)
        {
            columns[k] = new ulong[Period];
        }
        for (var s = 0; s < _slots.Count; s++)
        {
            var (lane, start, item) = _slots[s];
            columns[3 * lane][start] = 1;
            for (var j = 0; j < item.Bits - 1; j++)
            {
                columns[3 * lane + 1][start + j] = 1;
                columns[3 * lane + 2][start + j] = 1UL << (j + 1);
            }
            columns[3 * Lanes + _targets.IndexOf((lane, item.Column))][start + item.Bits - 1] = 1;
        }
        return columns;
    }

    public IEnumerable<Expr> Constraints()
    {
        Expr P(int k) => Expr.Periodic(_periodicBase + k);
        for (var lane = 0; lane < Lanes; lane++)
        {
            var bit = Expr.Cur(BitColumn(lane));
            var acc = Expr.Cur(AccColumn(lane));
            yield return bit * (bit - 1);
            yield return P(3 * lane) * (acc - bit);
            yield return P(3 * lane + 1) * (Expr.Next(AccColumn(lane)) - acc - P(3 * lane + 2) * Expr.Next(BitColumn(lane)));
            Expr target = 0;
            var any = false;
            for (var s = 0; s < _targets.Count; s++)
            {
                if (_targets[s].Lane == lane)
                {
                    target = target + P(3 * Lanes + s) * (acc - Expr.Cur(_targets[s].Column));
                    any = true;
                }
            }
            if (any)
            {
                yield return target;
            }
        }
    }

    /// <summary>Writes the bits and accumulators of one period starting at <paramref name="periodStart"/>, reading each target from the trace (fill the targets first).</summary>
    public void Fill(ulong[][] trace, int periodStart)
    {
        foreach (var (lane, start, item) in _slots)
        {
            var row0 = periodStart + start;
            var value = trace[item.Column][row0];
            ulong acc = 0;
            for (var j = 0; j < item.Bits; j++)
            {
                var bit = j < 64 ? (value >> j) & 1 : 0;
                acc |= bit << j;
                trace[BitColumn(lane)][row0 + j] = bit;
                trace[AccColumn(lane)][row0 + j] = acc;
            }
        }
    }
}
