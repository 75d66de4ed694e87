using Keel.Core;
using Keel.Core.Crypto;
using Keel.Core.Ethereum;
using Keel.Node.Chain;
using Keel.Node.Service;
using Keel.Rollup.Execution;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Blocks;

namespace Keel.Node.Tests.Chain;

/// <summary>Receipts and balances the chain index derives from committed blocks, by the rollup's rules.</summary>
public sealed class ChainIndexTests
{
    private static readonly RollupParameters Parameters = new(901, RollupParameters.DefaultBaseFeePerGas, Address.Zero);
    private static readonly byte[] Key = Hex.Decode(DevnetLayout.DevAccountKeys[0]);
    private static readonly Address Sender = Address.FromPublicKey(Secp256k1.GetPublicKey(Key));
    private static readonly Address Receiver = Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

    private static ChainIndex NewIndex(UInt128 balance) =>
        new(Parameters, [KeyValuePair.Create(Sender, balance)], new IndexedBlock(0, Hash(0), Hash32.Zero, 0, Address.Zero, Hash32.Zero, Hash32.Zero, [], 0));

    private static Hash32 Hash(byte b)
    {
        var bytes = new byte[32];
        bytes[0] = b;
        bytes[1] = 0x5a;
        return Hash32.FromBytes(bytes);
    }

    private static SequencerHeader Header(long height) =>
        new(height, height, Hash(checked((byte)(height - 1))), 1000 * height, Address.Zero, Hash32.Zero, Hash32.Zero, Hash32.Zero, Hash((byte)height));

    private static (Transfer, byte[]) Tx(ulong nonce, UInt128 value, ulong tip = 1_000_000_000)
    {
        var tx = new Transaction
        {
            Type = TransactionType.Eip1559,
            ChainId = 901,
            Nonce = nonce,
            MaxFeePerGas = 10_000_000_000UL,
            MaxPriorityFeePerGas = tip,
            GasLimit = 21_000,
            To = Receiver,
            Value = value,
        }.Sign(Key);
        var raw = tx.Encode();
        return (TransferDecoder.Decode(raw, 901), raw);
    }

    [Fact]
    public void Applied_transfers_get_successful_receipts_and_move_balances_and_nonces()
    {
        var index = NewIndex(1_000_000_000_000_000_000);
        var (t0, r0) = Tx(0, 5);
        var (t1, r1) = Tx(1, 7);
        var block = index.Apply(Header(1), [t0, t1], [r0, r1], 42)!;
        Assert.Equal(1, index.Head);
        Assert.Equal(42_000UL, block.GasUsed);
        var receipt = index.GetTransaction(t1.Hash)!;
        Assert.Equal(TransferStatus.Applied, receipt.Status);
        Assert.Equal(1, receipt.Index);
        Assert.Equal(42_000UL, receipt.CumulativeGasUsed);
        Assert.Equal((UInt128)2_000_000_000, receipt.EffectiveGasPrice);
        Assert.Equal(2UL, index.GetAccount(Sender).Nonce);
        Assert.Equal((UInt128)12, index.GetAccount(Receiver).Balance);
        Assert.Equal(1_000_000_000_000_000_000 - 12 - 2 * 21_000 * (UInt128)2_000_000_000, index.GetAccount(Sender).Balance);
        // The tips reach the fee recipient at the end of the block.
        Assert.Equal(2 * 21_000 * (UInt128)1_000_000_000, index.GetAccount(Address.Zero).Balance);
        Assert.Same(block, index.GetBlock(block.Hash));
    }

    [Fact]
    public void A_transfer_that_cannot_execute_gets_a_failed_receipt_and_changes_nothing()
    {
        var index = NewIndex(21_000UL * 10_000_000_000 + 5); // the first can pay its worst case; then only 8 gwei x 21000 is left
        var (t0, r0) = Tx(0, 5);
        var (t1, r1) = Tx(1, 1); // nothing left to pay for it
        index.Apply(Header(1), [t0, t1], [r0, r1], 1);
        Assert.Equal(TransferStatus.Applied, index.GetTransaction(t0.Hash)!.Status);
        var failed = index.GetTransaction(t1.Hash)!;
        Assert.Equal(TransferStatus.InsufficientBalance, failed.Status);
        Assert.Equal(0UL, failed.GasUsed);
        Assert.Equal(1UL, index.GetAccount(Sender).Nonce);
        Assert.Equal((UInt128)5, index.GetAccount(Receiver).Balance);
    }

    [Fact]
    public void Blocks_apply_in_height_order_and_a_repeat_is_ignored()
    {
        var index = NewIndex(1_000_000_000_000_000_000);
        Assert.NotNull(index.Apply(Header(1), [], [], 1));
        Assert.Null(index.Apply(Header(1), [], [], 1));
        Assert.Throws<InvalidOperationException>(() => index.Apply(Header(3), [], [], 1));
        Assert.Equal(1, index.Head);
    }
}
