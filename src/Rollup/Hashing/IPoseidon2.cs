namespace Keel.Rollup.Hashing;

/// <summary>
/// The Poseidon2 permutations the rollup hashes with (Goldilocks, Plonky3 >= 0.5 instance):
/// width 8 for 2-to-1 compression of digests and width 12 for sponge hashing. The rollup only
/// needs these two calls, so the field and permutation code stays in Keel.Core.
/// </summary>
public interface IPoseidon2
{
    /// <summary>Permutes 8 canonical field elements in place.</summary>
    void Permute8(Span<ulong> state);

    /// <summary>Permutes 12 canonical field elements in place.</summary>
    void Permute12(Span<ulong> state);
}
