using Keel.Prover.Air;

namespace Keel.Prover.Examples;

/// <summary>
/// A chain of Poseidon2 permutations (P3new, width 8 or 12): state_(k+1) = Permute(state_k). The
/// columns hold the state; each permutation takes one 32-row cycle of <see cref="Poseidon2Gadget"/>:
/// row 0 its input, row 30 its output, row 31 a copy which is also the next permutation's input.
/// Public inputs: the input elements, then the output elements.
/// </summary>
public sealed class Poseidon2ChainAir : IAir
{
    public const string AirName = "poseidon2-chain-v1";
    public const string AirName12 = "poseidon2-chain12-v1";
    public const int Width = 8;
    public const int CycleRows = Poseidon2Gadget.CycleRows;

    public Poseidon2ChainAir(int permutations, ulong[] input, ulong[] output)
    {
        if (permutations < 1 || (permutations & (permutations - 1)) != 0)
        {
            throw new AirDefinitionException("the chain length must be a power of two");
        }
        if (input.Length is not (8 or 12) || output.Length != input.Length)
        {
            throw new AirDefinitionException("input and output are 8 or 12 elements each");
        }
        var width = input.Length;
        var gadget = new Poseidon2Gadget(0, copyAtRow31: true, width);
        TraceWidth = width;
        Permutations = permutations;
        TraceLength = permutations * CycleRows;
        PublicInputs = [.. input, .. output];
        var assertions = new List<Assertion>();
        for (var c = 0; c < width; c++)
        {
            assertions.Add(new Assertion(c, 0, input[c]));
            assertions.Add(new Assertion(c, TraceLength - 2, output[c]));
        }
        Assertions = assertions;
        PeriodicColumns = gadget.PeriodicColumns();
        TransitionConstraints = gadget.Constraints([.. Enumerable.Range(0, width)]);
    }

    public int Permutations { get; }
    public string Name => TraceWidth == 8 ? AirName : AirName12;
    public int TraceWidth { get; }
    public int TraceLength { get; }
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns { get; }

    /// <summary>The trace of a chain of <paramref name="permutations"/> permutations from <paramref name="input"/>, and its output.</summary>
    public static (ulong[][] Trace, ulong[] Output) BuildTrace(int permutations, ReadOnlySpan<ulong> input)
    {
        var width = input.Length;
        var n = permutations * CycleRows;
        var trace = new ulong[width][];
        for (var c = 0; c < width; c++)
        {
            trace[c] = new ulong[n];
        }
        var state = input.ToArray();
        int[] columns = [.. Enumerable.Range(0, width)];
        for (var k = 0; k < permutations; k++)
        {
            var start = k * CycleRows;
            Poseidon2Gadget.FillPermutation(trace, columns, start, state);
            for (var c = 0; c < width; c++)
            {
                state[c] = trace[c][start + CycleRows - 2];
                trace[c][start + CycleRows - 1] = state[c];
            }
        }
        return (trace, [.. state]);
    }
}
