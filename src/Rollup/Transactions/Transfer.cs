using Keel.Core;
using Keel.Rollup.State;

namespace Keel.Rollup.Transactions;

/// <summary>
/// A decoded, sender-recovered value transfer: everything execution and the witness need. The
/// constructor enforces the static rules (fee caps ordered, nonce in range), so a Transfer that
/// exists is well formed; whether it is executable depends on state (see <see cref="TransferRules"/>).
/// For a legacy transaction MaxFeePerGas = MaxPriorityFeePerGas = gasPrice, which makes the
/// EIP-1559 formulas give the legacy result.
/// </summary>
public sealed record Transfer
{
    /// <summary>Gas every transfer uses, and the only gas the rollup ever charges.</summary>
    public const ulong IntrinsicGas = 21_000;

    /// <summary>Largest gas limit accepted (anvil's default block gas limit): a larger one is a
    /// mistake, since only 21,000 is ever used.</summary>
    public const ulong MaxGasLimit = 30_000_000;

    public Transfer(byte type, ulong chainId, Address from, Address to, UInt128 value, ulong nonce,
        UInt128 maxFeePerGas, UInt128 maxPriorityFeePerGas, ulong gasLimit, Hash32 hash)
    {
        if (type != 0 && type != 2)
            throw new InvalidTransferException(TransferError.UnsupportedType, $"Transaction type {type} is not supported: use legacy (0) or EIP-1559 (2).");
        if (nonce >= Account.MaxNonce)
            throw new InvalidTransferException(TransferError.NonceLimit, $"Nonce {nonce} is at or above the rollup's limit {Account.MaxNonce}.");
        if (maxPriorityFeePerGas > maxFeePerGas)
            throw new InvalidTransferException(TransferError.PriorityFeeAboveMaxFee, $"maxPriorityFeePerGas {maxPriorityFeePerGas} is above maxFeePerGas {maxFeePerGas}.");
        if (gasLimit < IntrinsicGas)
            throw new InvalidTransferException(TransferError.GasLimitTooLow, $"Gas limit {gasLimit} is below the 21000 a transfer needs.");
        if (gasLimit > MaxGasLimit)
            throw new InvalidTransferException(TransferError.GasLimitTooHigh, $"Gas limit {gasLimit} is above the maximum {MaxGasLimit}.");
        Type = type;
        ChainId = chainId;
        From = from;
        To = to;
        Value = value;
        Nonce = nonce;
        MaxFeePerGas = maxFeePerGas;
        MaxPriorityFeePerGas = maxPriorityFeePerGas;
        GasLimit = gasLimit;
        Hash = hash;
    }

    /// <summary>0 = legacy (EIP-155), 2 = EIP-1559.</summary>
    public byte Type { get; }
    public ulong ChainId { get; }
    public Address From { get; }
    public Address To { get; init; }
    public UInt128 Value { get; init; }
    public ulong Nonce { get; init; }
    public UInt128 MaxFeePerGas { get; }
    public UInt128 MaxPriorityFeePerGas { get; }
    public ulong GasLimit { get; }

    /// <summary>Keccak-256 of the signed encoding (informational in the witness; not proven).</summary>
    public Hash32 Hash { get; }
}
