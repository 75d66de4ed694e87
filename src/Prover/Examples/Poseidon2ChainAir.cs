using Keel.Prover.Air;

namespace Keel.Prover.Examples;

/// <summary>
/// A chain of Poseidon2 width-8 permutations (P3new): state_(k+1) = Permute(state_k). Eight
/// columns hold the state; each permutation takes one 32-row cycle of <see cref="Poseidon2Gadget"/>:
/// row 0 its input, row 30 its output, row 31 a copy which is also the next permutation's input.
/// Public inputs: the 8 input elements, then the 8 output elements.
/// </summary>
public sealed class Poseidon2ChainAir : IAir
{
    public const string AirName = "poseidon2-chain-v1";
    public const int Width = Poseidon2Gadget.Width;
    public const int CycleRows = Poseidon2Gadget.CycleRows;

    private static readonly int[] StateColumns = [0, 1, 2, 3, 4, 5, 6, 7];
    private static readonly Poseidon2Gadget Gadget = new(0, copyAtRow31: true);

    public Poseidon2ChainAir(int permutations, ulong[] input, ulong[] output)
    {
        if (permutations < 1 || (permutations & (permutations - 1)) != 0)
        {
            throw new AirDefinitionException("the chain length must be a power of two");
        }
        if (input.Length != Width || output.Length != Width)
        {
            throw new AirDefinitionException("input and output are 8 elements each");
        }
        Permutations = permutations;
        TraceLength = permutations * CycleRows;
        PublicInputs = [.. input, .. output];
        var assertions = new List<Assertion>();
        for (var c = 0; c < Width; c++)
        {
            assertions.Add(new Assertion(c, 0, input[c]));
            assertions.Add(new Assertion(c, TraceLength - 2, output[c]));
        }
        Assertions = assertions;
        PeriodicColumns = Gadget.PeriodicColumns();
        TransitionConstraints = Gadget.Constraints(StateColumns);
    }

    public int Permutations { get; }
    public string Name => AirName;
    public int TraceWidth => Width;
    public int TraceLength { get; }
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns { get; }

    /// <summary>The trace of a chain of <paramref name="permutations"/> permutations from <paramref name="input"/>, and its output.</summary>
    public static (ulong[][] Trace, ulong[] Output) BuildTrace(int permutations, ReadOnlySpan<ulong> input)
    {
        var n = permutations * CycleRows;
        var trace = new ulong[Width][];
        for (var c = 0; c < Width; c++)
        {
            trace[c] = new ulong[n];
        }
        var state = input.ToArray();
        for (var k = 0; k < permutations; k++)
        {
            var start = k * CycleRows;
            Poseidon2Gadget.FillPermutation(trace, StateColumns, start, state);
            for (var c = 0; c < Width; c++)
            {
                state[c] = trace[c][start + CycleRows - 2];
                trace[c][start + CycleRows - 1] = state[c];
            }
        }
        return (trace, [.. state]);
    }
}
