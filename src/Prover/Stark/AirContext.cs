using Keel.Core.Field;
using Keel.Prover.Air;

namespace Keel.Prover.Stark;

/// <summary>
/// An AIR checked against its limits and combined with proof options: the sizes and derived
/// objects (compiled constraints, periodic polynomials, FRI plan) that prover and verifier must
/// compute identically.
/// </summary>
public sealed class AirContext
{
    public const int MinLogTraceLength = 3;
    public const int MaxLogTraceLength = 24;
    public const int MaxTraceWidth = 1024;
    public const int MaxConstraints = 4096;
    public const int MaxAssertions = 4096;
    public const int MaxPublicInputs = 4096;
    public const int MaxPeriodicColumns = 256;

    /// <summary>Each distinct asserted row costs a batch inversion over the LDE; AIRs assert on a few rows.</summary>
    public const int MaxAssertionRows = 64;

    public const int MaxCompositionColumns = 1 << ProofOptions.MaxLogBlowup;
    public const int MaxNameBytes = 64;

    public AirContext(IAir air, ProofOptions options)
    {
        ArgumentNullException.ThrowIfNull(air);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Air = air;
        Options = options;
        if (string.IsNullOrEmpty(air.Name) || System.Text.Encoding.UTF8.GetByteCount(air.Name) > MaxNameBytes)
        {
            throw new AirDefinitionException($"AIR name must be 1 to {MaxNameBytes} bytes");
        }
        TraceLength = air.TraceLength;
        if (TraceLength <= 0 || (TraceLength & (TraceLength - 1)) != 0)
        {
            throw new AirDefinitionException($"trace length {TraceLength} is not a power of two");
        }
        LogTraceLength = System.Numerics.BitOperations.Log2((uint)TraceLength);
        if (LogTraceLength < MinLogTraceLength || LogTraceLength > MaxLogTraceLength)
        {
            throw new AirDefinitionException($"trace length must be 2^{MinLogTraceLength} to 2^{MaxLogTraceLength}, is 2^{LogTraceLength}");
        }
        TraceWidth = air.TraceWidth;
        if (TraceWidth < 1 || TraceWidth > MaxTraceWidth)
        {
            throw new AirDefinitionException($"trace width must be 1 to {MaxTraceWidth}, is {TraceWidth}");
        }
        LogLdeSize = LogTraceLength + options.LogBlowup;
        LdeSize = 1 << LogLdeSize;
        Blowup = options.Blowup;
        if (air.PublicInputs.Count > MaxPublicInputs)
        {
            throw new AirDefinitionException($"more than {MaxPublicInputs} public inputs");
        }
        foreach (var v in air.PublicInputs)
        {
            if (!Goldilocks.IsCanonical(v))
            {
                throw new AirDefinitionException($"public input {v} is not a canonical field element");
            }
        }

        if (air.PeriodicColumns.Count > MaxPeriodicColumns)
        {
            throw new AirDefinitionException($"more than {MaxPeriodicColumns} periodic columns");
        }
        var periodic = new PeriodicColumn[air.PeriodicColumns.Count];
        for (var k = 0; k < periodic.Length; k++)
        {
            var cycle = air.PeriodicColumns[k];
            if (cycle.Length == 0 || (cycle.Length & (cycle.Length - 1)) != 0 || cycle.Length > TraceLength)
            {
                throw new AirDefinitionException($"periodic column {k}: cycle length {cycle.Length} must be a power of two no longer than the trace");
            }
            foreach (var v in cycle)
            {
                if (!Goldilocks.IsCanonical(v))
                {
                    throw new AirDefinitionException($"periodic column {k} holds a non-canonical value");
                }
            }
            periodic[k] = new PeriodicColumn(cycle, TraceLength);
        }
        Periodic = periodic;

        var constraints = air.TransitionConstraints;
        if (constraints.Count > MaxConstraints)
        {
            throw new AirDefinitionException($"more than {MaxConstraints} transition constraints");
        }
        foreach (var c in constraints)
        {
            CheckReferences(c);
        }
        Program = new ConstraintProgram(constraints);
        var traceDegree = (long)TraceLength - 1;
        long maxQuotientDegree = 0;
        for (var i = 0; i < constraints.Count; i++)
        {
            var degree = constraints[i].Degree(traceDegree, k => periodic[k].DegreeBound);
            if (degree >= LdeSize)
            {
                throw new AirDefinitionException($"constraint {i} has degree {degree}, beyond the LDE domain of {LdeSize}: raise the blowup");
            }
            // The divisor vanishes on n - 1 points.
            maxQuotientDegree = Math.Max(maxQuotientDegree, degree - (TraceLength - 1));
        }

        if (air.Assertions.Count > MaxAssertions)
        {
            throw new AirDefinitionException($"more than {MaxAssertions} assertions");
        }
        if (air.Assertions.Count + constraints.Count == 0)
        {
            throw new AirDefinitionException("an AIR without constraints or assertions proves nothing");
        }
        var rows = new List<int>();
        foreach (var a in air.Assertions)
        {
            if (a.Column < 0 || a.Column >= TraceWidth || a.Row < 0 || a.Row >= TraceLength || !Goldilocks.IsCanonical(a.Value))
            {
                throw new AirDefinitionException($"assertion {a} is out of the trace or not canonical");
            }
            if (!rows.Contains(a.Row))
            {
                rows.Add(a.Row);
            }
        }
        if (rows.Count > MaxAssertionRows)
        {
            throw new AirDefinitionException($"assertions touch more than {MaxAssertionRows} distinct rows");
        }
        rows.Sort();
        AssertionRows = [.. rows];
        if (air.Assertions.Count > 0)
        {
            maxQuotientDegree = Math.Max(maxQuotientDegree, TraceLength - 2);
        }

        CompositionColumns = (int)Math.Max(1, (maxQuotientDegree + TraceLength) / TraceLength);
        if (CompositionColumns > Blowup)
        {
            throw new AirDefinitionException($"composition needs {CompositionColumns} columns, more than the blowup {Blowup}");
        }

        TraceGenerator = Goldilocks.RootOfUnity(LogTraceLength);
        LdeGenerator = Goldilocks.RootOfUnity(LogLdeSize);

        // FRI: fold by F while the degree bound exceeds the remainder size.
        var layers = 0;
        var degreeBound = TraceLength;
        while (degreeBound > options.MaxRemainderSize)
        {
            degreeBound /= options.FoldingFactor;
            layers++;
        }
        FriLayers = layers;
        RemainderSize = Math.Max(1, degreeBound);
        SecurityBits = Security.ConjecturedBits(options, LogLdeSize);
    }

