using Keel.Core;
using Keel.Core.Crypto;
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
}

/// <summary>Signs legacy (EIP-155) and EIP-1559 transactions with a secp256k1 key, producing the
/// raw bytes a wallet would send to <c>eth_sendRawTransaction</c>.</summary>
public static class TransactionSigner
{
    public static byte[] Sign(UnsignedTransaction tx, ReadOnlySpan<byte> privateKey32)
    {
        ArgumentNullException.ThrowIfNull(tx);
        return tx.Type switch
        {
            0 => SignLegacy(tx, privateKey32),
            2 => SignEip1559(tx, privateKey32),
            _ => throw new ArgumentException($"Cannot sign transaction type {tx.Type}.", nameof(tx)),
        };
    }

    private static byte[] SignLegacy(UnsignedTransaction tx, ReadOnlySpan<byte> key)
    {
        var w = new RlpWriter();
        w.StartList();
        WriteLegacyFields(w, tx);
        w.WriteULong(tx.ChainId).WriteULong(0).WriteULong(0).EndList();
        var sig = SignHash(w.Written, key);
        w.Clear();
        w.StartList();
        WriteLegacyFields(w, tx);
        w.WriteULong(tx.ChainId * 2 + 35 + sig[64]);
        WriteSignature(w, sig);
        w.EndList();
        return w.ToArray();
    }

    private static void WriteLegacyFields(RlpWriter w, UnsignedTransaction tx) =>
        w.WriteULong(tx.Nonce).WriteUInt256(tx.MaxFeePerGas).WriteULong(tx.GasLimit)
            .WriteOptionalAddress(tx.To).WriteUInt256(tx.Value).WriteBytes(tx.Data);

    private static byte[] SignEip1559(UnsignedTransaction tx, ReadOnlySpan<byte> key)
    {
        var w = new RlpWriter();
        w.StartList();
        Write1559Fields(w, tx);
        w.EndList();
        var payload = Typed(w.Written);
        var sig = SignHash(payload, key);
        w.Clear();
        w.StartList();
        Write1559Fields(w, tx);
        w.WriteULong(sig[64]);
        WriteSignature(w, sig);
        w.EndList();
        return Typed(w.Written);
    }

    private static void Write1559Fields(RlpWriter w, UnsignedTransaction tx)
    {
        w.WriteULong(tx.ChainId).WriteULong(tx.Nonce).WriteUInt256(tx.MaxPriorityFeePerGas)
            .WriteUInt256(tx.MaxFeePerGas).WriteULong(tx.GasLimit).WriteOptionalAddress(tx.To)
            .WriteUInt256(tx.Value).WriteBytes(tx.Data);
        w.StartList().EndList();
    }

    private static byte[] Typed(ReadOnlySpan<byte> rlp)
    {
        var payload = new byte[1 + rlp.Length];
        payload[0] = 2;
        rlp.CopyTo(payload.AsSpan(1));
        return payload;
    }

    private static byte[] SignHash(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> key) =>
        Secp256k1.SignRecoverable(Keccak256.Hash(payload), key);

    private static void WriteSignature(RlpWriter w, byte[] sig) =>
        w.WriteUInt256(UInt256.FromBigEndian(sig.AsSpan(0, 32))).WriteUInt256(UInt256.FromBigEndian(sig.AsSpan(32, 32)));
}
