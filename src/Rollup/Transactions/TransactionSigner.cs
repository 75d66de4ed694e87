using Keel.Core;
using Keel.Core.Ethereum;

namespace Keel.Rollup.Transactions;

/// <summary>
/// The fields of a transaction to sign. Deliberately general (optional recipient, data): tests and
/// load generators build refused transactions with it too. For a legacy transaction
/// <see cref="MaxFeePerGas"/> is the gas price and <see cref="MaxPriorityFeePerGas"/> is ignored.
/// </summary>
public sealed record UnsignedTransaction(
    byte Type,
    ulong ChainId,
    ulong Nonce,
    Address? To,
    UInt256 Value,
    UInt256 MaxFeePerGas,
    UInt256 MaxPriorityFeePerGas,
    ulong GasLimit = Transfer.IntrinsicGas)
{
    public byte[] Data { get; init; } = [];

    /// <summary>The same fields as Keel.Core's unsigned <see cref="Transaction"/>.</summary>
    public Transaction ToTransaction() => new()
    {
        Type = (TransactionType)Type,
        ChainId = ChainId,
        Nonce = Nonce,
        GasPrice = Type == 0 ? MaxFeePerGas : UInt256.Zero,
        MaxFeePerGas = Type == 0 ? UInt256.Zero : MaxFeePerGas,
        MaxPriorityFeePerGas = Type == 0 ? UInt256.Zero : MaxPriorityFeePerGas,
        GasLimit = GasLimit,
        To = To,
        Value = Value,
        Data = Data,
    };
}

/// <summary>A shorthand over Keel.Core's <see cref="Transaction.Sign"/>: the raw bytes a wallet
/// would send to <c>eth_sendRawTransaction</c> (legacy EIP-155 or EIP-1559).</summary>
public static class TransactionSigner
{
    public static byte[] Sign(UnsignedTransaction tx, ReadOnlySpan<byte> privateKey32)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (tx.Type is not (0 or 2))
            throw new ArgumentException($"Cannot sign transaction type {tx.Type}.", nameof(tx));
        return tx.ToTransaction().Sign(privateKey32).Encode();
    }
}
