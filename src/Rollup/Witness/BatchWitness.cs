using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Witness;

/// <summary>An account leaf before an update, with its path in the tree the update starts from.</summary>
public sealed record AccountOpening(Account Before, MerklePath Path);

/// <summary>
/// One transfer of the batch as the prover sees it. Sender opens against the root before this
/// transfer; for an applied transfer the receiver opens against the root after the sender's update
/// (so a self-transfer needs no special case). A skipped transfer has no receiver: its sender
/// opening proves the reason it was skipped.
/// </summary>
public sealed record TransferWitness(
    Transfer Transfer,
    TransferStatus Status,
    UInt128 EffectiveGasPrice,
    AccountOpening Sender,
    AccountOpening? Receiver,
    Digest StateRootAfter);

/// <summary>The batch's tips credited to the fee recipient after the last transfer, opening against
/// the root after that transfer (the pre-state root for an empty batch).</summary>
public sealed record FeeRecipientWitness(AccountOpening Opening, UInt128 Tips);

/// <summary>
/// Everything a prover needs to prove one executed batch, and nothing secret (no signatures, no
/// keys). <see cref="WitnessChecker"/> recomputes every field; the transfer AIR proves the same
/// computation. Serialised by <see cref="WitnessSerializer"/>.
/// </summary>
public sealed record BatchWitness(
    RollupParameters Parameters,
    Digest PreStateRoot,
    IReadOnlyList<TransferWitness> Transfers,
    FeeRecipientWitness FeeRecipient,
    Digest PostStateRoot,
    Digest BatchCommitment)
{
    public const int FormatVersion = 1;
}
