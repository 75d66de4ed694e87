using Keel.Core;

namespace Keel.Rollup.Execution;

/// <summary>
/// The per-namespace settings a batch executes under. All three are bound by the batch
/// commitment, so a proof made for one base fee or fee recipient does not fit another.
/// </summary>
/// <param name="ChainId">The rollup's chain id (its namespace id).</param>
/// <param name="BaseFeePerGas">Burned per unit of gas; 21000 * this leaves every applied transfer.</param>
/// <param name="FeeRecipient">Receives the tips of a batch, credited once after its last transfer.</param>
public sealed record RollupParameters(ulong ChainId, UInt128 BaseFeePerGas, Address FeeRecipient)
{
    /// <summary>Devnet default: 1 gwei, like a quiet L1.</summary>
    public static readonly UInt128 DefaultBaseFeePerGas = 1_000_000_000;
}
