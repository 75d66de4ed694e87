using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Sequencer.Application;
using Keel.Sequencer.Availability;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Mempool;
using Keel.Sequencer.Merkle;
using Keel.Sequencer.Namespaces;
using Keel.Sequencer.Tests.TestData;

namespace Keel.Sequencer.Tests.Application;

public class SequencerApplicationTests
{
    private const ulong A = AppHarness.ChainA;
    private const ulong B = AppHarness.ChainB;
    private const ulong O = AppHarness.OpaqueChain;
    private const ulong Gwei = TxFactory.Gwei;

    private static Hash32 H(byte[] raw) => Keccak256.HashToHash32(raw);

    private static Hash32 RootAfter(params Block[] chain)
    {
        var f = AccumulatorFrontier.Empty;
        foreach (var b in chain)
        {
            f = f.Append(b.Hash);
        }
        return f.Root;
    }

    [Fact]
    public void Empty_proposal_has_one_entry_per_namespace_and_the_genesis_accumulator()
    {
        var h = new AppHarness();
        Assert.False(h.App.HasPendingPayload);
        var block = h.Propose(h.Genesis);
        var header = SequencerHeader.FromBlock(block);
        Assert.Equal(RootAfter(h.Genesis), header.HeadersRoot);
        var table = HeaderOracle.Table(h.Namespaces, block.Payload.ToArray());
        Assert.Equal(table.Root, header.NamespaceTableRoot);
        Assert.Equal(new ulong[] { A, B, O }, table.Entries.Select(e => e.NamespaceId));
        Assert.All(table.Entries, e => Assert.Equal(0u, e.TxCount));
        Assert.Equal(NamespaceEntry.ToWord(BatchCommitment.Compute(RollupHasher.Shared, h.Namespaces[0].RollupParameters, [])), table.Entries[0].BatchCommitment);
        Assert.Equal(Hash32.Zero, table.Entries[2].BatchCommitment);
        Assert.True(h.App.ProcessProposal(block));
    }

    [Fact]
    public void Transfers_flow_from_mempool_to_block_to_commit_and_match_the_rollup_executor()
    {
        var leader = new AppHarness();
        var validator = new AppHarness();
        var a0 = leader.A.Transfer(0, 0, value: 5 * Gwei);
        var a1 = leader.A.Transfer(0, 1, value: 6 * Gwei);
        var a2 = leader.A.Legacy(1, 0, to: DevKeys.Address(0), value: 7 * Gwei, gasPriceGwei: 5);
        var b0 = leader.B.Transfer(2, 0, value: 8 * Gwei);
        byte[] blob = [0xDE, 0xAD];
        foreach (var raw in new[] { a0, a1, a2 })
        {
            leader.App.Submit(A, raw);
        }
        leader.App.Submit(B, b0);
        leader.App.Submit(O, blob);
        Assert.True(leader.App.HasPendingPayload);
        Assert.Equal(2UL, leader.App.PendingNonce(A, DevKeys.Address(0)));

        var block = leader.Propose(leader.Genesis);
        var sections = BlockPayloadCodec.Decode(block.Payload.ToArray(), leader.Namespaces);
        // Sender 1 tips 4 gwei (legacy: price 5 - base 1), sender 0 tips 1 gwei: sender 1 first.
        Assert.Equal(new[] { H(a2), H(a0), H(a1) }, sections[0].Transactions.Select(t => H(t.ToArray())));
        Assert.Equal(new[] { H(b0) }, sections[1].Transactions.Select(t => H(t.ToArray())));
        Assert.Equal(new[] { H(blob) }, sections[2].Transactions.Select(t => H(t.ToArray())));
        Assert.Equal(HeaderOracle.Table(leader.Namespaces, block.Payload.ToArray()).Root, SequencerHeader.FromBlock(block).NamespaceTableRoot);

        // A validator with an empty mempool decodes and checks everything itself.
        Assert.True(validator.App.ProcessProposal(block), validator.App.LastRejection?.Message);
        Assert.True(leader.App.ProcessProposal(block));
        var qc = AppHarness.Qc(block);
        leader.App.Commit(block, qc);
        validator.App.Commit(block, qc);

        Assert.Equal(0, leader.App.Mempool(A).Count);
        Assert.Equal(0, leader.App.Mempool(B).Count);
        Assert.Equal(0, leader.App.Mempool(O).Count);
        Assert.False(leader.App.HasPendingPayload);
        Assert.Equal(2UL, leader.App.PendingNonce(A, DevKeys.Address(0)));

        var committed = Assert.Single(leader.Sink.Blocks);
        Assert.Equal(1, committed.Height);
        var batchA = committed.Batches[0];
        Assert.Equal(3u, batchA.Entry.TxCount);
        Assert.Equal(3, batchA.Transfers!.Count);
        Assert.Null(committed.Batches[2].Transfers);

        // The plain map the validators check against equals what the rollup executor computes.
        var state = RollupGenesis.Devnet().CreateState();
        var result = new BatchExecutor(state).Execute(batchA.RollupParameters, batchA.Transfers);
        Assert.All(result.Receipts, r => Assert.Equal(1, r.Status));
        Assert.Equal(NamespaceEntry.ToWord(result.BatchCommitment), batchA.Entry.BatchCommitment);
        foreach (var address in new[] { DevKeys.Address(0), DevKeys.Address(1), DevKeys.Address(2), AppHarness.FeeRecipient })
        {
            Assert.Equal(state.GetAccount(address), leader.App.CommittedAccounts(A).GetAccount(address));
            Assert.Equal(state.GetAccount(address), validator.App.CommittedAccounts(A).GetAccount(address));
        }
        Assert.Equal(new Account(RollupGenesis.DevAccountBalance, 0), leader.App.CommittedAccounts(B).GetAccount(DevKeys.Address(0)));
        Assert.Equal(1UL, leader.App.CommittedAccounts(B).GetAccount(DevKeys.Address(2)).Nonce);
    }

