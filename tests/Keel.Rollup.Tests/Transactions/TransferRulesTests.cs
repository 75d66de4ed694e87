using Keel.Rollup.State;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Tests.Transactions;

public class TransferRulesTests
{
    private static readonly UInt128 Max = UInt128.MaxValue;

    [Fact]
    public void Eip1559_effective_price_is_base_plus_tip_capped_by_max_fee()
    {
        var tx = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 1, 0, maxFee: 5, priority: 2);
        Assert.Equal((UInt128)5, TransferRules.EffectiveGasPrice(tx, 3)); // 3 + 2 = 5 = cap
        Assert.Equal((UInt128)3, TransferRules.EffectiveGasPrice(tx, 1)); // 1 + 2
        Assert.Equal((UInt128)5, TransferRules.EffectiveGasPrice(tx, 4)); // capped
    }

    [Fact]
    public void Applied_transfer_moves_value_fee_tip_and_burn_exactly()
    {
        var tx = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 1000, 7, maxFee: 50, priority: 10);
        var o = TransferRules.Evaluate(new Account(10_000_000, 7), tx, 30);
        Assert.Equal(TransferStatus.Applied, o.Status);
        Assert.Equal((UInt128)40, o.EffectiveGasPrice);
        Assert.Equal((UInt128)(1000 + 21_000 * 40), o.SenderDebit);
        Assert.Equal((UInt128)(21_000 * 10), o.Tip);
        Assert.Equal((UInt128)(21_000 * 30), o.Burn);
        Assert.Equal(21_000UL, o.GasUsed);
    }

    [Fact]
    public void Legacy_price_above_base_fee_tips_the_difference()
    {
        var tx = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 0, 0, maxFee: 100, type: 0);
        var o = TransferRules.Evaluate(new Account(21_000 * 100, 0), tx, 60);
        Assert.Equal(TransferStatus.Applied, o.Status);
        Assert.Equal((UInt128)100, o.EffectiveGasPrice);
        Assert.Equal((UInt128)(21_000 * 40), o.Tip);
        Assert.Equal((UInt128)(21_000 * 60), o.Burn);
    }

    [Fact]
    public void Checks_come_in_order_fee_cap_then_nonce_then_balance()
    {
        var tx = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 5, 3, maxFee: 10, priority: 1);
        Assert.Equal(TransferStatus.FeeCapBelowBaseFee, TransferRules.Evaluate(new Account(0, 0), tx, 11).Status);
        Assert.Equal(TransferStatus.NonceMismatch, TransferRules.Evaluate(new Account(0, 0), tx, 10).Status);
        Assert.Equal(TransferStatus.InsufficientBalance, TransferRules.Evaluate(new Account(5 + 21_000 * 10 - 1, 3), tx, 10).Status);
        // Exactly enough for value + 21000 * maxFee.
        Assert.Equal(TransferStatus.Applied, TransferRules.Evaluate(new Account(5 + 21_000 * 10, 3), tx, 10).Status);
    }

    [Fact]
    public void Whole_balance_of_2_pow_128_minus_1_can_move_when_fees_are_zero()
    {
        var tx = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), Max, 0, maxFee: 0, priority: 0);
        var o = TransferRules.Evaluate(new Account(Max, 0), tx, 0);
        Assert.Equal(TransferStatus.Applied, o.Status);
        Assert.Equal(Max, o.SenderDebit);
    }

    [Fact]
    public void Max_cost_overflowing_128_bits_is_insufficient_balance_not_a_crash()
    {
        // value + 21000 * maxFee > 2^128 - 1 although each field fits.
        var hugeFee = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 0, 0, maxFee: Max, priority: 0);
        Assert.False(TransferRules.TryMaxCost(hugeFee, out _));
        Assert.Equal(TransferStatus.InsufficientBalance, TransferRules.Evaluate(new Account(Max, 0), hugeFee, 1).Status);

        var maxFeeFits = Max / 21_000;
        var edge = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), Max - maxFeeFits * 21_000, 0, maxFee: maxFeeFits, priority: 0);
        Assert.True(TransferRules.TryMaxCost(edge, out var cost));
        Assert.Equal(Max, cost);
        var o = TransferRules.Evaluate(new Account(Max, 0), edge, maxFeeFits);
        Assert.Equal(TransferStatus.Applied, o.Status);
        Assert.Equal(Max, o.SenderDebit);
        Assert.Equal((UInt128)0, o.Tip);

        var oneMore = edge with { Value = edge.Value + 1 };
        Assert.False(TransferRules.TryMaxCost(oneMore, out _));
        Assert.Equal(TransferStatus.InsufficientBalance, TransferRules.Evaluate(new Account(Max, 0), oneMore, maxFeeFits).Status);
    }

    [Fact]
    public void Effective_price_saturates_when_base_plus_tip_overflows()
    {
        var tx = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 0, 0, maxFee: Max, priority: Max);
        Assert.Equal(Max, TransferRules.EffectiveGasPrice(tx, Max));
    }

    [Fact]
    public void Static_rules_are_enforced_by_the_transfer_constructor()
    {
        var a = TestData.Dev(0);
        var h = Keel.Core.Hash32.Zero;
        Assert.Equal(TransferError.PriorityFeeAboveMaxFee,
            Assert.Throws<InvalidTransferException>(() => new Transfer(2, 1, a, a, 0, 0, 1, 2, 21_000, h)).Error);
        Assert.Equal(TransferError.GasLimitTooLow,
            Assert.Throws<InvalidTransferException>(() => new Transfer(2, 1, a, a, 0, 0, 1, 1, 20_999, h)).Error);
        Assert.Equal(TransferError.GasLimitTooHigh,
            Assert.Throws<InvalidTransferException>(() => new Transfer(2, 1, a, a, 0, 0, 1, 1, Transfer.MaxGasLimit + 1, h)).Error);
        Assert.Equal(TransferError.NonceLimit,
            Assert.Throws<InvalidTransferException>(() => new Transfer(2, 1, a, a, 0, Account.MaxNonce, 1, 1, 21_000, h)).Error);
        Assert.Equal(TransferError.UnsupportedType,
            Assert.Throws<InvalidTransferException>(() => new Transfer(1, 1, a, a, 0, 0, 1, 1, 21_000, h)).Error);
    }
}
