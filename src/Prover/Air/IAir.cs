namespace Keel.Prover.Air;

/// <summary>
/// An algebraic intermediate representation: everything prover and verifier agree on about a
/// computation. Transition constraints must vanish on every pair of consecutive rows except the
/// last (they may read the next row); assertions pin single cells; periodic columns repeat a
/// power-of-two cycle of constants down the trace. Public inputs are field elements bound into the
/// transcript (and readable by constraints); the prover's address is bound separately.
/// </summary>
public interface IAir
{
    /// <summary>Identifies the AIR (and its version) in the transcript and in proof files.</summary>
    string Name { get; }

    int TraceWidth { get; }

    /// <summary>Rows, a power of two.</summary>
    int TraceLength { get; }

    IReadOnlyList<ulong> PublicInputs { get; }

    IReadOnlyList<Expr> TransitionConstraints { get; }

    IReadOnlyList<Assertion> Assertions { get; }

    /// <summary>Each a power-of-two cycle no longer than the trace, of canonical elements.</summary>
    IReadOnlyList<ulong[]> PeriodicColumns { get; }
}

/// <summary>trace[Column][Row] == Value.</summary>
public readonly record struct Assertion(int Column, int Row, ulong Value);
