using Keel.Core;
using Keel.Rollup.Genesis;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Validation;

namespace Keel.Rollup.Tests.Validation;

public class TransferValidatorTests
{
    private static readonly AccountState Genesis = RollupGenesis.Devnet().CreateState();

    private static byte[] Signed(ulong nonce, UInt128 value, byte type = 2, ulong maxFee = 3_000_000_000, ulong tip = 1_000_000_000) =>
        new TestData.TxFields(type, TestData.ChainId, nonce, TestData.Dev(1), (UInt256)value, (UInt256)maxFee, (UInt256)tip).Sign();

    [Fact]
    public void Sequence_of_raw_transfers_updates_the_pending_map()
    {
        var pending = new PendingAccounts(Genesis);
        var v = new TransferValidator(TestData.Parameters);
        v.ValidateAndApply(Signed(0, TestData.Ether), pending);
        v.ValidateAndApply(Signed(1, 2 * TestData.Ether, type: 0), pending);

        // Tx 0: price = min(3 gwei, 1 + 1) = 2 gwei. Tx 1 (legacy, 3 gwei): price 3 gwei.
        UInt128 spent = 3 * TestData.Ether + 21_000 * (UInt128)2_000_000_000 + 21_000 * (UInt128)3_000_000_000;
        Assert.Equal(new Account(RollupGenesis.DevAccountBalance - spent, 2), pending.GetAccount(TestData.Dev(0)));
        Assert.Equal(new Account(RollupGenesis.DevAccountBalance + 3 * TestData.Ether, 0), pending.GetAccount(TestData.Dev(1)));
        // The executed state is untouched.
        Assert.Equal(0UL, Genesis.GetAccount(TestData.Dev(0)).Nonce);

        // Tips wait for the end of the batch, as in the executor.
        UInt128 tips = 21_000 * (UInt128)1_000_000_000 + 21_000 * (UInt128)2_000_000_000;
        Assert.Equal(tips, pending.UncreditedTips);
        Assert.Equal(Account.Empty, pending.GetAccount(TestData.FeeRecipient));
        v.CloseBatch(pending);
        Assert.Equal(new Account(tips, 0), pending.GetAccount(TestData.FeeRecipient));
        Assert.Equal((UInt128)0, pending.UncreditedTips);
    }

    [Fact]
    public void Nonce_too_low_too_high_and_refusals_leave_pending_unchanged()
    {
        var pending = new PendingAccounts(Genesis);
        var v = new TransferValidator(TestData.Parameters);
        v.ValidateAndApply(Signed(0, 1), pending);
        var before = pending.GetAccount(TestData.Dev(0));
        Assert.Equal(TransferError.NonceTooLow, Assert.Throws<InvalidTransferException>(() => v.ValidateAndApply(Signed(0, 1), pending)).Error);
        var high = Assert.Throws<InvalidTransferException>(() => v.ValidateAndApply(Signed(5, 1), pending));
        Assert.Equal(TransferError.NonceTooHigh, high.Error);
        Assert.Contains("next nonce 1", high.Message);
        Assert.Equal(before, pending.GetAccount(TestData.Dev(0)));
    }

    [Fact]
    public void Balance_must_cover_value_plus_max_fee_not_just_the_effective_fee()
    {
        var pending = new PendingAccounts(Genesis);
        var v = new TransferValidator(TestData.Parameters);
        UInt128 maxFeeCost = 21_000 * (UInt128)3_000_000_000;
        // Effective price is 2 gwei, so value + 21000 * 2 gwei would fit, but not value + 21000 * 3 gwei.
        var tooMuch = RollupGenesis.DevAccountBalance - maxFeeCost + 1;
        var e = Assert.Throws<InvalidTransferException>(() => v.ValidateAndApply(Signed(0, tooMuch), pending));
        Assert.Equal(TransferError.InsufficientBalance, e.Error);
        Assert.Contains("insufficient funds", e.Message);
        v.ValidateAndApply(Signed(0, tooMuch - 1), pending);
        Assert.Equal(21_000 * (UInt128)1_000_000_000, pending.GetAccount(TestData.Dev(0)).Balance);
    }