    [Fact]
    public void A_child_of_an_uncommitted_block_continues_its_pending_state()
    {
        var leader = new AppHarness();
        var validator = new AppHarness();
        for (ulong n = 0; n < 4; n++)
        {
            leader.App.Submit(A, leader.A.Transfer(0, n));
        }
        leader.App.Submit(O, [1]);
        var b1 = leader.Propose(leader.Genesis);
        Assert.True(leader.App.ProcessProposal(b1));
        leader.App.Submit(A, leader.A.Transfer(0, 4));
        leader.App.Submit(O, [2]);
        var b2 = leader.Propose(b1);
        var s2 = BlockPayloadCodec.Decode(b2.Payload.ToArray(), leader.Namespaces);
        Assert.Equal(new[] { H(leader.A.Transfer(0, 4)) }, s2[0].Transactions.Select(t => H(t.ToArray())));
        Assert.Equal(new[] { H([2]) }, s2[2].Transactions.Select(t => H(t.ToArray())));
        Assert.Equal(RootAfter(leader.Genesis, b1), SequencerHeader.FromBlock(b2).HeadersRoot);

        Assert.True(validator.App.ProcessProposal(b1));
        Assert.True(validator.App.ProcessProposal(b2), validator.App.LastRejection?.Message);
        Assert.True(leader.App.ProcessProposal(b2));
        Assert.Equal(2, validator.App.PendingBlocks);
        foreach (var app in new[] { leader.App, validator.App })
        {
            app.Commit(b1, AppHarness.Qc(b1));
            app.Commit(b2, AppHarness.Qc(b2));
            Assert.Equal(5UL, app.CommittedAccounts(A).GetAccount(DevKeys.Address(0)).Nonce);
            Assert.Equal(0, app.PendingBlocks);
        }
    }

