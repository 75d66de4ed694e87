using FsCheck;
using FsCheck.Fluent;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup.Genesis;
using Keel.Rollup.State;
using Keel.Sequencer.Application;
using Keel.Sequencer.Mempool;
using Keel.Sequencer.Namespaces;
using Keel.Sequencer.Tests.TestData;

namespace Keel.Sequencer.Tests.Mempool;

public class TransferMempoolTests
{
    private const ulong Chain = 901;
    private static readonly TxFactory Tx = new(Chain);
    private static readonly UInt128 Ether = 1_000_000_000_000_000_000UL;

    private readonly CommittedAccounts _accounts = new(RollupGenesis.Devnet().Allocations.Select(a => KeyValuePair.Create(a.Key, new Account(a.Value, 0))));

    private TransferMempool Pool(Func<NamespaceConfig, NamespaceConfig>? tweak = null) =>
        new((tweak ?? (c => c))(NamespaceConfig.Transfer(Chain, AppHarness.FeeRecipient)), _accounts);

    private static MempoolRejectedException Rejects(TransferMempool pool, byte[] raw, MempoolError expected)
    {
        var e = Assert.Throws<MempoolRejectedException>(() => pool.Submit(raw));
        Assert.Equal(expected, e.Error);
        return e;
    }

    [Fact]
    public void Dev_keys_are_the_anvil_accounts() =>
        Assert.Equal(RollupGenesis.AnvilDevAccounts, Enumerable.Range(0, DevKeys.Count).Select(DevKeys.Address));

    [Fact]
    public void Accepts_legacy_and_eip1559_and_counts_the_pending_nonce()
    {
        var pool = Pool();
        var first = pool.Submit(Tx.Legacy(0, 0));
        pool.Submit(Tx.Transfer(0, 1));
        Assert.Equal(Keccak256.HashToHash32(Tx.Legacy(0, 0)), first.Hash);
        Assert.Null(first.Replaced);
        Assert.Equal(2, pool.Count);
        Assert.Equal(2UL, pool.PendingNonce(DevKeys.Address(0)));
        Assert.Equal(0UL, pool.PendingNonce(DevKeys.Address(1)));
        Assert.True(pool.Contains(first.Hash));
        Assert.True(pool.TryGetRaw(first.Hash, out var raw));
        Assert.Equal(Tx.Legacy(0, 0), raw);
    }

    [Fact]
    public void A_gap_holds_the_pending_nonce_until_filled()
    {
        var pool = Pool();
        pool.Submit(Tx.Transfer(0, 2));
        Assert.Equal(0UL, pool.PendingNonce(DevKeys.Address(0)));
        Assert.False(pool.HasReady);
        pool.Submit(Tx.Transfer(0, 0));
        Assert.True(pool.HasReady);
        Assert.Equal(1UL, pool.PendingNonce(DevKeys.Address(0)));
        pool.Submit(Tx.Transfer(0, 1));
        Assert.Equal(3UL, pool.PendingNonce(DevKeys.Address(0)));
    }

    [Fact]
    public void Identical_transaction_is_already_known()
    {
        var pool = Pool();
        pool.Submit(Tx.Transfer(0, 0));
        var e = Rejects(pool, Tx.Transfer(0, 0), MempoolError.AlreadyKnown);
        Assert.Equal("already known", e.RpcMessage);
        Assert.Equal(-32000, MempoolRejectedException.RpcCode);
    }

    [Fact]
    public void Nonce_below_committed_is_too_low_and_beyond_the_gap_too_high()
    {
        var pool = Pool(c => c with { MempoolMaxNonceGap = 8 });
        _accounts.Apply(new Dictionary<Address, Account> { [DevKeys.Address(0)] = new(10 * Ether, 5) });
        Assert.Equal("nonce too low", Rejects(pool, Tx.Transfer(0, 4), MempoolError.NonceTooLow).RpcMessage);
        pool.Submit(Tx.Transfer(0, 5 + 7));
        Assert.Equal("nonce too high", Rejects(pool, Tx.Transfer(0, 5 + 8), MempoolError.NonceTooHigh).RpcMessage);
        Assert.Equal(5UL, pool.PendingNonce(DevKeys.Address(0)));
    }

    [Fact]
    public void Replacement_needs_ten_percent_more_on_both_fee_caps()
    {
        var pool = Pool();
        UInt128 fee = 2_000_000_000, tip = 1_000_000_000;
        var original = pool.Submit(Tx.WithFees(0, 0, fee, tip));
        var e = Rejects(pool, Tx.WithFees(0, 0, fee * 11 / 10, tip * 11 / 10 - 1), MempoolError.ReplacementUnderpriced);
        Assert.Equal("replacement transaction underpriced", e.RpcMessage);
        Rejects(pool, Tx.WithFees(0, 0, fee * 11 / 10 - 1, tip * 2), MempoolError.ReplacementUnderpriced);
        var replacement = pool.Submit(Tx.WithFees(0, 0, fee * 11 / 10, tip * 11 / 10));
        Assert.Equal(original.Hash, replacement.Replaced);
        Assert.Equal(1, pool.Count);
        Assert.False(pool.Contains(original.Hash));
        Assert.True(pool.TryGetDropped(original.Hash, out var dropped));
        Assert.Equal(MempoolError.Replaced, dropped.Reason);
    }

