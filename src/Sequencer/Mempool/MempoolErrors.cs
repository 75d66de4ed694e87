using Keel.Core;
using Keel.Rollup;

namespace Keel.Sequencer.Mempool;

/// <summary>Why a mempool refused or dropped a transaction.</summary>
public enum MempoolError
{
    UnknownNamespace,
    /// <summary>Not a decodable transaction (bad RLP, empty, unsupported shape).</summary>
    Malformed,
    TxTypeNotSupported,
    InvalidChainId,
    InvalidSender,
    /// <summary>Contract creation, contract call or an access list: the transfer rollup only moves value.</summary>
    NotATransfer,
    IntrinsicGasTooLow,
    ExceedsBlockGasLimit,
    TipAboveFeeCap,
    /// <summary>A value or fee beyond what the rollup's 128-bit balances can carry, or a nonce at the rollup's limit.</summary>
    ValueOutOfRange,
    FeeCapBelowBaseFee,
    AlreadyKnown,
    NonceTooLow,
    /// <summary>More than the namespace's nonce gap ahead of the sender's committed nonce.</summary>
    NonceTooHigh,
    ReplacementUnderpriced,
    InsufficientFunds,
    Oversized,
    /// <summary>The namespace's mempool holds its limit of transactions or bytes.</summary>
    PoolFull,
    /// <summary>The sender holds its limit of queued transactions.</summary>
    AccountLimitExceeded,
    /// <summary>Dropped after a commit: a transaction with the same sender and nonce was included instead.</summary>
    NonceUsed,
    /// <summary>Dropped because a higher-priced transaction with the same sender and nonce replaced it.</summary>
    Replaced,
}

/// <summary>
/// A transaction the mempool refused. <see cref="RpcMessage"/> is the text Ethereum clients show for
/// this case (geth's wording), for the JSON-RPC error's message; <see cref="Exception.Message"/> adds
/// the details.
/// </summary>
public sealed class MempoolRejectedException(MempoolError error, string detail, TransferError? transferError = null)
    : SequencerException($"{Mempool.RpcMessages.For(error)}: {detail}")
{
    /// <summary>The JSON-RPC error code geth uses for transaction pool refusals.</summary>
    public const int RpcCode = -32000;

    public MempoolError Error { get; } = error;

    public string RpcMessage { get; } = Mempool.RpcMessages.For(error);

    /// <summary>The rollup's finer reason when decoding or rule checks refused the transaction.</summary>
    public TransferError? TransferError { get; } = transferError;
}

/// <summary>Ethereum's usual messages for each refusal (as geth words them, where geth has one).</summary>
public static class RpcMessages
{
    public static string For(MempoolError error) => error switch
    {
        MempoolError.UnknownNamespace => "unknown chain id",
        MempoolError.Malformed => "invalid transaction",
        MempoolError.TxTypeNotSupported => "transaction type not supported",
        MempoolError.InvalidChainId => "invalid chain id for signer",
        MempoolError.InvalidSender => "invalid sender",
        MempoolError.NotATransfer => "only value transfers are supported",
        MempoolError.IntrinsicGasTooLow => "intrinsic gas too low",
        MempoolError.ExceedsBlockGasLimit => "exceeds block gas limit",
        MempoolError.TipAboveFeeCap => "max priority fee per gas higher than max fee per gas",
        MempoolError.ValueOutOfRange => "value out of range",
        MempoolError.FeeCapBelowBaseFee => "max fee per gas less than block base fee",
        MempoolError.AlreadyKnown => "already known",
        MempoolError.NonceTooLow => "nonce too low",
        MempoolError.NonceTooHigh => "nonce too high",
        MempoolError.ReplacementUnderpriced => "replacement transaction underpriced",
        MempoolError.InsufficientFunds => "insufficient funds for gas * price + value",
        MempoolError.Oversized => "oversized data",
        MempoolError.PoolFull => "txpool is full",
        MempoolError.AccountLimitExceeded => "account limit exceeded",
        MempoolError.NonceUsed => "nonce too low",
        MempoolError.Replaced => "replaced by a higher-priced transaction",
        _ => "transaction rejected",
    };

    /// <summary>The mempool error for a rollup decoding or rule refusal.</summary>
    public static MempoolError FromTransferError(TransferError error) => error switch
    {
        Rollup.TransferError.UnsupportedType => MempoolError.TxTypeNotSupported,
        Rollup.TransferError.MissingChainId or Rollup.TransferError.WrongChainId => MempoolError.InvalidChainId,
        Rollup.TransferError.InvalidSignature => MempoolError.InvalidSender,
        Rollup.TransferError.ContractCreation or Rollup.TransferError.ContractCall or Rollup.TransferError.AccessListNotSupported => MempoolError.NotATransfer,
        Rollup.TransferError.GasLimitTooLow => MempoolError.IntrinsicGasTooLow,
        Rollup.TransferError.GasLimitTooHigh => MempoolError.ExceedsBlockGasLimit,
        Rollup.TransferError.ValueTooLarge or Rollup.TransferError.FeeTooLarge or Rollup.TransferError.NonceLimit => MempoolError.ValueOutOfRange,
        Rollup.TransferError.PriorityFeeAboveMaxFee => MempoolError.TipAboveFeeCap,
        Rollup.TransferError.NonceTooLow => MempoolError.NonceTooLow,
        Rollup.TransferError.NonceTooHigh => MempoolError.NonceTooHigh,
        Rollup.TransferError.FeeCapBelowBaseFee => MempoolError.FeeCapBelowBaseFee,
        Rollup.TransferError.InsufficientBalance => MempoolError.InsufficientFunds,
        _ => MempoolError.Malformed,
    };
}

/// <summary>What a successful submission did.</summary>
public readonly record struct SubmitResult(Hash32 Hash, Hash32? Replaced);

/// <summary>A transaction that left the mempool without being included, and why.</summary>
public sealed record DroppedTransaction(Hash32 Hash, MempoolError Reason, string Detail);

/// <summary>One namespace's mempool, as the node's JSON-RPC and gossip layers use it. Thread-safe.</summary>
public interface INamespaceMempool
{
    Namespaces.NamespaceConfig Config { get; }

    int Count { get; }

    long Bytes { get; }

    /// <summary>Admits a raw transaction or throws <see cref="MempoolRejectedException"/>.</summary>
    SubmitResult Submit(ReadOnlySpan<byte> raw);

    bool Contains(Hash32 hash);

    /// <summary>The raw bytes of a pooled transaction.</summary>
    bool TryGetRaw(Hash32 hash, out byte[] raw);

    /// <summary>Why a recently dropped transaction left (bounded memory: the last few thousand).</summary>
    bool TryGetDropped(Hash32 hash, out DroppedTransaction dropped);

    /// <summary>Whether something could go into the next block now.</summary>
    bool HasReady { get; }
}

/// <summary>A bounded memory of dropped transactions, oldest forgotten first.</summary>
internal sealed class DropLog
{
    private readonly Dictionary<Hash32, DroppedTransaction> _byHash = [];
    private readonly Queue<Hash32> _order = new();

    public void Add(DroppedTransaction dropped)
    {
        if (_byHash.TryAdd(dropped.Hash, dropped))
        {
            _order.Enqueue(dropped.Hash);
            while (_order.Count > SequencerLimits.MaxRememberedDrops)
            {
                _byHash.Remove(_order.Dequeue());
            }
        }
    }

    public bool TryGet(Hash32 hash, out DroppedTransaction dropped) => _byHash.TryGetValue(hash, out dropped!);

    public void Forget(Hash32 hash) => _byHash.Remove(hash);
}
