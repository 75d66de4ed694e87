namespace Keel.Prover.Stark;

/// <summary>
/// Parameters of a proof; they travel inside the proof and are bound into the transcript.
/// Defaults: blowup 8, 30 queries, 16 bits of grinding, FRI folding by 8 down to a remainder of
/// at most 64 coefficients: 3 * 30 + 16 = 106 bits from queries, see <see cref="Security"/>.
/// </summary>
public sealed record ProofOptions(int LogBlowup = 3, int Queries = 30, int GrindingBits = 16, int LogFoldingFactor = 3, int LogMaxRemainderSize = 6)
{
    public const int MaxLogBlowup = 6;
    public const int MaxQueries = 128;
    public const int MaxGrindingBits = 30;
    public const int MaxLogFoldingFactor = 4;
    public const int MaxLogRemainderSize = 10;

    public static ProofOptions Default { get; } = new();

    public int Blowup => 1 << LogBlowup;
    public int FoldingFactor => 1 << LogFoldingFactor;
    public int MaxRemainderSize => 1 << LogMaxRemainderSize;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first parameter out of its bound.</summary>
    public void Validate()
    {
        Check(LogBlowup, 1, MaxLogBlowup, nameof(LogBlowup));
        Check(Queries, 1, MaxQueries, nameof(Queries));
        Check(GrindingBits, 0, MaxGrindingBits, nameof(GrindingBits));
        Check(LogFoldingFactor, 1, MaxLogFoldingFactor, nameof(LogFoldingFactor));
        Check(LogMaxRemainderSize, LogFoldingFactor, MaxLogRemainderSize, nameof(LogMaxRemainderSize));
    }

    public bool IsValid()
    {
        try
        {
            Validate();
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static void Check(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {max}]");
        }
    }
}

/// <summary>
/// Conjectured security, with the formula of Winterfell's air/src/proof/security.rs:
/// min(field bits - log2(LDE size), hash collision bits, log2(blowup) * queries + grinding) - 1,
/// where grinding counts only once the query part alone reaches 80 bits. Field bits are 128 (the
/// quadratic extension of a 64-bit field; all challenges are drawn there); Keccak-256 collisions
/// cost 2^128.
/// </summary>
public static class Security
{
    public const int ExtensionFieldBits = 128;
    public const int HashCollisionBits = 128;
    public const int GrindingContributionFloorBits = 80;

    public static int ConjecturedBits(ProofOptions options, int logLdeSize)
    {
        var fieldSecurity = ExtensionFieldBits - logLdeSize;
        var querySecurity = options.LogBlowup * options.Queries;
        if (querySecurity >= GrindingContributionFloorBits)
        {
            querySecurity += options.GrindingBits;
        }
        return Math.Min(Math.Min(fieldSecurity, HashCollisionBits), querySecurity) - 1;
    }
}
