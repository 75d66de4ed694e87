using FsCheck;
using FsCheck.Fluent;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Core.Ethereum;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Tests;

/// <summary>Builders shared by the rollup tests.</summary>
internal static class TestData
{
    public const ulong ChainId = 901;
    public static readonly UInt128 BaseFee = 1_000_000_000; // 1 gwei
    public static readonly UInt128 Ether = 1_000_000_000_000_000_000UL;
    public static readonly Address FeeRecipient = Address.Parse("0x000000000000000000000000000000000000fee5");
    public static readonly RollupParameters Parameters = new(ChainId, BaseFee, FeeRecipient);

    /// <summary>The private key of anvil's first developer account (public test data).</summary>
    public static readonly byte[] DevKey0 = Hex.Decode("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
    public static Address Dev(int i) => RollupGenesis.AnvilDevAccounts[i];

    public static Address AddressFrom(int seed)
    {
        var b = new byte[Address.Size];
        new Random(seed).NextBytes(b);
        return Address.FromBytes(b);
    }

    public static Address AddressOf(byte[] key) => Address.FromPublicKey(Secp256k1.GetPublicKey(key));

    private static int _hashCounter;

    public static Transfer Transfer(Address from, Address to, UInt128 value, ulong nonce,
        UInt128? maxFee = null, UInt128? priority = null, byte type = 2)
    {
        var fee = maxFee ?? 3 * BaseFee;
        var tip = type == 0 ? fee : priority ?? BaseFee;
        var hash = Keccak256.HashToHash32(BitConverter.GetBytes(Interlocked.Increment(ref _hashCounter)));
        return new Transfer(type, ChainId, from, to, value, nonce, fee, tip, 21_000, hash);
    }

    /// <summary>The fields of a transaction to sign (a record, so tests can vary one with `with`).
    /// For legacy, MaxFee is the gas price and Tip is ignored.</summary>
    public sealed record TxFields(byte Type, ulong? ChainId, ulong Nonce, Address? To, UInt256 Value, UInt256 MaxFee, UInt256 Tip, ulong GasLimit = 21_000)
    {
        public byte[] Data { get; init; } = [];

        public byte[] Sign(byte[]? key = null) => new Transaction
        {
            Type = (TransactionType)Type,
            ChainId = ChainId,
            Nonce = Nonce,
            GasPrice = Type == 0 ? MaxFee : UInt256.Zero,
            MaxFeePerGas = Type == 0 ? UInt256.Zero : MaxFee,
            MaxPriorityFeePerGas = Type == 0 ? UInt256.Zero : Tip,
            GasLimit = GasLimit,
            To = To,
            Value = Value,
            Data = Data,
        }.Sign(key ?? DevKey0).Encode();
    }

    /// <summary>Runs a property a bounded number of times (each run builds Poseidon2 trees, so the
    /// default 100 would cost seconds).</summary>
    public static void CheckWith(this Property property, int maxTests) =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(maxTests), property);
}
