using Keel.Core;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Witness;

namespace Keel.Rollup.Tests.Execution;

public class BatchExecutorTests
{
    private static readonly Address A = TestData.AddressFrom(1);
    private static readonly Address B = TestData.AddressFrom(2);
    private static readonly Address C = TestData.AddressFrom(3);
    private static readonly Address F = TestData.AddressFrom(4);
    private static readonly RollupParameters Params = new(TestData.ChainId, 10, F);

    private static AccountState State(RollupHasher hasher) =>
        new RollupGenesis([KeyValuePair.Create(A, (UInt128)10_000_000), KeyValuePair.Create(B, (UInt128)500_000)]).CreateState(hasher);

    /// <summary>Seven transfers with every outcome; expectations computed by hand (base fee 10 wei).</summary>
    private static List<Transfer> Batch() =>
    [
        TestData.Transfer(A, B, 1000, 0, maxFee: 30, priority: 5),      // price 15, debit 316,000, tip 105,000
        TestData.Transfer(B, C, 100, 0, maxFee: 20, type: 0),           // legacy 20: debit 420,100, tip 210,000; C is new
        TestData.Transfer(A, A, 5000, 1, maxFee: 10, priority: 0),      // self-transfer: net -210,000, tip 0
        TestData.Transfer(B, C, 1, 5, maxFee: 10, priority: 0),         // nonce 5, B is at 1: skipped
        TestData.Transfer(C, A, 1, 0, maxFee: 10, priority: 0),         // C holds 100 < 1 + 210,000: skipped
        TestData.Transfer(A, F, 7, 2, maxFee: 9, priority: 0),          // fee cap 9 < base fee 10: skipped
        TestData.Transfer(A, F, 7, 2, maxFee: 12, priority: 12),        // price 12, debit 252,007, tip 42,000
    ];

    [Fact]
    public void Batch_executes_to_hand_computed_balances_receipts_and_root()
    {
        var hasher = new RollupHasher();
        var state = State(hasher);
        var result = new BatchExecutor(state).Execute(Params, Batch());

        Assert.Equal(new Account(9_221_993, 3), state.GetAccount(A));
        Assert.Equal(new Account(80_900, 1), state.GetAccount(B));
        Assert.Equal(new Account(100, 0), state.GetAccount(C));
        Assert.Equal(new Account(357_007, 0), state.GetAccount(F));
        Assert.Equal((UInt128)840_000, result.Burned);
        // Conservation: what is left plus what was burned is the genesis supply.
        Assert.Equal((UInt128)10_500_000, 9_221_993 + 80_900 + 100 + 357_007 + result.Burned);

        var expected = new (TransferStatus Status, ulong Gas, ulong Cumulative, UInt128 Price)[]
        {
            (TransferStatus.Applied, 21_000, 21_000, 15),
            (TransferStatus.Applied, 21_000, 42_000, 20),
            (TransferStatus.Applied, 21_000, 63_000, 10),
            (TransferStatus.NonceMismatch, 0, 63_000, 10),
            (TransferStatus.InsufficientBalance, 0, 63_000, 10),
            (TransferStatus.FeeCapBelowBaseFee, 0, 63_000, 9),
            (TransferStatus.Applied, 21_000, 84_000, 12),
        };
        Assert.Equal(expected.Length, result.Receipts.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            var r = result.Receipts[i];
            Assert.Equal(i, r.TransactionIndex);
            Assert.Equal(expected[i].Status, r.Outcome);
            Assert.Equal(expected[i].Status == TransferStatus.Applied ? 1 : 0, r.Status);
            Assert.Equal(expected[i].Gas, r.GasUsed);
            Assert.Equal(expected[i].Cumulative, r.CumulativeGasUsed);
            Assert.Equal(expected[i].Price, r.EffectiveGasPrice);
            Assert.Empty(r.Logs);
        }

        // The root is the root of a fresh tree holding exactly the expected accounts.
        var rebuilt = new AccountState(hasher);
        rebuilt.SetAccount(A, new Account(9_221_993, 3));
        rebuilt.SetAccount(B, new Account(80_900, 1));
        rebuilt.SetAccount(C, new Account(100, 0));
        rebuilt.SetAccount(F, new Account(357_007, 0));
        Assert.Equal(rebuilt.Root, result.PostStateRoot);
        Assert.Equal(state.Root, result.PostStateRoot);
        Assert.NotEqual(result.PreStateRoot, result.PostStateRoot);
        Assert.Equal(BatchCommitment.Compute(hasher, Params, Batch()), result.BatchCommitment);
    }

