namespace Keel.Rollup;

/// <summary>Base of every error the transfer rollup raises on purpose.</summary>
public class RollupException : Exception
{
    public RollupException(string message) : base(message) { }
    public RollupException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Why a transaction cannot enter the transfer rollup. The JSON-RPC layer maps these to
/// JSON-RPC errors; the sequencer uses them to refuse a proposal.</summary>
public enum TransferError
{
    Malformed,
    UnsupportedType,
    MissingChainId,
    WrongChainId,
    InvalidSignature,
    ContractCreation,
    ContractCall,
    AccessListNotSupported,
    GasLimitTooLow,
    GasLimitTooHigh,
    ValueTooLarge,
    FeeTooLarge,
    PriorityFeeAboveMaxFee,
    NonceLimit,
    NonceTooLow,
    NonceTooHigh,
    FeeCapBelowBaseFee,
    InsufficientBalance,
}

/// <summary>A transaction refused by decoding or by validation against pending state.</summary>
public sealed class InvalidTransferException : RollupException
{
    public InvalidTransferException(TransferError error, string message) : base(message) => Error = error;

    public TransferError Error { get; }
}

/// <summary>A witness file that cannot be parsed (bad JSON, missing field, out-of-range value,
/// unknown version). Distinct from <see cref="WitnessRejectedException"/>: this one never got
/// as far as checking.</summary>
public sealed class WitnessFormatException : RollupException
{
    public WitnessFormatException(string message) : base(message) { }
    public WitnessFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A broken internal invariant (for example a balance overflow that the genesis supply
/// limit makes impossible). Seeing one means a bug, not bad input.</summary>
public sealed class RollupInvariantException : RollupException
{
    public RollupInvariantException(string message) : base(message) { }
}
