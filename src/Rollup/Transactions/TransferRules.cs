using Keel.Rollup.State;

namespace Keel.Rollup.Transactions;

/// <summary>What executing a transfer against a sender's current account does. Order of checks
/// (the first failing one names the status): fee cap vs base fee, nonce, balance.</summary>
public enum TransferStatus
{
    Applied,
    FeeCapBelowBaseFee,
    NonceMismatch,
    InsufficientBalance,
}

/// <summary>The money a transfer moves. For a skipped transfer every amount is zero.</summary>
public readonly record struct TransferOutcome(
    TransferStatus Status,
    UInt128 EffectiveGasPrice,
    UInt128 SenderDebit,
    UInt128 Tip,
    UInt128 Burn)
{
    public bool Applied => Status == TransferStatus.Applied;

    public ulong GasUsed => Applied ? Transfer.IntrinsicGas : 0;
}

/// <summary>
/// The state-dependent rules of a transfer, written once and used by the validator (against the
/// pending map), the executor (against the tree state) and the witness checker (against the
/// witness): three callers, one rule set.
/// </summary>
public static class TransferRules
{
    /// <summary>min(maxFeePerGas, baseFee + maxPriorityFeePerGas), saturating at 2^128 - 1. For a
    /// legacy transaction this is its gas price.</summary>
    public static UInt128 EffectiveGasPrice(Transfer tx, UInt128 baseFeePerGas)
    {
        UInt128 capped = TryAdd(baseFeePerGas, tx.MaxPriorityFeePerGas, out var sum) ? sum : UInt128.MaxValue;
        return UInt128.Min(tx.MaxFeePerGas, capped);
    }

    /// <summary>value + 21000 * maxFeePerGas, the amount the sender must hold; false when it does
    /// not fit in 128 bits (then no balance can cover it).</summary>
    public static bool TryMaxCost(Transfer tx, out UInt128 cost)
    {
        cost = 0;
        return TryMul(tx.MaxFeePerGas, Transfer.IntrinsicGas, out var maxFee) && TryAdd(tx.Value, maxFee, out cost);
    }

    public static TransferOutcome Evaluate(Account sender, Transfer tx, UInt128 baseFeePerGas)
    {
        var price = EffectiveGasPrice(tx, baseFeePerGas);
        if (tx.MaxFeePerGas < baseFeePerGas)
            return new TransferOutcome(TransferStatus.FeeCapBelowBaseFee, price, 0, 0, 0);
        if (sender.Nonce != tx.Nonce)
            return new TransferOutcome(TransferStatus.NonceMismatch, price, 0, 0, 0);
        if (!TryMaxCost(tx, out var maxCost) || sender.Balance < maxCost)
            return new TransferOutcome(TransferStatus.InsufficientBalance, price, 0, 0, 0);
        // price <= maxFee and value + 21000 * maxFee fits, so none of these can overflow.
        UInt128 fee = price * Transfer.IntrinsicGas;
        UInt128 burn = baseFeePerGas * Transfer.IntrinsicGas;
        return new TransferOutcome(TransferStatus.Applied, price, tx.Value + fee, fee - burn, burn);
    }

    public static bool TryAdd(UInt128 a, UInt128 b, out UInt128 sum)
    {
        sum = a + b;
        return sum >= a;
    }

    public static bool TryMul(UInt128 a, ulong b, out UInt128 product)
    {
        product = 0;
        if (b != 0 && a > UInt128.MaxValue / b)
            return false;
        product = a * b;
        return true;
    }
}