    [Fact]
    public void Witness_of_the_batch_passes_the_checker_at_the_documented_cost()
    {
        var hasher = new RollupHasher();
        var state = State(hasher);
        var batch = Batch();
        var result = new BatchExecutor(state).Execute(Params, batch);
        var w = result.Witness;
        Assert.Equal(result.PreStateRoot, w.PreStateRoot);
        Assert.Equal(result.PostStateRoot, w.PostStateRoot);
        Assert.Null(w.Transfers[3].Receiver);
        Assert.NotNull(w.Transfers[1].Receiver);
        Assert.Equal(Account.Empty, w.Transfers[1].Receiver!.Before); // C did not exist
        Assert.Equal((UInt128)357_000, w.FeeRecipient.Tips);

        long before = hasher.Permutations;
        WitnessChecker.Check(hasher, w);
        long used = hasher.Permutations - before;
        // Applied transfer: 4 path walks of 160 + 4 leaves; skipped: 1 walk + 1 leaf;
        // fee recipient: 2 walks + 2 leaves; commitment: ceil((14 + 23 n) / 8).
        long expected = 4 * 644 + 3 * 161 + 322 + BatchCommitment.Permutations(batch.Count);
        Assert.Equal(expected, used);
    }

    [Fact]
    public void Empty_batch_still_opens_the_fee_recipient_and_keeps_the_root()
    {
        var hasher = new RollupHasher();
        var state = State(hasher);
        var root = state.Root;
        var result = new BatchExecutor(state).Execute(Params, []);
        Assert.Empty(result.Receipts);
        Assert.Equal(root, result.PostStateRoot);
        WitnessChecker.Check(hasher, result.Witness);
    }

    [Fact]
    public void Transfer_for_another_chain_or_an_oversized_batch_is_refused_before_any_change()
    {
        var hasher = new RollupHasher();
        var state = State(hasher);
        var root = state.Root;
        var executor = new BatchExecutor(state);
        var wrongChain = new Transfer(2, 5, A, B, 1, 0, 10, 0, 21_000, Hash32.Zero);
        Assert.Throws<RollupException>(() => executor.Execute(Params, [TestData.Transfer(A, B, 1, 0), wrongChain]));
        Assert.Equal(root, state.Root);
        var tooMany = Enumerable.Repeat(TestData.Transfer(A, B, 1, 0), BatchCommitment.MaxTransfers + 1).ToList();
        Assert.Throws<RollupException>(() => executor.Execute(Params, tooMany));
        Assert.Equal(root, state.Root);
    }

    [Fact]
    public void Balance_of_2_pow_128_minus_1_moves_whole_at_zero_base_fee_and_the_witness_checks()
    {
        var hasher = new RollupHasher();
        var state = new RollupGenesis([KeyValuePair.Create(A, UInt128.MaxValue)]).CreateState(hasher);
        var parameters = Params with { BaseFeePerGas = 0 };
        var result = new BatchExecutor(state).Execute(parameters, [TestData.Transfer(A, B, UInt128.MaxValue, 0, maxFee: 0, priority: 0)]);
        Assert.Equal(TransferStatus.Applied, result.Receipts[0].Outcome);
        Assert.Equal(new Account(0, 1), state.GetAccount(A));
        Assert.Equal(new Account(UInt128.MaxValue, 0), state.GetAccount(B));
        WitnessChecker.Check(hasher, result.Witness);
    }

    [Fact]
    public void Overflowing_receiver_is_a_broken_invariant_not_a_silent_wrap()
    {
        // Only reachable by building a state with more than 2^128 - 1 wei, which genesis refuses.
        var hasher = new RollupHasher();
        var state = new AccountState(hasher);
        state.SetAccount(A, new Account(10, 0));
        state.SetAccount(B, new Account(UInt128.MaxValue, 0));
        Assert.Throws<RollupInvariantException>(() =>
            new BatchExecutor(state).Execute(Params with { BaseFeePerGas = 0 }, [TestData.Transfer(A, B, 1, 0, maxFee: 0, priority: 0)]));
    }
}
