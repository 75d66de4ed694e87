using Keel.Core.Field;
using Keel.Prover.Crypto;
using Keel.Prover.Stark;

namespace Keel.Prover.Proving;

/// <summary>
/// The heavy steps of proving, behind one seam so that GPU backends can replace them. A backend
/// must produce bit-identical results to <see cref="CpuBackend"/>: proofs do not depend on which
/// backend made them.
/// </summary>
public interface IProverBackend
{
    string Name { get; }

    /// <summary>
    /// Interpolates each column (overwritten in place with its coefficients) and evaluates it on
    /// the coset shift*&lt;w_(n*blowup)&gt;.
    /// </summary>
    ulong[][] ExtendColumns(ulong[][] columns, int blowup, ulong shift);

    /// <summary>
    /// The composition polynomial's values over the LDE domain:
    /// sum_c alpha_c C_c(x) (x - g^(n-1))/(x^n - 1) + sum_a beta_a (T_col(x) - v_a)/(x - g^row).
    /// </summary>
    GoldilocksExt2[] EvaluateComposition(AirContext ctx, ulong[][] traceLde, GoldilocksExt2[] transitionCoefficients, GoldilocksExt2[] assertionCoefficients);

    /// <summary>Commits to the rows of a matrix.</summary>
    MerkleTree Commit(IRowSource rows);

    /// <summary>An array of <paramref name="length"/> words for the prover's scratch columns; contents unspecified.</summary>
    ulong[] Rent(int length) => GC.AllocateUninitializedArray<ulong>(length);

    /// <summary>The prover is done with these arrays (from <see cref="ExtendColumns"/> or <see cref="Rent"/>): a backend may reuse them.</summary>
    void Recycle(IEnumerable<ulong[]?> arrays)
    {
    }
}
