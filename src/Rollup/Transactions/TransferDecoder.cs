using Keel.Core;
using Keel.Core.Ethereum;

namespace Keel.Rollup.Transactions;

/// <summary>
/// Turns a signed Ethereum transaction (the bytes of <c>eth_sendRawTransaction</c>, decoded by
/// Keel.Core's <see cref="Transaction"/>) into a <see cref="Transfer"/>, or says precisely why it is
/// not one. Accepted: legacy with EIP-155 replay protection, and EIP-1559 (type 2) with an empty
/// access list; both with a recipient, no data, a gas limit in [21000, 30M], value and fee caps
/// below 2^128 and a nonce below 2^32 - 1. Core's decoding already enforces canonical RLP,
/// signature ranges and low s (EIP-2) and priority fee &lt;= max fee.
/// </summary>
public static class TransferDecoder
{
    /// <summary>Largest raw transaction accepted. A transfer is about 110 bytes; anything near this
    /// carries data and is refused anyway, so this only bounds the work done on hostile input
    /// (far below Core's general 128 KiB limit).</summary>
    public const int MaxTransactionBytes = 2048;

    /// <summary>Decodes and recovers the sender; throws <see cref="InvalidTransferException"/>.</summary>
    public static Transfer Decode(ReadOnlySpan<byte> raw, ulong expectedChainId)
    {
        if (raw.Length == 0)
            throw new InvalidTransferException(TransferError.Malformed, "Empty transaction.");
        if (raw.Length > MaxTransactionBytes)
            throw new InvalidTransferException(TransferError.Malformed, $"Transaction of {raw.Length} bytes is above the limit of {MaxTransactionBytes}.");
        if (raw[0] < 0x80 && raw[0] != (byte)TransactionType.Eip1559)
            throw new InvalidTransferException(TransferError.UnsupportedType, $"Transaction type {raw[0]} is not supported: use legacy or EIP-1559 (type 2).");
        Transaction tx;
        try
        {
            // The chain id is checked below, so that a missing one gets its own error code.
            tx = Transaction.Decode(raw);
        }
        catch (TransactionDecodeException e)
        {
            throw new InvalidTransferException(TransferError.Malformed, $"Invalid transaction: {e.Message}.");
        }
        return FromTransaction(tx, expectedChainId);
    }

    /// <summary>The rollup's rules over an already decoded transaction (for a caller, such as the
    /// JSON-RPC layer, that decoded it for other reasons).</summary>
    public static Transfer FromTransaction(Transaction tx, ulong expectedChainId)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (tx.ChainId is not ulong chainId)
            throw new InvalidTransferException(TransferError.MissingChainId, "Transaction has no EIP-155 chain id (v = 27/28); sign it with the chain id.");
        if (chainId != expectedChainId)
            throw new InvalidTransferException(TransferError.WrongChainId, $"Transaction is for chain {chainId}; this rollup is chain {expectedChainId}.");
        if (tx.To is not Address to)
            throw new InvalidTransferException(TransferError.ContractCreation, "Contract creation is not supported: this rollup only executes value transfers.");
        if (!tx.Data.IsEmpty)
            throw new InvalidTransferException(TransferError.ContractCall, "Contract calls are not supported: this rollup only executes value transfers (data must be empty).");
        if (tx.AccessList.Count != 0)
            throw new InvalidTransferException(TransferError.AccessListNotSupported, "A transfer takes an empty access list (entries cost gas beyond 21000).");
        if (!tx.Value.FitsInUInt128)
            throw new InvalidTransferException(TransferError.ValueTooLarge, $"Value {tx.Value} is above 2^128 - 1 wei.");
        bool legacy = tx.Type == TransactionType.Legacy;
        var maxFee = legacy ? tx.GasPrice : tx.MaxFeePerGas;
        var priority = legacy ? tx.GasPrice : tx.MaxPriorityFeePerGas;
        if (!maxFee.FitsInUInt128 || !priority.FitsInUInt128)
            throw new InvalidTransferException(TransferError.FeeTooLarge, $"{(legacy ? "gasPrice" : "maxFeePerGas")} {maxFee} is above 2^128 - 1 wei.");
        if (!tx.TryRecoverSender(out var from))
            throw new InvalidTransferException(TransferError.InvalidSignature, "Invalid signature: no sender can be recovered from it.");
        return new Transfer((byte)tx.Type, chainId, from, to, (UInt128)tx.Value, tx.Nonce,
            (UInt128)maxFee, (UInt128)priority, tx.GasLimit, tx.Hash);
    }
}
