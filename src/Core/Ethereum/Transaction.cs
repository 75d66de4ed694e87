using System.Runtime.CompilerServices;
using Keel.Core.Crypto;

namespace Keel.Core.Ethereum;

public enum TransactionType : byte
{
    /// <summary>The original RLP list; EIP-155 adds replay protection through v.</summary>
    Legacy = 0,

    /// <summary>EIP-1559: 0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList, yParity, r, s]).</summary>
    Eip1559 = 2,
}

/// <summary>One entry of an EIP-2930 access list (carried by EIP-1559 transactions).</summary>
public sealed record AccessListEntry(Address Address, IReadOnlyList<Hash32> StorageKeys)
{
    public bool Equals(AccessListEntry? other) =>
        other is not null && Address == other.Address && StorageKeys.SequenceEqual(other.StorageKeys);

    public override int GetHashCode() => HashCode.Combine(Address, StorageKeys.Count);
}

/// <summary>An ECDSA signature as a transaction carries it: y parity (the recovery id), r and s.</summary>
public readonly record struct TransactionSignature(byte YParity, UInt256 R, UInt256 S)
{
    /// <summary>r ‖ s ‖ yParity, the form <see cref="Secp256k1"/> recovers from.</summary>
    public byte[] ToBytes65()
    {
        var bytes = new byte[Secp256k1.RecoverableSignatureSize];
        R.WriteBigEndian(bytes);
        S.WriteBigEndian(bytes.AsSpan(32));
        bytes[64] = YParity;
        return bytes;
    }

    public static TransactionSignature FromBytes65(ReadOnlySpan<byte> signature65)
    {
        if (signature65.Length != Secp256k1.RecoverableSignatureSize)
        {
            throw new ArgumentException($"a recoverable signature has {Secp256k1.RecoverableSignatureSize} bytes", nameof(signature65));
        }
        return new TransactionSignature(signature65[64], UInt256.FromBigEndian(signature65[..32]), UInt256.FromBigEndian(signature65[32..64]));
    }
}

/// <summary>
/// An Ethereum transaction: legacy (with or without EIP-155) or EIP-1559. Immutable once built;
/// the hash and the recovered sender are computed once and kept.
/// </summary>
public sealed class Transaction
{
    /// <summary>Largest encoded transaction accepted, as public mempools of L1 clients cap it (128 KiB).</summary>
    public const int MaxEncodedBytes = 128 * 1024;