    public IAir Air { get; }
    public ProofOptions Options { get; }
    public int TraceLength { get; }
    public int LogTraceLength { get; }
    public int TraceWidth { get; }
    public int Blowup { get; }
    public int LdeSize { get; }
    public int LogLdeSize { get; }

    /// <summary>The LDE coset shift (Goldilocks' generator, as in Plonky3 and Winterfell).</summary>
    public ulong DomainShift => Goldilocks.GeneratorValue;

    public ulong TraceGenerator { get; }
    public ulong LdeGenerator { get; }
    public ConstraintProgram Program { get; }
    public IReadOnlyList<PeriodicColumn> Periodic { get; }
    public int[] AssertionRows { get; }
    public int CompositionColumns { get; }
    public int FriLayers { get; }
    public int RemainderSize { get; }
    public int SecurityBits { get; }

    private void CheckReferences(Expr e)
    {
        var stack = new Stack<Expr>();
        var seen = new HashSet<Expr>(ReferenceEqualityComparer.Instance);
        stack.Push(e ?? throw new AirDefinitionException("null constraint"));
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!seen.Add(node))
            {
                continue;
            }
            switch (node)
            {
                case ColumnExpr c when c.Column >= TraceWidth:
                    throw new AirDefinitionException($"constraint reads column {c.Column} of a {TraceWidth}-column trace");
                case PeriodicExpr p when p.Index >= Air.PeriodicColumns.Count:
                    throw new AirDefinitionException($"constraint reads periodic column {p.Index} of {Air.PeriodicColumns.Count}");
                case PublicInputExpr p when p.Index >= Air.PublicInputs.Count:
                    throw new AirDefinitionException($"constraint reads public input {p.Index} of {Air.PublicInputs.Count}");
                case BinaryExpr b:
                    stack.Push(b.Left);
                    stack.Push(b.Right);
                    break;
            }
        }
    }
}
