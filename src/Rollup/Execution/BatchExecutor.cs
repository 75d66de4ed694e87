using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Witness;

namespace Keel.Rollup.Execution;

/// <summary>What executing one committed batch produced.</summary>
public sealed record BatchResult(
    IReadOnlyList<TransferReceipt> Receipts,
    Digest PreStateRoot,
    Digest PostStateRoot,
    Digest BatchCommitment,
    UInt128 Burned,
    BatchWitness Witness);

/// <summary>
/// Executes committed batches of one namespace against its <see cref="AccountState"/>, in order.
/// A transfer that cannot execute when its turn comes (nonce mismatch, balance short, fee cap
/// below base fee) is skipped: failed receipt, no gas, no state change; the witness still opens
/// its sender so that the proof shows the skip was forced. Nothing is ever excluded, since the
/// batch commitment already covers the whole ordered list.
/// </summary>
public sealed class BatchExecutor
{
    private readonly AccountState _state;

    public BatchExecutor(AccountState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _state = state;
    }

    public AccountState State => _state;

    public BatchResult Execute(RollupParameters parameters, IReadOnlyList<Transfer> transfers)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(transfers);
        if (transfers.Count > BatchCommitment.MaxTransfers)
            throw new RollupException($"A batch holds at most {BatchCommitment.MaxTransfers} transfers, got {transfers.Count}.");
        foreach (var tx in transfers)
        {
            if (tx.ChainId != parameters.ChainId)
                throw new RollupException($"Transfer {tx.Hash} is for chain {tx.ChainId}, the batch for chain {parameters.ChainId}.");
        }

        var hasher = _state.Hasher;
        var commitment = BatchCommitment.Compute(hasher, parameters, transfers);
        var preRoot = _state.Root;
        var receipts = new List<TransferReceipt>(transfers.Count);
        var witnesses = new List<TransferWitness>(transfers.Count);
        UInt128 tips = 0, burned = 0;
        ulong cumulativeGas = 0;

        for (int i = 0; i < transfers.Count; i++)
        {
            var tx = transfers[i];
            var sender = _state.GetAccount(tx.From);
            var senderOpening = new AccountOpening(sender, _state.GetPath(tx.From));
            var outcome = TransferRules.Evaluate(sender, tx, parameters.BaseFeePerGas);
            AccountOpening? receiverOpening = null;
            if (outcome.Applied)
            {
                _state.SetAccount(tx.From, new Account(sender.Balance - outcome.SenderDebit, sender.Nonce + 1));
                var receiver = _state.GetAccount(tx.To);
                receiverOpening = new AccountOpening(receiver, _state.GetPath(tx.To));
                if (!TransferRules.TryAdd(receiver.Balance, tx.Value, out var credited))
                    throw new RollupInvariantException($"Balance of {tx.To} would pass 2^128 - 1; the genesis supply limit should make this impossible.");
                _state.SetAccount(tx.To, receiver with { Balance = credited });
                tips += outcome.Tip;
                burned += outcome.Burn;
            }
            cumulativeGas += outcome.GasUsed;
            receipts.Add(new TransferReceipt(tx.Hash, i, tx.Type, tx.From, tx.To, outcome.Status,
                outcome.GasUsed, cumulativeGas, outcome.EffectiveGasPrice));
            witnesses.Add(new TransferWitness(tx, outcome.Status, outcome.EffectiveGasPrice, senderOpening, receiverOpening, _state.Root));
        }

        var recipient = _state.GetAccount(parameters.FeeRecipient);
        var feeOpening = new FeeRecipientWitness(new AccountOpening(recipient, _state.GetPath(parameters.FeeRecipient)), tips);
        if (!TransferRules.TryAdd(recipient.Balance, tips, out var paid))
            throw new RollupInvariantException($"Balance of fee recipient {parameters.FeeRecipient} would pass 2^128 - 1.");
        _state.SetAccount(parameters.FeeRecipient, recipient with { Balance = paid });

        var postRoot = _state.Root;
        var witness = new BatchWitness(parameters, preRoot, witnesses, feeOpening, postRoot, commitment);
        return new BatchResult(receipts, preRoot, postRoot, commitment, burned, witness);
    }
}
