namespace Keel.Core.Field;

/// <summary>Base of the field errors, so callers can catch one type.</summary>
public abstract class FieldException(string message) : ArgumentException(message);

/// <summary>A value &gt;= p where a canonical Goldilocks element was required.</summary>
public sealed class NonCanonicalFieldElementException(ulong value)
    : FieldException($"{value} is not a canonical Goldilocks element (must be < 2^64 - 2^32 + 1)")
{
    public ulong Value { get; } = value;
}

/// <summary>An inversion of zero (directly, or at an index of a batch inversion).</summary>
public sealed class FieldDivisionByZeroException : FieldException
{
    public FieldDivisionByZeroException() : base("zero has no inverse") { }

    public FieldDivisionByZeroException(int index) : base($"zero has no inverse (element {index} of a batch)") => Index = index;

    public int Index { get; } = -1;
}