    [Fact]
    public void Fee_cap_below_base_fee_and_wrong_chain_are_refused()
    {
        var pending = new PendingAccounts(Genesis);
        var v = new TransferValidator(TestData.Parameters);
        Assert.Equal(TransferError.FeeCapBelowBaseFee,
            Assert.Throws<InvalidTransferException>(() => v.ValidateAndApply(Signed(0, 1, maxFee: 999_999_999, tip: 0), pending)).Error);
        var other = new TransferValidator(TestData.Parameters with { ChainId = 902 });
        Assert.Equal(TransferError.WrongChainId,
            Assert.Throws<InvalidTransferException>(() => other.ValidateAndApply(Signed(0, 1), pending)).Error);
        var decoded = TransferDecoder.Decode(Signed(0, 1), TestData.ChainId);
        Assert.Equal(TransferError.WrongChainId, Assert.Throws<InvalidTransferException>(() => other.Check(decoded, pending)).Error);
    }

    [Fact]
    public void Fee_recipient_cannot_spend_tips_of_the_block_that_pays_them()
    {
        var recipientKey = Keel.Core.Crypto.Secp256k1.CreatePrivateKey();
        var parameters = TestData.Parameters with { FeeRecipient = TestData.AddressOf(recipientKey) };
        var pending = new PendingAccounts(Genesis);
        var v = new TransferValidator(parameters);
        v.ValidateAndApply(Signed(0, 1), pending);
        var spendTips = new TestData.TxFields(2, TestData.ChainId, 0, TestData.Dev(2),
            UInt256.Zero, (UInt256)1_000_000_000UL, UInt256.Zero).Sign(recipientKey);
        Assert.Equal(TransferError.InsufficientBalance, Assert.Throws<InvalidTransferException>(() => v.ValidateAndApply(spendTips, pending)).Error);
        v.CloseBatch(pending);
        v.ValidateAndApply(spendTips, pending); // next block: the tip (21000 gwei) covers 21000 * 1 gwei
        Assert.Equal(Account.Empty with { Nonce = 1 }, pending.GetAccount(parameters.FeeRecipient));
    }

    [Fact]
    public void Block_batch_is_validated_all_or_nothing_with_its_commitment()
    {
        var pending = new PendingAccounts(Genesis);
        var v = new TransferValidator(TestData.Parameters);
        var hasher = Keel.Rollup.Hashing.RollupHasher.Shared;
        ReadOnlyMemory<byte>[] good = [Signed(0, 1), Signed(1, 2, type: 0), Signed(2, 3)];
        var batch = v.ValidateBatch(good, pending, hasher);
        Assert.Equal(3, batch.Transfers.Count);
        Assert.Equal(Keel.Rollup.Execution.BatchCommitment.Compute(hasher, TestData.Parameters, batch.Transfers), batch.BatchCommitment);
        Assert.Equal(3UL, pending.GetAccount(TestData.Dev(0)).Nonce);
        Assert.NotEqual(Account.Empty, pending.GetAccount(TestData.FeeRecipient)); // tips credited at the end
        Assert.Equal((UInt128)0, pending.UncreditedTips);

        var snapshot = pending.GetAccount(TestData.Dev(0));
        ReadOnlyMemory<byte>[] bad = [Signed(3, 1), Signed(4, 1), Signed(9, 1), Signed(5, 1)];
        var e = Assert.Throws<BatchValidationException>(() => v.ValidateBatch(bad, pending, hasher));
        Assert.Equal(2, e.Index);
        Assert.Equal(TransferError.NonceTooHigh, e.Error);
        Assert.Equal(snapshot, pending.GetAccount(TestData.Dev(0)));

        ReadOnlyMemory<byte>[] garbage = [new byte[] { 0xc0 }];
        Assert.Equal(TransferError.Malformed, Assert.Throws<BatchValidationException>(() => v.ValidateBatch(garbage, pending, hasher)).Error);
    }
}
