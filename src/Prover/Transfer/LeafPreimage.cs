using Keel.Core.Hashing;
using Keel.Rollup.Hashing;

namespace Keel.Prover.Transfer;

/// <summary>
/// An account leaf H([1, balance limbs 0..3, nonce]) is the rollup's Poseidon2 sponge over six
/// elements (docs/rollup.md): one width-12 permutation of [1, account, 0, 0 | 6, 0, 0, 0], the
/// length sitting in the first capacity lane. The AIRs hash leaves as that single permutation;
/// this is the one place that spells out its input, for expressions and for values alike.
/// </summary>
internal static class LeafPreimage
{
    /// <summary>Balance limbs 0..3 and the nonce.</summary>
    public const int AccountElements = RollupHasher.LeafElements - 1;

    public static T[] Of<T>(ReadOnlySpan<T> account, Func<ulong, T> constant)
    {
        if (account.Length != AccountElements)
        {
            throw new ArgumentException($"an account is {AccountElements} elements", nameof(account));
        }
        var input = new T[Poseidon2.SpongeWidth];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = constant(0);
        }
        input[0] = constant(RollupHasher.LeafDomain);
        account.CopyTo(input.AsSpan(1));
        input[Poseidon2.SpongeRate] = constant(RollupHasher.LeafElements);
        return input;
    }
}
