using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Witness;

/// <summary>Why a batch witness is wrong: one value per check the transfer AIR must also make.</summary>
public enum WitnessRejection
{
    /// <summary>A transfer field out of range (nonce at the limit, tip cap above fee cap, wrong chain).</summary>
    FieldOutOfRange,
    SenderPathMismatch,
    ReceiverPathMismatch,
    FeeRecipientPathMismatch,
    /// <summary>Declared applied, but the fee cap is below the base fee.</summary>
    FeeCapBelowBaseFee,
    /// <summary>Declared applied, but the transfer's nonce is not the sender's.</summary>
    NonceMismatch,
    /// <summary>Declared applied, but the sender cannot cover value + 21000 * maxFeePerGas (overdraft).</summary>
    InsufficientBalance,
    /// <summary>Declared skipped (or skipped for another reason), but the rules say otherwise.</summary>
    StatusMismatch,
    /// <summary>An applied transfer without a receiver opening, or a skipped one with one.</summary>
    ReceiverOpeningMismatch,
    EffectiveGasPriceMismatch,
    ReceiverBalanceOverflow,
    IntermediateRootMismatch,
    TipsMismatch,
    PostStateRootMismatch,
    BatchCommitmentMismatch,
}

/// <summary>A witness that parsed but does not describe a correct execution.</summary>
public sealed class WitnessRejectedException : RollupException
{
    public WitnessRejectedException(WitnessRejection reason, int? transferIndex, string message)
        : base(transferIndex is int i ? $"{reason} at transfer {i}: {message}" : $"{reason}: {message}")
    {
        Reason = reason;
        TransferIndex = transferIndex;
    }

    public WitnessRejection Reason { get; }

    /// <summary>The transfer at fault, or null for a batch-level check.</summary>
    public int? TransferIndex { get; }
}

/// <summary>
/// Recomputes a batch from its witness alone: every opening against the running root, the rule
/// outcome of each transfer, fees, the fee recipient's credit, every intermediate root, the post-
/// state root and the batch commitment. It is the reference the STARK transfer AIR must match:
/// the AIR proves exactly these steps, in this order.
/// </summary>
public static class WitnessChecker
{
    /// <summary>Throws <see cref="WitnessRejectedException"/> on the first failed check.</summary>
    public static void Check(RollupHasher hasher, BatchWitness witness)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        ArgumentNullException.ThrowIfNull(witness);
        var p = witness.Parameters;
        if (witness.Transfers.Count > BatchCommitment.MaxTransfers)
            throw new WitnessRejectedException(WitnessRejection.FieldOutOfRange, null, $"More than {BatchCommitment.MaxTransfers} transfers.");

        var root = witness.PreStateRoot;
        UInt128 tips = 0;
        for (int i = 0; i < witness.Transfers.Count; i++)
        {
            var w = witness.Transfers[i];
            var tx = w.Transfer;
            CheckStatic(tx, p, i);

            // Sender: open against the running root.
            var sender = w.Sender.Before;
            CheckAccountRange(sender, i, "sender");
            if (w.Sender.Path.ComputeRoot(hasher, tx.From, hasher.HashLeaf(sender.Balance, sender.Nonce)) != root)
                throw new WitnessRejectedException(WitnessRejection.SenderPathMismatch, i, $"The sender opening of {tx.From} does not lead to root {root}.");

            var outcome = TransferRules.Evaluate(sender, tx, p.BaseFeePerGas);
            if (w.Status != outcome.Status)
            {
                var reason = w.Status != TransferStatus.Applied ? WitnessRejection.StatusMismatch : outcome.Status switch
                {
                    TransferStatus.FeeCapBelowBaseFee => WitnessRejection.FeeCapBelowBaseFee,
                    TransferStatus.NonceMismatch => WitnessRejection.NonceMismatch,
                    TransferStatus.InsufficientBalance => WitnessRejection.InsufficientBalance,
                    _ => WitnessRejection.StatusMismatch,
                };
                throw new WitnessRejectedException(reason, i, $"Declared {w.Status}, the rules give {outcome.Status} (sender balance {sender.Balance}, nonce {sender.Nonce}).");
            }

            if (w.EffectiveGasPrice != outcome.EffectiveGasPrice)
                throw new WitnessRejectedException(WitnessRejection.EffectiveGasPriceMismatch, i, $"Effective gas price {w.EffectiveGasPrice}, expected {outcome.EffectiveGasPrice}.");

            if (!outcome.Applied)
            {
                if (w.Receiver is not null)
                    throw new WitnessRejectedException(WitnessRejection.ReceiverOpeningMismatch, i, "A skipped transfer carries a receiver opening.");
            }
            else
            {
                if (w.Receiver is null)
                    throw new WitnessRejectedException(WitnessRejection.ReceiverOpeningMismatch, i, "An applied transfer lacks its receiver opening.");
                var senderAfter = new Account(sender.Balance - outcome.SenderDebit, sender.Nonce + 1);
                root = w.Sender.Path.ComputeRoot(hasher, tx.From, hasher.HashLeaf(senderAfter.Balance, senderAfter.Nonce));

                var receiver = w.Receiver.Before;
                CheckAccountRange(receiver, i, "receiver");
                if (w.Receiver.Path.ComputeRoot(hasher, tx.To, hasher.HashLeaf(receiver.Balance, receiver.Nonce)) != root)
                    throw new WitnessRejectedException(WitnessRejection.ReceiverPathMismatch, i, $"The receiver opening of {tx.To} does not lead to root {root}.");
                if (!TransferRules.TryAdd(receiver.Balance, tx.Value, out var credited))
                    throw new WitnessRejectedException(WitnessRejection.ReceiverBalanceOverflow, i, $"Receiver balance {receiver.Balance} + {tx.Value} passes 2^128 - 1.");
                root = w.Receiver.Path.ComputeRoot(hasher, tx.To, hasher.HashLeaf(credited, receiver.Nonce));
                tips += outcome.Tip;
            }

            if (w.StateRootAfter != root)
                throw new WitnessRejectedException(WitnessRejection.IntermediateRootMismatch, i, $"Root after the transfer is {root}, the witness says {w.StateRootAfter}.");
        }

