using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Ethereum;

namespace Keel.Core.Tests.Ethereum;

/// <summary>Checked against Data/tx-vectors.json: transactions signed by ethers 6 (see make-tx-vectors.mjs).</summary>
public class TransactionTests
{
    public sealed record Vector(
        string Name, int Type, string ChainId, ulong Nonce, string? GasPrice, string? MaxPriorityFeePerGas, string? MaxFeePerGas,
        string GasLimit, string? To, string Value, string Data, List<VectorAccess>? AccessList, string? NetworkV, int YParity,
        string R, string S, string PrivateKey, string From, string SigningHash, string Hash, string Raw)
    {
        public override string ToString() => Name;
    }

    public sealed record VectorAccess(string Address, List<string> StorageKeys);

    private sealed record VectorFile(string Generator, List<Vector> Transactions);

    private static readonly Lazy<List<Vector>> Vectors = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Data", "tx-vectors.json");
        var file = JsonSerializer.Deserialize<VectorFile>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
        return file!.Transactions;
    });

    public static TheoryData<string> VectorNames => [.. Vectors.Value.Select(v => v.Name)];

    private static Vector Get(string name) => Vectors.Value.Single(v => v.Name == name);

    [Fact]
    public void The_vector_file_covers_the_cases_it_should()
    {
        var all = Vectors.Value;
        Assert.True(all.Count >= 12);
        Assert.Contains(all, v => v.Type == 0 && v.NetworkV is null);
        Assert.Contains(all, v => v.Type == 0 && v.ChainId == "901");
        Assert.Contains(all, v => v.Type == 2 && v.ChainId == "901");
        Assert.Contains(all, v => v.To is null && v.Type == 0);
        Assert.Contains(all, v => v.To is null && v.Type == 2);
        Assert.Contains(all, v => v.AccessList is { Count: > 0 });
        Assert.Contains(all, v => v.Value == UInt256.MaxValue.ToString());
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Decodes_to_the_fields_ethers_signed(string name)
    {
        var v = Get(name);
        var tx = Transaction.Decode(Hex.Decode(v.Raw));
        Assert.Equal(v.Type, (int)tx.Type);
        Assert.Equal(v.NetworkV is null && v.Type == 0 ? null : ulong.Parse(v.ChainId), tx.ChainId);
        Assert.Equal(v.Nonce, tx.Nonce);
        Assert.Equal(UInt256.Parse(v.GasPrice ?? "0"), tx.GasPrice);
        Assert.Equal(UInt256.Parse(v.MaxPriorityFeePerGas ?? "0"), tx.MaxPriorityFeePerGas);
        Assert.Equal(UInt256.Parse(v.MaxFeePerGas ?? "0"), tx.MaxFeePerGas);
        Assert.Equal(ulong.Parse(v.GasLimit), tx.GasLimit);
        Assert.Equal(v.To is null ? null : Address.Parse(v.To), tx.To);
        Assert.Equal(v.To is null, tx.IsContractCreation);
        Assert.Equal(UInt256.Parse(v.Value), tx.Value);
        Assert.Equal(v.Data, Hex.Encode(tx.Data.Span));
        Assert.Equal(
            (v.AccessList ?? []).Select(e => new AccessListEntry(Address.Parse(e.Address), [.. e.StorageKeys.Select(Hash32.Parse)])).ToList(),
            tx.AccessList);
        Assert.Equal(new TransactionSignature((byte)v.YParity, UInt256.Parse(v.R), UInt256.Parse(v.S)), tx.Signature);
        Assert.Equal(UInt256.Parse(v.NetworkV ?? (v.Type == 0 ? (27 + v.YParity).ToString() : v.YParity.ToString())), tx.V);
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Re_encodes_to_the_same_bytes_and_hashes_like_ethers(string name)
    {
        var v = Get(name);
        var tx = Transaction.Decode(Hex.Decode(v.Raw));
        Assert.Equal(v.Raw, Hex.Encode(tx.Encode()));
        Assert.Equal(v.Hash, tx.Hash.ToString());
        Assert.Equal(v.SigningHash, tx.SigningHash().ToString());
        // Re-encoding from the fields alone (no kept input bytes) must give the same bytes.
        var rebuilt = tx.WithSignature(tx.Signature!.Value);
        Assert.Equal(v.Raw, Hex.Encode(rebuilt.Encode()));
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Recovers_the_sender_ethers_reports(string name)
    {
        var v = Get(name);
        var tx = Transaction.Decode(Hex.Decode(v.Raw));
        Assert.Equal(v.From, tx.RecoverSender().ToString());
        Assert.Equal(v.From, tx.RecoverSender().ToString());
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Signing_the_fields_reproduces_ethers_bytes(string name)
    {
        // Both sides use RFC 6979 nonces, so the signatures must be identical.
        var v = Get(name);
        var unsigned = new Transaction
        {
            Type = (TransactionType)v.Type,
            ChainId = v.NetworkV is null && v.Type == 0 ? null : ulong.Parse(v.ChainId),
            Nonce = v.Nonce,
            GasPrice = UInt256.Parse(v.GasPrice ?? "0"),
            MaxPriorityFeePerGas = UInt256.Parse(v.MaxPriorityFeePerGas ?? "0"),
            MaxFeePerGas = UInt256.Parse(v.MaxFeePerGas ?? "0"),
            GasLimit = ulong.Parse(v.GasLimit),
            To = v.To is null ? null : Address.Parse(v.To),
            Value = UInt256.Parse(v.Value),
            Data = Hex.Decode(v.Data),
            AccessList = [.. (v.AccessList ?? []).Select(e => new AccessListEntry(Address.Parse(e.Address), [.. e.StorageKeys.Select(Hash32.Parse)]))],
        };
        Assert.Equal(v.SigningHash, unsigned.SigningHash().ToString());
        var signed = unsigned.Sign(Hex.Decode(v.PrivateKey));
        Assert.Equal(v.Raw, Hex.Encode(signed.Encode()));
        Assert.Equal(v.Hash, signed.Hash.ToString());
    }

    [Fact]
    public void Chain_id_is_checked_when_expected()
    {
        var raw = Hex.Decode(Get("eip1559 chain 901 zero value").Raw);
        Assert.Equal(901UL, Transaction.Decode(raw, expectedChainId: 901).ChainId);
        var error = Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(raw, expectedChainId: 1));
        Assert.Equal("chain id mismatch: transaction is for chain 901, expected 1", error.Message);

        var legacy = Hex.Decode(Get("legacy eip155 chain 901 zero value").Raw);
        Assert.Contains("chain id mismatch", Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(legacy, 31337)).Message);

        var unprotected = Hex.Decode(Get("legacy pre-eip155 (no chain id)").Raw);
        Assert.Null(Transaction.Decode(unprotected).ChainId);
        Assert.Contains("no chain id (pre-EIP-155)", Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(unprotected, 901)).Message);
    }

    [Theory]
    [InlineData("0x03", "unsupported transaction type 0x03")]
    [InlineData("0x01c0", "unsupported transaction type 0x01")]
    [InlineData("0x04c0", "unsupported transaction type 0x04")]
    [InlineData("0x7f", "unsupported transaction type 0x7f")]
    [InlineData("0x", "empty transaction")]
    [InlineData("0x80", "neither a type byte nor an RLP list")]
    [InlineData("0xc0", "nonce: input ends")]
    [InlineData("0x02c0", "chainId: input ends")]
    public void Unsupported_or_empty_input_is_rejected(string hex, string message)
    {
        var error = Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(Hex.Decode(hex)));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void High_s_is_rejected()
    {
        var tx = Transaction.Decode(Hex.Decode(Get("eip1559 chain 1 transfer").Raw));
        var sig = tx.Signature!.Value;
        var malleated = tx.WithSignature(new TransactionSignature((byte)(1 - sig.YParity), sig.R, Transaction.SecpOrder - sig.S));
        // The flipped signature still recovers the same sender: exactly why EIP-2 forbids it.
        Assert.Equal(tx.RecoverSender(), malleated.RecoverSender());
        var error = Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(malleated.Encode()));
        Assert.Equal("s value in upper half: must be at most n/2 (EIP-2)", error.Message);
    }

    [Fact]
    public void Out_of_range_signature_values_are_rejected()
    {
        var tx = Transaction.Decode(Hex.Decode(Get("legacy eip155 chain 1 simple transfer").Raw));
        var sig = tx.Signature!.Value;
        Assert.Contains("r value out of range", Decode(tx.WithSignature(sig with { R = UInt256.Zero })));
        Assert.Contains("r value out of range", Decode(tx.WithSignature(sig with { R = Transaction.SecpOrder })));
        Assert.Contains("s value out of range", Decode(tx.WithSignature(sig with { S = UInt256.Zero })));
        var typed = Transaction.Decode(Hex.Decode(Get("eip1559 chain 1 transfer").Raw));
        Assert.Contains("y parity must be 0 or 1, got 2", Decode(typed.WithSignature(typed.Signature!.Value with { YParity = 2 })));

        static string Decode(Transaction t) => Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(t.Encode())).Message;
    }

    [Fact]
    public void Invalid_legacy_v_is_rejected()
    {
        // [nonce, gasPrice, gasLimit, to, value, data, v = 29, r = 1, s = 1]
        var raw = new RlpWriter().StartList().WriteULong(0).WriteULong(1).WriteULong(21000).WriteBytes([]).WriteULong(0).WriteBytes([])
            .WriteULong(29).WriteULong(1).WriteULong(1).EndList().ToArray();
        Assert.Contains("invalid v value 29", Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(raw)).Message);
    }

    [Fact]
    public void Non_canonical_rlp_and_trailing_bytes_are_rejected()
    {
        var raw = Hex.Decode(Get("legacy eip155 chain 1 simple transfer").Raw);
        var trailing = raw.Append((byte)0).ToArray();
        var error = Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(trailing));
        Assert.Contains("trailing byte", error.Message);
        Assert.IsType<RlpException>(error.InnerException);

        // nonce 0 written as 0x00 instead of the empty string: one byte longer list.
        var nonCanonical = new byte[raw.Length + 1];
        nonCanonical[0] = raw[0];
        nonCanonical[1] = (byte)(raw[1] + 1);
        nonCanonical[2] = 0x81;
        nonCanonical[3] = 0x00;
        raw.AsSpan(3).CopyTo(nonCanonical.AsSpan(4));
        Assert.Contains("nonce", Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(nonCanonical)).Message);

        var truncated = raw[..^1];
        Assert.Contains("runs past the end", Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(truncated)).Message);
    }

    [Fact]
    public void Priority_fee_above_max_fee_is_rejected()
    {
        var key = Hex.Decode(Get("eip1559 chain 1 transfer").PrivateKey);
        var tx = new Transaction { ChainId = 901, MaxPriorityFeePerGas = 10UL, MaxFeePerGas = 9UL, GasLimit = 21000, To = Address.Zero }.Sign(key);
        Assert.Contains("max priority fee per gas 10 is higher than max fee per gas 9",
            Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(tx.Encode())).Message);
    }

    [Fact]
    public void Nonce_at_the_eip2681_limit_is_rejected()
    {
        var key = Hex.Decode(Get("eip1559 chain 1 transfer").PrivateKey);
        var tx = new Transaction { ChainId = 901, Nonce = ulong.MaxValue, GasLimit = 21000, To = Address.Zero }.Sign(key);
        Assert.Contains("EIP-2681", Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(tx.Encode())).Message);
        var below = new Transaction { ChainId = 901, Nonce = ulong.MaxValue - 1, GasLimit = 21000, To = Address.Zero }.Sign(key);
        Assert.Equal(ulong.MaxValue - 1, Transaction.Decode(below.Encode()).Nonce);
    }

    [Fact]
    public void Oversized_transactions_are_rejected_before_parsing()
    {
        var error = Assert.Throws<TransactionDecodeException>(() => Transaction.Decode(new byte[Transaction.MaxEncodedBytes + 1]));
        Assert.Contains("exceeds", error.Message);
    }

    [Fact]
    public void Unsigned_transactions_cannot_be_encoded_or_recovered()
    {
        var tx = new Transaction { ChainId = 901, GasLimit = 21000 };
        Assert.Throws<TransactionSignatureException>(() => tx.Encode());
        Assert.Throws<TransactionSignatureException>(() => tx.RecoverSender());
        Assert.False(tx.TryRecoverSender(out _));
        Assert.Throws<InvalidOperationException>(() => new Transaction { Type = TransactionType.Eip1559 }.Sign(Hex.Decode(Get("eip1559 chain 1 transfer").PrivateKey)));
    }

    [Fact]
    public void Corrupted_bytes_never_escape_as_another_exception_type()
    {
        var raws = Vectors.Value.Select(v => Hex.Decode(v.Raw)).ToArray();
        Prop.ForAll<int, int, byte>((which, position, value) =>
        {
            var raw = (byte[])raws[Math.Abs(which % raws.Length)].Clone();
            raw[Math.Abs(position % raw.Length)] = value;
            try
            {
                var tx = Transaction.Decode(raw);
                // Anything accepted is canonical: it encodes back to the same bytes.
                return tx.Encode().AsSpan().SequenceEqual(raw) && Transaction.Decode(tx.WithSignature(tx.Signature!.Value).Encode()).Hash == tx.Hash;
            }
            catch (TransactionDecodeException)
            {
                return true;
            }
        }).QuickCheckThrowOnFailure();
    }
}
