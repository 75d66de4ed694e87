using Keel.Core;
using Keel.Core.Crypto;
using Keel.Core.Ethereum;

namespace Keel.Rollup.Transactions;

/// <summary>
/// Decodes a signed Ethereum transaction (the bytes of <c>eth_sendRawTransaction</c>) into a
/// <see cref="Transfer"/>, or says precisely why it is not one. Accepted: legacy with EIP-155
/// replay protection, and EIP-1559 (type 2) with an empty access list; both with a recipient, no
/// data, a gas limit of at least 21000, low-s signatures, and value and fee caps below 2^128.
/// </summary>
public static class TransferDecoder
{
    /// <summary>Largest raw transaction accepted. A transfer is about 110 bytes; anything near this
    /// carries data and is refused anyway, so this only bounds the work done on hostile input.</summary>
    public const int MaxTransactionBytes = 2048;

    // secp256k1 group order / 2: EIP-2 forbids s above it (one valid signature per message and key).
    private static readonly UInt256 HalfOrder = UInt256.Parse("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");

    /// <summary>Decodes and recovers the sender; throws <see cref="InvalidTransferException"/>.</summary>
    public static Transfer Decode(ReadOnlySpan<byte> raw, ulong expectedChainId)
    {
        if (raw.Length == 0)
            throw new InvalidTransferException(TransferError.Malformed, "Empty transaction.");
        if (raw.Length > MaxTransactionBytes)
            throw new InvalidTransferException(TransferError.Malformed, $"Transaction of {raw.Length} bytes is above the limit of {MaxTransactionBytes}.");
        try
        {
            byte first = raw[0];
            if (first >= 0xc0)
                return DecodeLegacy(raw, expectedChainId);
            if (first == 2)
                return DecodeEip1559(raw, expectedChainId);
            if (first < 0x80)
                throw new InvalidTransferException(TransferError.UnsupportedType, $"Transaction type {first} is not supported: use legacy or EIP-1559 (type 2).");
            throw new InvalidTransferException(TransferError.Malformed, "A transaction is an RLP list or a typed envelope, not an RLP string.");
        }
        catch (RlpException e)
        {
            throw new InvalidTransferException(TransferError.Malformed, $"Malformed transaction: {e.Message}");
        }
    }

    private static Transfer DecodeLegacy(ReadOnlySpan<byte> raw, ulong expectedChainId)
    {
        var outer = new RlpReader(raw);
        var list = outer.ReadList("transaction");
        outer.EnsureEnd("transaction");
        var signed = new RlpWriter(raw.Length + 16);
        signed.StartList();
        var fields = list;
        ulong nonce = ReadNonce(ref fields, signed);
        UInt128 gasPrice = ReadFee(ref fields, signed, "gasPrice");
        ulong gasLimit = ReadGasLimit(ref fields, signed);
        Address to = ReadTo(ref fields, signed);
        UInt128 value = ReadValue(ref fields, signed);
        ReadEmptyData(ref fields, signed);
        ulong v = fields.ReadULong("v");
        var r = fields.ReadUInt256("r");
        var s = fields.ReadUInt256("s");
        fields.EnsureEnd("transaction fields");

        if (v is 27 or 28)
            throw new InvalidTransferException(TransferError.MissingChainId, "Transaction has no EIP-155 chain id (v = 27/28); sign it with the chain id.");
        if (v < 35)
            throw new InvalidTransferException(TransferError.InvalidSignature, $"Invalid v {v}.");
        ulong chainId = (v - 35) / 2;
        CheckChain(chainId, expectedChainId);
        signed.WriteULong(chainId).WriteULong(0).WriteULong(0).EndList();
        var from = Recover(signed.Written, r, s, (byte)((v - 35) % 2));
        return new Transfer(0, chainId, from, to, value, nonce, gasPrice, gasPrice, gasLimit, Keccak256.HashToHash32(raw));
    }