    [Fact]
    public void Block_limits_spill_into_the_next_block_in_nonce_order()
    {
        var h = new AppHarness(AppHarness.DefaultNamespaces(c => c with { MaxTxsPerBlock = 3 }));
        for (ulong n = 0; n < 5; n++)
        {
            h.App.Submit(A, h.A.Transfer(3, n));
        }
        var b1 = h.ProposeAndCommit(h.Genesis);
        Assert.Equal(3u, h.Sink.Blocks[0].Batches[0].Entry.TxCount);
        Assert.True(h.App.HasPendingPayload);
        h.ProposeAndCommit(b1);
        Assert.Equal(new ulong[] { 3, 4 }, h.Sink.Blocks[1].Batches[0].Transfers!.Select(t => t.Nonce));
        Assert.False(h.App.HasPendingPayload);
    }

    [Fact]
    public void Gapped_transactions_wait_and_are_not_proposed()
    {
        var h = new AppHarness();
        h.App.Submit(A, h.A.Transfer(0, 1));
        Assert.False(h.App.HasPendingPayload);
        var b1 = h.ProposeAndCommit(h.Genesis);
        Assert.Equal(0u, h.Sink.Blocks[0].Batches[0].Entry.TxCount);
        h.App.Submit(A, h.A.Transfer(0, 0));
        h.ProposeAndCommit(b1);
        Assert.Equal(new ulong[] { 0, 1 }, h.Sink.Blocks[1].Batches[0].Transfers!.Select(t => t.Nonce));
    }