    [Fact]
    public void The_senders_queue_must_be_payable_from_the_committed_balance()
    {
        var pool = Pool();
        var balance = RollupGenesis.DevAccountBalance;
        var e = Rejects(pool, Tx.Transfer(0, 0, value: balance), MempoolError.InsufficientFunds);
        Assert.Equal("insufficient funds for gas * price + value", e.RpcMessage);
        pool.Submit(Tx.Transfer(0, 0, value: balance / 2));
        Rejects(pool, Tx.Transfer(0, 1, value: balance / 2), MempoolError.InsufficientFunds);
        pool.Submit(Tx.Transfer(0, 1, value: balance / 4));
    }

    [Fact]
    public void Fee_cap_below_base_fee_is_refused()
    {
        var pool = Pool(c => c with { BaseFeePerGas = 3_000_000_000 });
        Assert.Equal("max fee per gas less than block base fee", Rejects(pool, Tx.Transfer(0, 0, maxFeeGwei: 2), MempoolError.FeeCapBelowBaseFee).RpcMessage);
    }

    [Theory]
    [InlineData("chain", MempoolError.InvalidChainId)]
    [InlineData("data", MempoolError.NotATransfer)]
    [InlineData("gas-low", MempoolError.IntrinsicGasTooLow)]
    [InlineData("gas-high", MempoolError.ExceedsBlockGasLimit)]
    [InlineData("tip-above-cap", MempoolError.TipAboveFeeCap)]
    [InlineData("garbage", MempoolError.Malformed)]
    [InlineData("empty", MempoolError.Malformed)]
    [InlineData("oversized", MempoolError.Oversized)]
    public void Bad_transactions_get_typed_errors(string kind, MempoolError expected)
    {
        var pool = Pool();
        byte[] raw = kind switch
        {
            "chain" => Tx.Transfer(0, 0, chainId: 1),
            "data" => Tx.Transfer(0, 0, data: [1, 2, 3]),
            "gas-low" => Tx.Transfer(0, 0, gasLimit: 20_999),
            "gas-high" => Tx.Transfer(0, 0, gasLimit: 30_000_001),
            "tip-above-cap" => Tx.Transfer(0, 0, maxFeeGwei: 2, tipGwei: 3),
            "garbage" => [0xC3, 0x01, 0x02],
            "empty" => [],
            "oversized" => Tx.Transfer(0, 0, data: new byte[3000]),
            _ => throw new ArgumentException(kind),
        };
        var e = Rejects(pool, raw, expected);
        Assert.False(string.IsNullOrWhiteSpace(e.RpcMessage));
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void A_full_pool_refuses_and_evicts_nothing()
    {
        var pool = Pool(c => c with { MempoolMaxTxs = 3 });
        var accepted = Enumerable.Range(0, 3).Select(i => pool.Submit(Tx.Transfer(i, 0)).Hash).ToList();
        Assert.Equal("txpool is full", Rejects(pool, Tx.Transfer(3, 0), MempoolError.PoolFull).RpcMessage);
        Assert.All(accepted, h => Assert.True(pool.Contains(h)));
        // A replacement does not grow the pool, so it is still possible.
        pool.Submit(Tx.Transfer(0, 0, maxFeeGwei: 4, tipGwei: 2));
    }

    [Fact]
    public void Byte_limit_refuses_when_reached()
    {
        var pool = Pool(c => c with { MaxTxBytes = 200, MempoolMaxBytes = 200 });
        pool.Submit(Tx.Transfer(0, 0));
        Assert.Equal(MempoolError.PoolFull, Rejects(pool, Tx.Transfer(1, 0), MempoolError.PoolFull).Error);
    }

    [Fact]
    public void Per_sender_queue_is_bounded()
    {
        var pool = Pool(c => c with { MempoolMaxTxsPerSender = 2 });
        pool.Submit(Tx.Transfer(0, 0));
        pool.Submit(Tx.Transfer(0, 1));
        Assert.Equal("account limit exceeded", Rejects(pool, Tx.Transfer(0, 2), MempoolError.AccountLimitExceeded).RpcMessage);
        pool.Submit(Tx.Transfer(1, 0));
    }

    [Fact]
    public void Commit_removes_included_and_drops_what_became_invalid_with_reasons()
    {
        var pool = Pool();
        var a0 = pool.Submit(Tx.Transfer(0, 0)).Hash;
        var a1 = pool.Submit(Tx.Transfer(0, 1)).Hash;
        var a2 = pool.Submit(Tx.Transfer(0, 2, value: Ether)).Hash;
        var b0 = pool.Submit(Tx.Transfer(1, 0)).Hash;
        var c0 = pool.Submit(Tx.Transfer(2, 0)).Hash;

        // The block included a0 and another transaction with sender 1's nonce 0, and drained sender 0.
        _accounts.Apply(new Dictionary<Address, Account>
        {
            [DevKeys.Address(0)] = new(Ether / 2, 1),
            [DevKeys.Address(1)] = new(Ether, 1),
        });
        var dropped = pool.OnCommitted([a0], [DevKeys.Address(0), DevKeys.Address(1)]);

        Assert.False(pool.Contains(a0));
        Assert.True(pool.Contains(a1));
        Assert.True(pool.Contains(c0));
        Assert.Equal(2, dropped.Count);
        Assert.Contains(dropped, d => d.Hash == a2 && d.Reason == MempoolError.InsufficientFunds);
        Assert.Contains(dropped, d => d.Hash == b0 && d.Reason == MempoolError.NonceUsed);
        Assert.True(pool.TryGetDropped(b0, out var why));
        Assert.Equal(MempoolError.NonceUsed, why.Reason);
        Assert.Equal(2, pool.Count);
        Assert.Equal(2UL, pool.PendingNonce(DevKeys.Address(0)));
        Assert.Equal(pool.Count, pool.SnapshotQueues().Sum(q => q.Count));
    }

    [Fact]
    public void Concurrent_submissions_are_all_accounted_for()
    {
        var pool = Pool();
        var raws = Enumerable.Range(0, DevKeys.Count).SelectMany(k => Enumerable.Range(0, 5).Select(n => Tx.Transfer(k, (ulong)n))).ToList();
        Parallel.ForEach(raws, raw => pool.Submit(raw));
        Assert.Equal(raws.Count, pool.Count);
        Assert.Equal(raws.Sum(r => (long)r.Length), pool.Bytes);
        Assert.All(Enumerable.Range(0, DevKeys.Count), k => Assert.Equal(5UL, pool.PendingNonce(DevKeys.Address(k))));
    }
}

public class TransferMempoolPropertyTests
{
    [Fact]
    public void Random_submissions_match_a_simple_model()
    {
        var op = from sender in Gen.Choose(0, 2)
                 from nonce in Gen.Choose(0, 5)
                 from fee in Gen.Choose(1, 8)
                 from tip in Gen.Choose(0, fee)
                 select (sender, nonce, fee, tip);
        Prop.ForAll(Gen.ListOf(op).Select(l => l.Take(25).ToList()).ToArbitrary(), ops =>
        {
            var accounts = new CommittedAccounts(RollupGenesis.Devnet().Allocations.Select(a => KeyValuePair.Create(a.Key, new Account(a.Value, 0))));
            var pool = new TransferMempool(NamespaceConfig.Transfer(901, AppHarness.FeeRecipient), accounts);
            var tx = new TxFactory(901);
            var model = new Dictionary<(int, int), (int Fee, int Tip)>();
            foreach (var (sender, nonce, fee, tip) in ops)
            {
                var raw = tx.WithFees(sender, (ulong)nonce, (UInt128)fee * TxFactory.Gwei, (UInt128)tip * TxFactory.Gwei);
                MempoolError? expected = null;
                if (model.TryGetValue((sender, nonce), out var old))
                {
                    if (old == (fee, tip))
                    {
                        expected = MempoolError.AlreadyKnown;
                    }
                    else if (fee * 100 < old.Fee * 110 || tip * 100 < old.Tip * 110)
                    {
                        expected = MempoolError.ReplacementUnderpriced;
                    }
                }
                try
                {
                    pool.Submit(raw);
                    if (expected is not null)
                    {
                        return false;
                    }
                    model[(sender, nonce)] = (fee, tip);
                }
                catch (MempoolRejectedException e)
                {
                    if (e.Error != expected)
                    {
                        return false;
                    }
                }
            }
            if (pool.Count != model.Count || pool.SnapshotQueues().Sum(q => q.Count) != model.Count)
            {
                return false;
            }
            for (var s = 0; s < 3; s++)
            {
                var next = 0;
                while (model.ContainsKey((s, next)))
                {
                    next++;
                }
                if (pool.PendingNonce(DevKeys.Address(s)) != (ulong)next)
                {
                    return false;
                }
                var queue = pool.SnapshotQueues().FirstOrDefault(q => q[0].Transfer.From == DevKeys.Address(s)) ?? [];
                if (!queue.Select(e => e.Transfer.Nonce).SequenceEqual(queue.Select(e => e.Transfer.Nonce).Order()))
                {
                    return false;
                }
            }
            return pool.HasReady == Enumerable.Range(0, 3).Any(s => model.ContainsKey((s, 0)));
        }).QuickCheckThrowOnFailure();
    }
}