    private static Transfer DecodeEip1559(ReadOnlySpan<byte> raw, ulong expectedChainId)
    {
        var outer = new RlpReader(raw[1..]);
        var list = outer.ReadList("transaction");
        outer.EnsureEnd("transaction");
        var signed = new RlpWriter(raw.Length + 16);
        signed.StartList();
        var fields = list;
        ulong chainId = fields.ReadULong("chainId");
        CheckChain(chainId, expectedChainId);
        signed.WriteULong(chainId);
        ulong nonce = ReadNonce(ref fields, signed);
        UInt128 priority = ReadFee(ref fields, signed, "maxPriorityFeePerGas");
        UInt128 maxFee = ReadFee(ref fields, signed, "maxFeePerGas");
        ulong gasLimit = ReadGasLimit(ref fields, signed);
        Address to = ReadTo(ref fields, signed);
        UInt128 value = ReadValue(ref fields, signed);
        ReadEmptyData(ref fields, signed);
        var accessList = fields.ReadEncodedItem("accessList");
        if (accessList.Length == 0 || accessList[0] < 0xc0)
            throw new InvalidTransferException(TransferError.Malformed, "accessList must be an RLP list.");
        if (accessList.Length != 1)
            throw new InvalidTransferException(TransferError.AccessListNotSupported, "A transfer takes an empty access list (entries cost gas beyond 21000).");
        signed.WriteEncoded(accessList);
        ulong yParity = fields.ReadULong("yParity");
        var r = fields.ReadUInt256("r");
        var s = fields.ReadUInt256("s");
        fields.EnsureEnd("transaction fields");
        if (yParity > 1)
            throw new InvalidTransferException(TransferError.InvalidSignature, $"Invalid yParity {yParity}.");
        signed.EndList();
        var payload = new byte[1 + signed.Length];
        payload[0] = 2;
        signed.Written.CopyTo(payload.AsSpan(1));
        var from = Recover(payload, r, s, (byte)yParity);
        return new Transfer(2, chainId, from, to, value, nonce, maxFee, priority, gasLimit, Keccak256.HashToHash32(raw));
    }

    private static ulong ReadNonce(ref RlpReader fields, RlpWriter signed)
    {
        ulong nonce = fields.ReadULong("nonce");
        signed.WriteULong(nonce);
        return nonce;
    }

    private static UInt128 ReadFee(ref RlpReader fields, RlpWriter signed, string name)
    {
        var fee = fields.ReadUInt256(name);
        signed.WriteUInt256(fee);
        if (!fee.FitsInUInt128)
            throw new InvalidTransferException(TransferError.FeeTooLarge, $"{name} {fee} is above 2^128 - 1 wei.");
        return (UInt128)fee;
    }

    private static ulong ReadGasLimit(ref RlpReader fields, RlpWriter signed)
    {
        ulong gas = fields.ReadULong("gasLimit");
        signed.WriteULong(gas);
        return gas;
    }

    private static Address ReadTo(ref RlpReader fields, RlpWriter signed)
    {
        var to = fields.ReadOptionalAddress("to");
        if (to is not Address address)
            throw new InvalidTransferException(TransferError.ContractCreation, "Contract creation is not supported: this rollup only executes value transfers.");
        signed.WriteAddress(address);
        return address;
    }

    private static UInt128 ReadValue(ref RlpReader fields, RlpWriter signed)
    {
        var value = fields.ReadUInt256("value");
        signed.WriteUInt256(value);
        if (!value.FitsInUInt128)
            throw new InvalidTransferException(TransferError.ValueTooLarge, $"Value {value} is above 2^128 - 1 wei.");
        return (UInt128)value;
    }

    private static void ReadEmptyData(ref RlpReader fields, RlpWriter signed)
    {
        var data = fields.ReadBytes("data");
        if (data.Length != 0)
            throw new InvalidTransferException(TransferError.ContractCall, "Contract calls are not supported: this rollup only executes value transfers (data must be empty).");
        signed.WriteBytes([]);
    }

    private static void CheckChain(ulong chainId, ulong expected)
    {
        if (chainId != expected)
            throw new InvalidTransferException(TransferError.WrongChainId, $"Transaction is for chain {chainId}; this rollup is chain {expected}.");
    }

    private static Address Recover(ReadOnlySpan<byte> signingPayload, UInt256 r, UInt256 s, byte recoveryId)
    {
        if (r.IsZero || s.IsZero || s > HalfOrder)
            throw new InvalidTransferException(TransferError.InvalidSignature, "Invalid signature: r and s must be non-zero and s in the lower half of the curve order.");
        Span<byte> hash = stackalloc byte[32];
        Keccak256.Hash(signingPayload, hash);
        Span<byte> signature = stackalloc byte[65];
        r.WriteBigEndian(signature[..32]);
        s.WriteBigEndian(signature.Slice(32, 32));
        signature[64] = recoveryId;
        if (!Secp256k1.TryRecoverAddress(hash, signature, out var from))
            throw new InvalidTransferException(TransferError.InvalidSignature, "Invalid signature: no public key recovers from it.");
        return from;
    }
}