    /// <summary>secp256k1's group order n: r and s lie in [1, n-1], and s in [1, n/2] (EIP-2).</summary>
    public static readonly UInt256 SecpOrder = UInt256.Parse("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    private static readonly UInt256 SecpHalfOrder = SecpOrder / 2UL;

    // Kept in boxes: a reference is published atomically, so a transaction shared between threads
    // never shows a half-written cached value.
    private byte[]? _encoded;
    private StrongBox<Hash32>? _hash;
    private StrongBox<Address>? _sender;

    public TransactionType Type { get; init; } = TransactionType.Eip1559;

    /// <summary>The chain id; null only for a legacy transaction signed before EIP-155 (no replay protection).</summary>
    public ulong? ChainId { get; init; }

    public ulong Nonce { get; init; }

    /// <summary>Legacy transactions only.</summary>
    public UInt256 GasPrice { get; init; }

    /// <summary>EIP-1559 only.</summary>
    public UInt256 MaxPriorityFeePerGas { get; init; }

    /// <summary>EIP-1559 only.</summary>
    public UInt256 MaxFeePerGas { get; init; }

    public ulong GasLimit { get; init; }

    /// <summary>The recipient; null creates a contract from <see cref="Data"/>.</summary>
    public Address? To { get; init; }

    public UInt256 Value { get; init; }

    /// <summary>Call data, or init code for a contract creation. Read-only: the transaction's hash depends on it.</summary>
    public ReadOnlyMemory<byte> Data { get; init; } = ReadOnlyMemory<byte>.Empty;

    /// <summary>EIP-1559 only (empty for legacy).</summary>
    public IReadOnlyList<AccessListEntry> AccessList { get; init; } = [];

    /// <summary>Null while unsigned.</summary>
    public TransactionSignature? Signature { get; init; }

    public bool IsContractCreation => To is null;

    /// <summary>The v a legacy transaction carries (27/28, or chainId * 2 + 35/36); the y parity for typed ones.</summary>
    public UInt256 V => Signature is not { } sig ? UInt256.Zero
        : Type != TransactionType.Legacy ? sig.YParity
        : ChainId is { } id ? (UInt256)id * 2UL + (35UL + sig.YParity)
        : 27UL + sig.YParity;

    /// <summary>What the sender pays per gas at most: GasPrice for legacy, MaxFeePerGas for EIP-1559.</summary>
    public UInt256 MaxGasPrice => Type == TransactionType.Legacy ? GasPrice : MaxFeePerGas;

    // ------------------------------------------------------------------ hashes and signing

    /// <summary>The hash the sender signs (EIP-155 payload for legacy with a chain id).</summary>
    public Hash32 SigningHash()
    {
        var writer = new RlpWriter(256 + Data.Length);
        if (Type == TransactionType.Legacy)
        {
            writer.StartList();
            WriteLegacyFields(writer);
            if (ChainId is { } id)
            {
                writer.WriteULong(id).WriteULong(0).WriteULong(0);
            }
            writer.EndList();
            return Keccak256.HashToHash32(writer.Written);
        }
        writer.WriteEncoded([(byte)Type]).StartList();
        WriteEip1559Fields(writer);
        writer.EndList();
        return Keccak256.HashToHash32(writer.Written);
    }

    /// <summary>The transaction hash: Keccak-256 of the signed encoding.</summary>
    /// <exception cref="TransactionSignatureException">not signed</exception>
    public Hash32 Hash => (_hash ??= new StrongBox<Hash32>(Keccak256.HashToHash32(EncodedBytes))).Value;

    /// <summary>A signed copy. Signing needs a chain id except for a deliberately pre-EIP-155 legacy transaction.</summary>
    public Transaction Sign(ReadOnlySpan<byte> privateKey32)
    {
        if (Type == TransactionType.Eip1559 && ChainId is null)
        {
            throw new InvalidOperationException("an EIP-1559 transaction needs a chain id");
        }
        var hash = SigningHash();
        Span<byte> signature = stackalloc byte[Secp256k1.RecoverableSignatureSize];
        Secp256k1.SignRecoverable(hash.Bytes, privateKey32, signature);
        return WithSignature(TransactionSignature.FromBytes65(signature));
    }

    public Transaction WithSignature(TransactionSignature signature) => new()
    {
        Type = Type,
        ChainId = ChainId,
        Nonce = Nonce,
        GasPrice = GasPrice,
        MaxPriorityFeePerGas = MaxPriorityFeePerGas,
        MaxFeePerGas = MaxFeePerGas,
        GasLimit = GasLimit,
        To = To,
        Value = Value,
        Data = Data,
        AccessList = AccessList,
        Signature = signature,
    };

    /// <summary>The sender, recovered from the signature (once; later calls return the kept value).</summary>
    /// <exception cref="TransactionSignatureException">unsigned, or the signature yields no public key</exception>
    public Address RecoverSender() =>
        TryRecoverSender(out var sender) ? sender
        : throw new TransactionSignatureException(Signature is null ? "transaction is not signed" : "invalid signature: no sender can be recovered");

    public bool TryRecoverSender(out Address sender)
    {
        if (_sender is { } known)
        {
            sender = known.Value;
            return true;
        }
        sender = default;
        if (Signature is not { } sig || sig.YParity > 1)
        {
            return false;
        }
        if (!Secp256k1.TryRecoverAddress(SigningHash().Bytes, sig.ToBytes65(), out sender))
        {
            return false;
        }
        _sender = new StrongBox<Address>(sender);
        return true;
    }

    // ------------------------------------------------------------------ encoding

    /// <summary>The signed encoding: an RLP list for legacy, type byte ‖ RLP list for typed transactions.</summary>
    /// <exception cref="TransactionSignatureException">not signed</exception>
    public byte[] Encode() => EncodedBytes.ToArray();

    private byte[] EncodedBytes => _encoded ??= EncodeSigned();

    private byte[] EncodeSigned()
    {
        if (Signature is not { } sig)
        {
            throw new TransactionSignatureException("transaction is not signed");
        }
        var writer = new RlpWriter(256 + Data.Length);
        if (Type == TransactionType.Legacy)
        {
            writer.StartList();
            WriteLegacyFields(writer);
            writer.WriteUInt256(V).WriteUInt256(sig.R).WriteUInt256(sig.S).EndList();
            return writer.ToArray();
        }
        writer.WriteEncoded([(byte)Type]).StartList();
        WriteEip1559Fields(writer);
        writer.WriteULong(sig.YParity).WriteUInt256(sig.R).WriteUInt256(sig.S).EndList();
        return writer.ToArray();
    }

    private void WriteLegacyFields(RlpWriter writer) =>
        writer.WriteULong(Nonce).WriteUInt256(GasPrice).WriteULong(GasLimit)
            .WriteOptionalAddress(To).WriteUInt256(Value).WriteBytes(Data.Span);

    private void WriteEip1559Fields(RlpWriter writer)
    {
        writer.WriteULong(ChainId ?? throw new InvalidOperationException("an EIP-1559 transaction needs a chain id"))
            .WriteULong(Nonce).WriteUInt256(MaxPriorityFeePerGas).WriteUInt256(MaxFeePerGas).WriteULong(GasLimit)
            .WriteOptionalAddress(To).WriteUInt256(Value).WriteBytes(Data.Span);
        writer.StartList();
        foreach (var entry in AccessList)
        {
            writer.StartList().WriteAddress(entry.Address).StartList();
            foreach (var key in entry.StorageKeys)
            {
                writer.WriteHash(key);
            }
            writer.EndList().EndList();
        }
        writer.EndList();
    }

    // ------------------------------------------------------------------ decoding

    /// <summary>
    /// Decodes a signed transaction (the bytes of eth_sendRawTransaction). Only canonical
    /// encodings are accepted, so that the hash of the input is the transaction hash.
    /// </summary>
    /// <param name="expectedChainId">when given, the transaction must carry this chain id (pre-EIP-155 legacy transactions, which carry none, are then refused).</param>
    /// <exception cref="TransactionDecodeException">what is wrong, in words</exception>
    public static Transaction Decode(ReadOnlySpan<byte> raw, ulong? expectedChainId = null)
    {
        if (raw.IsEmpty)
        {
            throw new TransactionDecodeException("empty transaction");
        }
        if (raw.Length > MaxEncodedBytes)
        {
            throw new TransactionDecodeException($"transaction of {raw.Length} bytes exceeds the {MaxEncodedBytes}-byte limit");
        }
        Transaction tx;
        try
        {
            tx = raw[0] switch
            {
                >= 0xc0 => DecodeLegacy(raw),
                (byte)TransactionType.Eip1559 => DecodeEip1559(raw),
                < 0x80 => throw new TransactionDecodeException($"unsupported transaction type 0x{raw[0]:x2}"),
                _ => throw new TransactionDecodeException($"not a transaction: starts with 0x{raw[0]:x2}, neither a type byte nor an RLP list"),
            };
        }
        catch (RlpException e)
        {
            throw new TransactionDecodeException($"malformed transaction: {e.Message}", e);
        }
        if (tx.Nonce == ulong.MaxValue)
        {
            throw new TransactionDecodeException("nonce 2^64-1 is not allowed (EIP-2681)");
        }
        if (expectedChainId is { } expected && tx.ChainId != expected)
        {
            throw new TransactionDecodeException(tx.ChainId is { } actual
                ? $"chain id mismatch: transaction is for chain {actual}, expected {expected}"
                : $"chain id mismatch: transaction has no chain id (pre-EIP-155), expected {expected}");
        }
        tx._encoded = raw.ToArray();
        return tx;
    }

    private static Transaction DecodeLegacy(ReadOnlySpan<byte> raw)
    {
        var outer = new RlpReader(raw);
        var list = outer.ReadList("transaction");
        outer.EnsureEnd("transaction");
        var nonce = list.ReadULong("nonce");
        var gasPrice = list.ReadUInt256("gasPrice");
        var gasLimit = list.ReadULong("gasLimit");
        var to = list.ReadOptionalAddress("to");
        var value = list.ReadUInt256("value");
        var data = list.ReadBytes("data").ToArray();
        var v = list.ReadUInt256("v");
        var r = list.ReadUInt256("r");
        var s = list.ReadUInt256("s");
        list.EnsureEnd("transaction fields");

        ulong? chainId;
        byte yParity;
        if (v == 27UL || v == 28UL)
        {
            chainId = null;
            yParity = (byte)((ulong)v - 27);
        }
        else if (v >= 37UL)
        {
            // v = chainId * 2 + 35 + yParity (EIP-155); chain id 0 is not a chain.
            var offset = v - 35UL;
            var id = offset / 2UL;
            if (!id.FitsInUInt64)
            {
                throw new TransactionDecodeException($"chain id {id} does not fit in 64 bits");
            }
            chainId = (ulong)id;
            yParity = (byte)(ulong)(offset % 2UL);
        }
        else
        {
            throw new TransactionDecodeException($"invalid v value {v}: expected 27, 28 or chainId * 2 + 35/36");
        }
        var signature = CheckSignature(yParity, r, s);
        return new Transaction
        {
            Type = TransactionType.Legacy,
            ChainId = chainId,
            Nonce = nonce,
            GasPrice = gasPrice,
            GasLimit = gasLimit,
            To = to,
            Value = value,
            Data = data,
            Signature = signature,
        };
    }

    private static Transaction DecodeEip1559(ReadOnlySpan<byte> raw)
    {
        // The type byte counts in RLP offsets, so errors point into the whole input.
        var outer = new RlpReader(raw);
        outer.ReadBytes("type"); // 0x02 is the single-byte string 0x02
        var list = outer.ReadList("transaction");
        outer.EnsureEnd("transaction");
        var chainId = list.ReadULong("chainId");
        var nonce = list.ReadULong("nonce");
        var maxPriorityFee = list.ReadUInt256("maxPriorityFeePerGas");
        var maxFee = list.ReadUInt256("maxFeePerGas");
        var gasLimit = list.ReadULong("gasLimit");
        var to = list.ReadOptionalAddress("to");
        var value = list.ReadUInt256("value");
        var data = list.ReadBytes("data").ToArray();
        var accessList = ReadAccessList(ref list);
        var yParity = list.ReadULong("yParity");
        var r = list.ReadUInt256("r");
        var s = list.ReadUInt256("s");
        list.EnsureEnd("transaction fields");

        if (yParity > 1)
        {
            throw new TransactionDecodeException($"y parity must be 0 or 1, got {yParity}");
        }
        if (maxPriorityFee > maxFee)
        {
            throw new TransactionDecodeException($"max priority fee per gas {maxPriorityFee} is higher than max fee per gas {maxFee}");
        }
        var signature = CheckSignature((byte)yParity, r, s);
        return new Transaction
        {
            Type = TransactionType.Eip1559,
            ChainId = chainId,
            Nonce = nonce,
            MaxPriorityFeePerGas = maxPriorityFee,
            MaxFeePerGas = maxFee,
            GasLimit = gasLimit,
            To = to,
            Value = value,
            Data = data,
            AccessList = accessList,
            Signature = signature,
        };
    }

    private static List<AccessListEntry> ReadAccessList(ref RlpReader list)
    {
        var entries = new List<AccessListEntry>();
        var accessList = list.ReadList("accessList");
        while (accessList.HasMore)
        {
            var entry = accessList.ReadList("access list entry");
            var address = entry.ReadAddress("access list address");
            var keysReader = entry.ReadList("access list storage keys");
            entry.EnsureEnd("access list entry");
            var keys = new List<Hash32>();
            while (keysReader.HasMore)
            {
                keys.Add(keysReader.ReadHash32("storage key"));
            }
            entries.Add(new AccessListEntry(address, keys));
        }
        return entries;
    }

    private static TransactionSignature CheckSignature(byte yParity, UInt256 r, UInt256 s)
    {
        if (r.IsZero || r >= SecpOrder)
        {
            throw new TransactionDecodeException("r value out of range: must be in [1, n-1]");
        }
        if (s.IsZero || s >= SecpOrder)
        {
            throw new TransactionDecodeException("s value out of range: must be in [1, n-1]");
        }
        if (s > SecpHalfOrder)
        {
            throw new TransactionDecodeException("s value in upper half: must be at most n/2 (EIP-2)");
        }
        return new TransactionSignature(yParity, r, s);
    }
}