    [Theory]
    [InlineData("nonce-gap")]
    [InlineData("overdraft")]
    [InlineData("wrong-chain")]
    [InlineData("bad-signature")]
    [InlineData("fee-below-base")]
    public void Validators_refuse_invalid_transfers_with_a_reason(string kind)
    {
        var h = new AppHarness();
        var f = h.A;
        byte[] tx = kind switch
        {
            "nonce-gap" => f.Transfer(0, 3),
            "overdraft" => f.Transfer(0, 0, value: RollupGenesis.DevAccountBalance),
            "wrong-chain" => h.B.Transfer(0, 0),
            "bad-signature" => Corrupt(f.Transfer(0, 0)),
            "fee-below-base" => f.Transfer(0, 0, maxFeeGwei: 0, tipGwei: 0),
            _ => throw new ArgumentException(kind),
        };
        var payload = HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [tx] });
        var appHeader = new AppHeader(1, Hash32.Zero, RootAfter(h.Genesis)).Encode(); // the table root is not reached
        var block = AppHarness.MakeBlock(h.Genesis, appHeader, payload);
        Assert.False(h.App.ProcessProposal(block));
        Assert.Equal(PayloadError.InvalidTransaction, h.App.LastRejection!.Error);
        Assert.Equal(1, h.App.RejectedProposals);
    }

    [Fact]
    public void Large_blocks_are_recovered_in_parallel_with_the_same_verdicts()
    {
        var leader = new AppHarness();
        var raws = Enumerable.Range(0, DevKeys.Count).SelectMany(k => Enumerable.Range(0, 10).Select(n => leader.A.Transfer(k, (ulong)n))).ToList();
        raws.ForEach(r => leader.App.Submit(A, r));
        var block = leader.Propose(leader.Genesis);
        Assert.Equal(100u, HeaderOracle.Table(leader.Namespaces, block.Payload.ToArray()).Entries[0].TxCount);
        Assert.True(new AppHarness().App.ProcessProposal(block));

        var bad = raws.ToList();
        bad[77] = Corrupt(bad[77]);
        var payload = HeaderOracle.Payload(leader.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [.. bad] });
        var cold = new AppHarness();
        Assert.False(cold.App.ProcessProposal(AppHarness.MakeBlock(cold.Genesis, block.AppHeader, payload)));
        Assert.Equal(PayloadError.InvalidTransaction, cold.App.LastRejection!.Error);
        Assert.Contains("transaction 77", cold.App.LastRejection.Message);
    }

    private static byte[] Corrupt(byte[] raw)
    {
        var copy = (byte[])raw.Clone();
        copy[^5] ^= 0x55; // inside s
        return copy;
    }

    [Fact]
    public void A_transaction_already_in_the_parent_is_a_double_spend()
    {
        var h = new AppHarness();
        var tx = h.A.Transfer(0, 0);
        var p1 = HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [tx], [O] = [[9]] });
        var b1 = HeaderOracle.Block(h.Namespaces, h.Genesis, RootAfter(h.Genesis), p1);
        Assert.True(h.App.ProcessProposal(b1), h.App.LastRejection?.Message);
        var again = HeaderOracle.Block(h.Namespaces, b1, RootAfter(h.Genesis, b1), p1);
        Assert.False(h.App.ProcessProposal(again));
        Assert.Equal(PayloadError.InvalidTransaction, h.App.LastRejection!.Error);
        var opaqueAgain = HeaderOracle.Block(h.Namespaces, b1, RootAfter(h.Genesis, b1), HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [O] = [[9]] }));
        Assert.False(h.App.ProcessProposal(opaqueAgain));
        Assert.Equal(PayloadError.DuplicateTransaction, h.App.LastRejection!.Error);
        var fine = HeaderOracle.Block(h.Namespaces, b1, RootAfter(h.Genesis, b1), HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [h.A.Transfer(0, 1)] }));
        Assert.True(h.App.ProcessProposal(fine), h.App.LastRejection?.Message);
    }

    [Theory]
    [InlineData("table-root", PayloadError.TableRootMismatch)]
    [InlineData("accumulator-root", PayloadError.AccumulatorMismatch)]
    [InlineData("app-header-size", PayloadError.Malformed)]
    [InlineData("app-header-version", PayloadError.UnsupportedVersion)]
    [InlineData("payload-truncated", PayloadError.Malformed)]
    [InlineData("payload-empty", PayloadError.Malformed)]
    [InlineData("namespace-missing", PayloadError.NamespaceMismatch)]
    [InlineData("too-many-txs", PayloadError.LimitExceeded)]
    [InlineData("unknown-parent", PayloadError.UnknownParent)]
    public void Malformed_blocks_are_refused_with_reasons(string kind, PayloadError expected)
    {
        var h = new AppHarness(AppHarness.DefaultNamespaces(c => c.Profile == ValidationProfile.Opaque ? c with { MaxTxsPerBlock = 2 } : c));
        var payload = HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [h.A.Transfer(0, 0)] });
        var good = HeaderOracle.Block(h.Namespaces, h.Genesis, RootAfter(h.Genesis), payload);
        var table = SequencerHeader.FromBlock(good).NamespaceTableRoot;
        var accumulator = RootAfter(h.Genesis);
        Block bad = kind switch
        {
            "table-root" => AppHarness.MakeBlock(h.Genesis, new AppHeader(1, Keccak256.HashToHash32([1]), accumulator).Encode(), payload),
            "accumulator-root" => AppHarness.MakeBlock(h.Genesis, new AppHeader(1, table, AccumulatorFrontier.Empty.Root).Encode(), payload),
            "app-header-size" => AppHarness.MakeBlock(h.Genesis, new byte[64], payload),
            "app-header-version" => AppHarness.MakeBlock(h.Genesis, new AppHeader(9, table, accumulator).Encode(), payload),
            "payload-truncated" => AppHarness.MakeBlock(h.Genesis, good.AppHeader, payload.AsSpan(0, payload.Length - 1)),
            "payload-empty" => AppHarness.MakeBlock(h.Genesis, good.AppHeader, []),
            "namespace-missing" => AppHarness.MakeBlock(h.Genesis, good.AppHeader, BlockPayloadCodec.Encode([(A, []), (B, [])])),
            "too-many-txs" => AppHarness.MakeBlock(h.Genesis, good.AppHeader, HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [O] = [[1], [2], [3]] })),
            "unknown-parent" => AppHarness.MakeBlock(AppHarness.MakeBlock(h.Genesis, good.AppHeader, payload), good.AppHeader, payload),
            _ => throw new ArgumentException(kind),
        };
        Assert.True(new AppHarness(h.Namespaces).App.ProcessProposal(good));
        Assert.False(h.App.ProcessProposal(bad));
        Assert.Equal(expected, h.App.LastRejection!.Error);
        Assert.False(string.IsNullOrWhiteSpace(h.App.LastRejection.Message));
    }

    [Fact]
    public void A_repeated_commit_after_a_crash_is_ignored_and_a_conflicting_one_is_an_invariant_break()
    {
        var h = new AppHarness();
        h.App.Submit(A, h.A.Transfer(0, 0));
        var b1 = h.ProposeAndCommit(h.Genesis);
        h.App.Commit(b1, AppHarness.Qc(b1));
        Assert.Single(h.Sink.Blocks);
        Assert.False(h.App.ProcessProposal(h.Propose(h.Genesis, round: 9)));
        Assert.Equal(PayloadError.Stale, h.App.LastRejection!.Error);
        Assert.Equal(1UL, h.App.CommittedAccounts(A).GetAccount(DevKeys.Address(0)).Nonce);

        var other = h.Propose(h.Genesis, round: 5);
        Assert.Throws<SequencerInvariantException>(() => h.App.Commit(other, AppHarness.Qc(other)));
        var b2 = h.Propose(b1);
        var b3 = AppHarness.MakeBlock(b2, b2.AppHeader, b2.Payload);
        Assert.Throws<SequencerInvariantException>(() => h.App.Commit(b3, AppHarness.Qc(b3))); // a gap
        Assert.Throws<SequencerInvariantException>(() => h.App.Commit(b2, AppHarness.Qc(b1)));
    }

    [Fact]
    public void A_certified_block_commits_even_if_never_processed_and_skips_what_cannot_apply_like_the_executor()
    {
        var h = new AppHarness();
        var ok = h.A.Transfer(0, 0, value: 3 * Gwei);
        var gap = h.A.Transfer(1, 7);
        var payload = HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [ok, gap] });
        var block = HeaderOracle.Block(h.Namespaces, h.Genesis, RootAfter(h.Genesis), payload);
        Assert.False(new AppHarness().App.ProcessProposal(block)); // no honest validator votes for it
        h.App.Commit(block, AppHarness.Qc(block));
        var batch = h.Sink.Blocks.Single().Batches[0];
        Assert.Equal(2, batch.Transfers!.Count);
        var state = RollupGenesis.Devnet().CreateState();
        var result = new BatchExecutor(state).Execute(batch.RollupParameters, batch.Transfers);
        Assert.Equal(new[] { 1, 0 }, result.Receipts.Select(r => r.Status));
        foreach (var address in new[] { DevKeys.Address(0), DevKeys.Address(1), AppHarness.FeeRecipient })
        {
            Assert.Equal(state.GetAccount(address), h.App.CommittedAccounts(A).GetAccount(address));
        }
    }

    [Fact]
    public void Forks_are_evaluated_independently_and_the_losers_pruned_on_commit()
    {
        var h = new AppHarness();
        h.App.Submit(A, h.A.Transfer(0, 0));
        var left = h.Propose(h.Genesis, round: 1);
        var right = HeaderOracle.Block(h.Namespaces, h.Genesis, RootAfter(h.Genesis), HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [h.A.Transfer(0, 0, value: 77)] }), round: 2);
        Assert.True(h.App.ProcessProposal(left));
        Assert.True(h.App.ProcessProposal(right), h.App.LastRejection?.Message);
        var rightChild = HeaderOracle.Block(h.Namespaces, right, RootAfter(h.Genesis, right), HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [h.A.Transfer(0, 1)] }));
        Assert.True(h.App.ProcessProposal(rightChild), h.App.LastRejection?.Message);
        var leftChild = h.Propose(left);
        Assert.True(h.App.ProcessProposal(leftChild));
        Assert.Equal(4, h.App.PendingBlocks);

        h.App.Commit(right, AppHarness.Qc(right));
        Assert.Equal(1, h.App.PendingBlocks); // rightChild remains, left and its child are gone
        h.App.Commit(rightChild, AppHarness.Qc(rightChild));
        Assert.Equal(2UL, h.App.CommittedAccounts(A).GetAccount(DevKeys.Address(0)).Nonce);
        // The mempool's own nonce-0 transaction lost to the fork's and is dropped with the reason.
        var dropped = h.Sink.Blocks[0].Dropped.Single();
        Assert.Equal(MempoolError.NonceUsed, dropped.Dropped.Reason);
    }

    [Fact]
    public void Transactions_of_a_block_that_lost_a_fork_stay_pooled_and_are_proposed_again()
    {
        var h = new AppHarness();
        var tx = h.A.Transfer(4, 0);
        h.App.Submit(A, tx);
        h.App.Submit(O, [42]);
        var loser = h.Propose(h.Genesis, round: 1);
        Assert.True(h.App.ProcessProposal(loser));
        var winner = HeaderOracle.Block(h.Namespaces, h.Genesis, RootAfter(h.Genesis), HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]>()), round: 2);
        Assert.True(h.App.ProcessProposal(winner));
        h.App.Commit(winner, AppHarness.Qc(winner));
        Assert.True(h.App.Mempool(A).Contains(H(tx)));
        Assert.True(h.App.HasPendingPayload);
        h.ProposeAndCommit(winner);
        var last = h.Sink.Blocks[^1];
        Assert.Equal(new[] { H(tx) }, last.Batches[0].Transactions.Select(H));
        Assert.Equal(new[] { H([42]) }, last.Batches[2].Transactions.Select(H));
    }

    [Fact]
    public void A_parent_seen_only_by_consensus_is_rebuilt_through_the_lookup()
    {
        var leader = new AppHarness();
        leader.App.Submit(A, leader.A.Transfer(0, 0));
        var b1 = leader.Propose(leader.Genesis);
        Assert.True(leader.App.ProcessProposal(b1));
        leader.App.Submit(A, leader.A.Transfer(0, 1));
        var b2 = leader.Propose(b1);

        var blind = new AppHarness();
        Assert.False(blind.App.ProcessProposal(b2));
        Assert.Equal(PayloadError.UnknownParent, blind.App.LastRejection!.Error);

        var known = new Dictionary<Hash32, Block> { [b1.Hash] = b1 };
        var synced = new AppHarness(lookup: hash => known.GetValueOrDefault(hash));
        Assert.True(synced.App.ProcessProposal(b2), synced.App.LastRejection?.Message);
        Assert.Equal(2, synced.App.PendingBlocks);
    }

    [Fact]
    public void A_block_rebuilt_as_certified_is_still_checked_strictly_before_a_vote()
    {
        var h = new AppHarness();
        var bad = HeaderOracle.Block(h.Namespaces, h.Genesis, RootAfter(h.Genesis),
            HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]> { [A] = [h.A.Transfer(0, 9)] }));
        var child = HeaderOracle.Block(h.Namespaces, bad, RootAfter(h.Genesis, bad), HeaderOracle.Payload(h.Namespaces, new Dictionary<ulong, byte[][]>()));
        var synced = new AppHarness(lookup: hash => hash == bad.Hash ? bad : null);
        Assert.True(synced.App.ProcessProposal(child), synced.App.LastRejection?.Message);
        Assert.False(synced.App.ProcessProposal(bad));
        Assert.Equal(PayloadError.InvalidTransaction, synced.App.LastRejection!.Error);
    }

    [Fact]
    public void Restart_replays_the_block_store()
    {
        var store = new InMemoryBlockStore();
        var h = new AppHarness(store: store);
        var tip = h.Genesis;
        for (var i = 0; i < 4; i++)
        {
            h.App.Submit(A, h.A.Transfer(i, 0));
            h.App.Submit(O, [(byte)i]);
            tip = h.ProposeAndCommit(tip);
        }
        var restarted = new AppHarness(store: store, genesis: h.Genesis);
        Assert.Equal(4, restarted.App.CommittedHeight);
        Assert.Equal(tip.Hash, restarted.App.CommittedHash);
        for (var i = 0; i < DevKeys.Count; i++)
        {
            Assert.Equal(h.App.CommittedAccounts(A).GetAccount(DevKeys.Address(i)), restarted.App.CommittedAccounts(A).GetAccount(DevKeys.Address(i)));
        }
        Assert.Equal(h.App.CommittedAccounts(A).GetAccount(AppHarness.FeeRecipient), restarted.App.CommittedAccounts(A).GetAccount(AppHarness.FeeRecipient));
        // The crash repeat of the last block, then the next height, both work after the restart.
        restarted.App.Commit(tip, AppHarness.Qc(tip));
        restarted.App.Submit(A, restarted.A.Transfer(0, 1));
        var next = restarted.ProposeAndCommit(tip);
        Assert.Equal(RootAfter([h.Genesis, .. Enumerable.Range(1, 4).Select(i => store.GetByHeight(i)!.Block)]), SequencerHeader.FromBlock(next).HeadersRoot);
    }

    [Fact]
    public void Committed_payloads_and_headers_are_served_with_proofs_that_verify_against_headers()
    {
        var h = new AppHarness();
        var tip = h.Genesis;
        var blocks = new List<Block> { h.Genesis };
        for (var i = 0; i < 6; i++)
        {
            h.App.Submit(A, h.A.Transfer(i % 3, (ulong)(i / 3)));
            h.App.Submit(O, [(byte)i, 0xFF]);
            tip = h.ProposeAndCommit(tip);
            blocks.Add(tip);
        }
        for (var height = 1; height <= 6; height++)
        {
            foreach (var ns in new[] { A, B, O })
            {
                var proof = h.App.GetNamespacePayload(height, ns)!;
                Assert.True(proof.Verify(ns));
                Assert.Equal(blocks[height].Hash, proof.Header.Hash);
                Assert.False(proof.Verify(ns == A ? B : A));
                if (proof.Transactions.Count > 0)
                {
                    Assert.False((proof with { Transactions = proof.Transactions.Skip(1).ToList() }).Verify(ns));
                }
            }
        }
        Assert.Null(h.App.GetNamespacePayload(7, A));
        Assert.Equal(blocks[4].Hash, h.App.GetNamespacePayload(blocks[4].Hash, O)!.Header.Hash);
        Assert.Null(h.App.GetNamespacePayload(h.Genesis.Hash, O));
        Assert.Null(h.App.GetNamespacePayload(3, 12345));

        // L1 holds only the header at height 6; it checks any earlier header against its accumulator root.
        var latest = SequencerHeader.FromBlock(blocks[6]);
        for (var height = 0; height < 6; height++)
        {
            var proof = h.App.ProveHeader(height, 6);
            Assert.Equal(latest.HeadersRoot, proof.AccumulatorRoot);
            Assert.Equal(blocks[height].Hash, proof.HeaderHash);
            Assert.True(proof.Verify());
            Assert.False((proof with { HeaderHash = blocks[(height + 1) % 6].Hash }).Verify());
        }
        var older = h.App.ProveHeader(1, 3);
        Assert.Equal(SequencerHeader.FromBlock(blocks[3]).HeadersRoot, older.AccumulatorRoot);
        Assert.True(older.Verify());
        Assert.Throws<ArgumentOutOfRangeException>(() => h.App.ProveHeader(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.App.ProveHeader(1, 8));
    }

    [Fact]
    public void Unknown_namespace_and_profile_misuse_are_typed_errors()
    {
        var h = new AppHarness();
        Assert.Equal(MempoolError.UnknownNamespace, Assert.Throws<MempoolRejectedException>(() => h.App.Submit(1, [1])).Error);
        Assert.Throws<SequencerConfigException>(() => h.App.PendingNonce(O, DevKeys.Address(0)));
        Assert.Throws<SequencerConfigException>(() => h.App.CommittedAccounts(O));
        Assert.Throws<SequencerConfigException>(() => new SequencerApplication(new SequencerOptions
        {
            Namespaces = h.Namespaces,
            Genesis = h.Genesis,
            BlockStore = new InMemoryBlockStore(),
            GenesisAccounts = new Dictionary<ulong, RollupGenesis> { [O] = RollupGenesis.Devnet() },
        }));
    }
}
