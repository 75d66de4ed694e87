using Keel.Rollup.Execution;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Validation;

/// <summary>
/// What a sequencer validator checks for each transfer of a proposed block, in order, before it
/// votes: chain id, then nonce, fee cap and balance against the pending state, and then the
/// transfer's effects are applied to the pending state so that the next transfer sees them.
/// Signature, sender recovery and the static rules (type, no data, gas limit, 128-bit values) are
/// checked when the raw bytes are decoded (<see cref="TransferDecoder"/>). The rules are the
/// executor's (<see cref="TransferRules"/>), so a block that passes here executes with no skipped
/// transfer. Call <see cref="CloseBatch"/> after a block's last transfer.
/// </summary>
public sealed class TransferValidator
{
    private readonly RollupParameters _parameters;

    public TransferValidator(RollupParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters;
    }

    public RollupParameters Parameters => _parameters;

    /// <summary>
    /// Validates one namespace's transactions of a proposed block, in order, all or nothing: on
    /// success their effects (and the block's tips, credited as <see cref="CloseBatch"/> does) are
    /// in <paramref name="pending"/> and the batch commitment is returned for the namespace table;
    /// on the first refusal a <see cref="BatchValidationException"/> names the transaction and
    /// <paramref name="pending"/> is unchanged.
    /// </summary>
    public ValidatedBatch ValidateBatch(IReadOnlyList<ReadOnlyMemory<byte>> rawTransactions, PendingAccounts pending, Hashing.RollupHasher hasher)
    {
        ArgumentNullException.ThrowIfNull(rawTransactions);
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(hasher);
        if (rawTransactions.Count > BatchCommitment.MaxTransfers)
            throw new BatchValidationException(-1, new InvalidTransferException(TransferError.Malformed,
                $"A batch holds at most {BatchCommitment.MaxTransfers} transactions, got {rawTransactions.Count}."));
        var scratch = new PendingAccounts(pending);
        var commitment = new BatchCommitment(hasher, _parameters, rawTransactions.Count);
        var transfers = new List<Transfer>(rawTransactions.Count);
        for (int i = 0; i < rawTransactions.Count; i++)
        {
            try
            {
                var tx = ValidateAndApply(rawTransactions[i].Span, scratch);
                commitment.Add(tx);
                transfers.Add(tx);
            }
            catch (InvalidTransferException e)
            {
                throw new BatchValidationException(i, e);
            }
        }
        CloseBatch(scratch);
        scratch.MergeInto(pending);
        return new ValidatedBatch(transfers, commitment.Finish());
    }

    /// <summary>Decodes <paramref name="rawTransaction"/>, checks it against
    /// <paramref name="pending"/> and applies it there. Throws <see cref="InvalidTransferException"/>
    /// (with <see cref="TransferError"/>) and leaves <paramref name="pending"/> unchanged on refusal.</summary>
    public Transfer ValidateAndApply(ReadOnlySpan<byte> rawTransaction, PendingAccounts pending)
    {
        var tx = TransferDecoder.Decode(rawTransaction, _parameters.ChainId);
        ValidateAndApply(tx, pending);
        return tx;
    }

    /// <summary>Checks an already decoded transfer and applies it to <paramref name="pending"/>.</summary>
    public TransferOutcome ValidateAndApply(Transfer tx, PendingAccounts pending)
    {
        var outcome = Check(tx, pending);
        Apply(tx, outcome, pending);
        return outcome;
    }

    /// <summary>Checks without applying (for a mempool admission check). Throws on refusal.</summary>
    public TransferOutcome Check(Transfer tx, IAccountReader pending)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(pending);
        if (tx.ChainId != _parameters.ChainId)
            throw new InvalidTransferException(TransferError.WrongChainId, $"Transaction is for chain {tx.ChainId}; this rollup is chain {_parameters.ChainId}.");
        var sender = pending.GetAccount(tx.From);
        var outcome = TransferRules.Evaluate(sender, tx, _parameters.BaseFeePerGas);
        switch (outcome.Status)
        {
            case TransferStatus.Applied:
                return outcome;
            case TransferStatus.FeeCapBelowBaseFee:
                throw new InvalidTransferException(TransferError.FeeCapBelowBaseFee,
                    $"max fee per gas {tx.MaxFeePerGas} is below the base fee {_parameters.BaseFeePerGas}.");
            case TransferStatus.NonceMismatch when tx.Nonce < sender.Nonce:
                throw new InvalidTransferException(TransferError.NonceTooLow, $"nonce too low: next nonce {sender.Nonce}, transaction nonce {tx.Nonce}.");
            case TransferStatus.NonceMismatch:
                throw new InvalidTransferException(TransferError.NonceTooHigh, $"nonce too high: next nonce {sender.Nonce}, transaction nonce {tx.Nonce}.");
            default:
                string need = TransferRules.TryMaxCost(tx, out var cost) ? cost.ToString() : "more than 2^128 - 1";
                throw new InvalidTransferException(TransferError.InsufficientBalance,
                    $"insufficient funds for gas * price + value: balance {sender.Balance}, need {need}.");
        }
    }

    private void Apply(Transfer tx, TransferOutcome outcome, PendingAccounts pending)
    {
        var sender = pending.GetAccount(tx.From);
        pending.SetAccount(tx.From, new Account(sender.Balance - outcome.SenderDebit, sender.Nonce + 1));
        var receiver = pending.GetAccount(tx.To);
        if (!TransferRules.TryAdd(receiver.Balance, tx.Value, out var credited))
            throw new RollupInvariantException($"Balance of {tx.To} would pass 2^128 - 1.");
        pending.SetAccount(tx.To, receiver with { Balance = credited });
        // Tips reach the fee recipient only at the end of the batch, as in the executor: crediting
        // them here would let the recipient spend them in the same block and the executor skip it.
        pending.UncreditedTips += outcome.Tip;
    }

    /// <summary>Ends a batch in <paramref name="pending"/>: credits its tips to the fee recipient,
    /// as the executor does after the last transfer. Call it before validating the next block on
    /// the same overlay.</summary>
    public void CloseBatch(PendingAccounts pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var recipient = pending.GetAccount(_parameters.FeeRecipient);
        if (!TransferRules.TryAdd(recipient.Balance, pending.UncreditedTips, out var paid))
            throw new RollupInvariantException($"Balance of {_parameters.FeeRecipient} would pass 2^128 - 1.");
        pending.SetAccount(_parameters.FeeRecipient, recipient with { Balance = paid });
        pending.UncreditedTips = 0;
    }
}

/// <summary>A namespace's transactions of one block, validated, with their batch commitment.</summary>
public sealed record ValidatedBatch(IReadOnlyList<Transfer> Transfers, Hashing.Digest BatchCommitment);

/// <summary>A block's batch refused because of one transaction (index -1: the batch as a whole).</summary>
public sealed class BatchValidationException : RollupException
{
    public BatchValidationException(int index, InvalidTransferException inner)
        : base(index >= 0 ? $"Transaction {index} of the batch is invalid: {inner.Message}" : inner.Message, inner)
    {
        Index = index;
        Error = inner.Error;
    }

    public int Index { get; }

    public TransferError Error { get; }
}