        var fee = witness.FeeRecipient;
        if (fee.Tips != tips)
            throw new WitnessRejectedException(WitnessRejection.TipsMismatch, null, $"Tips {fee.Tips}, the transfers pay {tips}.");
        var recipient = fee.Opening.Before;
        CheckAccountRange(recipient, null, "fee recipient");
        if (fee.Opening.Path.ComputeRoot(hasher, p.FeeRecipient, hasher.HashLeaf(recipient.Balance, recipient.Nonce)) != root)
            throw new WitnessRejectedException(WitnessRejection.FeeRecipientPathMismatch, null, $"The fee recipient opening of {p.FeeRecipient} does not lead to root {root}.");
        if (!TransferRules.TryAdd(recipient.Balance, tips, out var paid))
            throw new WitnessRejectedException(WitnessRejection.ReceiverBalanceOverflow, null, "Fee recipient balance passes 2^128 - 1.");
        root = fee.Opening.Path.ComputeRoot(hasher, p.FeeRecipient, hasher.HashLeaf(paid, recipient.Nonce));
        if (witness.PostStateRoot != root)
            throw new WitnessRejectedException(WitnessRejection.PostStateRootMismatch, null, $"Post-state root is {root}, the witness says {witness.PostStateRoot}.");

        var commitment = BatchCommitment.Compute(hasher, p, witness.Transfers.Select(t => t.Transfer).ToList());
        if (witness.BatchCommitment != commitment)
            throw new WitnessRejectedException(WitnessRejection.BatchCommitmentMismatch, null, $"Batch commitment is {commitment}, the witness says {witness.BatchCommitment}.");
    }

    /// <summary>Like <see cref="Check"/>, returning the reason instead of throwing (null = valid).</summary>
    public static WitnessRejectedException? TryCheck(RollupHasher hasher, BatchWitness witness)
    {
        try
        {
            Check(hasher, witness);
            return null;
        }
        catch (WitnessRejectedException e)
        {
            return e;
        }
    }

    // A Transfer built through `with` skips its constructor, and a parsed witness is untrusted:
    // the static rules are checked again here, as the AIR must range-check them.
    private static void CheckStatic(Transfer tx, RollupParameters p, int index)
    {
        if (tx.ChainId != p.ChainId)
            throw new WitnessRejectedException(WitnessRejection.FieldOutOfRange, index, $"Chain id {tx.ChainId}, the batch is for {p.ChainId}.");
        if (tx.Nonce >= Account.MaxNonce)
            throw new WitnessRejectedException(WitnessRejection.FieldOutOfRange, index, $"Nonce {tx.Nonce} is at or above {Account.MaxNonce}.");
        if (tx.MaxPriorityFeePerGas > tx.MaxFeePerGas)
            throw new WitnessRejectedException(WitnessRejection.FieldOutOfRange, index, "maxPriorityFeePerGas is above maxFeePerGas.");
    }

    private static void CheckAccountRange(Account a, int? index, string role)
    {
        if (a.Nonce > Account.MaxNonce)
            throw new WitnessRejectedException(WitnessRejection.FieldOutOfRange, index, $"The {role}'s nonce {a.Nonce} is above {Account.MaxNonce}.");
    }
}
