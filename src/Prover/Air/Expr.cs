using Keel.Core.Field;

namespace Keel.Prover.Air;

/// <summary>
/// A constraint as a symbolic expression over the trace frame (current and next row), periodic
/// columns and public inputs. Constraints are declared once in this form; the CPU evaluator, the
/// verifier's out-of-domain evaluator and (later) the GPU kernel and Solidity evaluator are all
/// generated from it via <see cref="ConstraintProgram"/>.
/// </summary>
public abstract class Expr
{
    private protected Expr() { }

    public static Expr Const(ulong value) => new ConstExpr(Goldilocks.Canonicalize(value));
    public static Expr Cur(int column) => new ColumnExpr(column, next: false);
    public static Expr Next(int column) => new ColumnExpr(column, next: true);
    public static Expr Periodic(int index) => new PeriodicExpr(index);
    public static Expr PublicInput(int index) => new PublicInputExpr(index);

    public static Expr operator +(Expr a, Expr b) => new BinaryExpr(ExprOp.Add, a, b);
    public static Expr operator -(Expr a, Expr b) => new BinaryExpr(ExprOp.Sub, a, b);
    public static Expr operator *(Expr a, Expr b) => new BinaryExpr(ExprOp.Mul, a, b);
    public static Expr operator -(Expr a) => new BinaryExpr(ExprOp.Sub, Const(0), a);
    public static implicit operator Expr(ulong value) => Const(value);
    public static implicit operator Expr(int value) => value >= 0 ? Const((ulong)value) : Const(Goldilocks.Neg((ulong)(-(long)value)));

    /// <summary>this^exponent by repeated squaring (a few Mul nodes, shared as one subexpression).</summary>
    public Expr Pow(int exponent)
    {
        if (exponent < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(exponent), "constraint exponents are at least 1");
        }
        Expr? result = null;
        var b = this;
        while (exponent > 0)
        {
            if ((exponent & 1) != 0)
            {
                result = result is null ? b : result * b;
            }
            exponent >>= 1;
            if (exponent > 0)
            {
                b = b * b;
            }
        }
        return result!;
    }

    /// <summary>
    /// Degree bound of this expression as a polynomial when columns are trace polynomials of
    /// degree n - 1 and periodic column k has the degree given by <paramref name="periodicDegree"/>.
    /// </summary>
    public abstract long Degree(long traceDegree, Func<int, long> periodicDegree);
}

public enum ExprOp : byte
{
    Add,
    Sub,
    Mul,
}

public sealed class ConstExpr : Expr
{
    internal ConstExpr(ulong value) => Value = value;

    public ulong Value { get; }

    public override long Degree(long traceDegree, Func<int, long> periodicDegree) => 0;

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class ColumnExpr : Expr
{
    internal ColumnExpr(int column, bool next)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        Column = column;
        IsNext = next;
    }

    public int Column { get; }

    /// <summary>False: this row; true: the next row (offset 1).</summary>
    public bool IsNext { get; }

    public override long Degree(long traceDegree, Func<int, long> periodicDegree) => traceDegree;

    public override string ToString() => IsNext ? $"next[{Column}]" : $"cur[{Column}]";
}

public sealed class PeriodicExpr : Expr
{
    internal PeriodicExpr(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Index = index;
    }

    public int Index { get; }

    public override long Degree(long traceDegree, Func<int, long> periodicDegree) => periodicDegree(Index);

    public override string ToString() => $"periodic[{Index}]";
}

public sealed class PublicInputExpr : Expr
{
    internal PublicInputExpr(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Index = index;
    }

    public int Index { get; }

    public override long Degree(long traceDegree, Func<int, long> periodicDegree) => 0;

    public override string ToString() => $"public[{Index}]";
}

public sealed class BinaryExpr : Expr
{
    internal BinaryExpr(ExprOp op, Expr left, Expr right)
    {
        Op = op;
        Left = left ?? throw new ArgumentNullException(nameof(left));
        Right = right ?? throw new ArgumentNullException(nameof(right));
    }

    public ExprOp Op { get; }
    public Expr Left { get; }
    public Expr Right { get; }

    public override long Degree(long traceDegree, Func<int, long> periodicDegree) =>
        Degree(traceDegree, periodicDegree, new Dictionary<BinaryExpr, long>(ReferenceEqualityComparer.Instance));

    // Memoized per node: constraints are DAGs whose shared subexpressions (a Poseidon2 round's state
    // feeding every lane of the next) would make a plain tree walk exponential in the round count.
    private long Degree(long traceDegree, Func<int, long> periodicDegree, Dictionary<BinaryExpr, long> memo)
    {
        if (memo.TryGetValue(this, out var known))
        {
            return known;
        }
        var l = Left is BinaryExpr bl ? bl.Degree(traceDegree, periodicDegree, memo) : Left.Degree(traceDegree, periodicDegree);
        var r = Right is BinaryExpr br ? br.Degree(traceDegree, periodicDegree, memo) : Right.Degree(traceDegree, periodicDegree);
        var degree = Op == ExprOp.Mul ? l + r : Math.Max(l, r);
        memo.Add(this, degree);
        return degree;
    }

    public override string ToString() => $"({Left} {(Op == ExprOp.Add ? "+" : Op == ExprOp.Sub ? "-" : "*")} {Right})";
}
