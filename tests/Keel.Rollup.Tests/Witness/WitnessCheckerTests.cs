using Keel.Core;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Witness;

namespace Keel.Rollup.Tests.Witness;

/// <summary>
/// Soundness of the reference checker: each forgery a dishonest prover could try is rejected,
/// and for the specific reason. Where a forgery would also change the batch commitment, the
/// commitment is recomputed so that the semantic check (not the commitment) has to catch it.
/// </summary>
public class WitnessCheckerTests
{
    private static readonly RollupHasher Hasher = RollupHasher.Shared;
    private static readonly Address A = TestData.AddressFrom(11);
    private static readonly Address B = TestData.AddressFrom(12);
    private static readonly Address Fresh = TestData.AddressFrom(13);

    private static (BatchWitness Witness, AccountState Pre) Honest()
    {
        var genesis = new RollupGenesis([KeyValuePair.Create(A, 1_000 * TestData.Ether), KeyValuePair.Create(B, 5 * TestData.Ether)]);
        var pre = genesis.CreateState(Hasher);
        var state = genesis.CreateState(Hasher);
        var batch = new List<Transfer>
        {
            TestData.Transfer(A, B, TestData.Ether, 0),          // 0: B exists
            TestData.Transfer(B, Fresh, TestData.Ether, 0),      // 1: Fresh is created
            TestData.Transfer(A, B, 2, 7),                        // 2: skipped, nonce
            TestData.Transfer(A, A, 3, 1),                        // 3: self
        };
        var result = new BatchExecutor(state).Execute(TestData.Parameters, batch);
        WitnessChecker.Check(Hasher, result.Witness);
        return (result.Witness, pre);
    }

    private static BatchWitness WithTransfer(BatchWitness w, int i, Func<TransferWitness, TransferWitness> change, bool recommit = true)
    {
        var list = w.Transfers.ToList();
        list[i] = change(list[i]);
        var changed = w with { Transfers = list };
        return recommit ? changed with { BatchCommitment = BatchCommitment.Compute(Hasher, w.Parameters, list.Select(t => t.Transfer).ToList()) } : changed;
    }

    private static WitnessRejectedException Rejected(BatchWitness w) =>
        WitnessChecker.TryCheck(Hasher, w) ?? throw new Xunit.Sdk.XunitException("The forged witness was accepted.");

    [Fact]
    public void Overdraft_declared_applied_is_rejected_as_insufficient_balance()
    {
        var (w, _) = Honest();
        var forged = WithTransfer(w, 1, t => t with { Transfer = t.Transfer with { Value = 10 * TestData.Ether } });
        var e = Rejected(forged);
        Assert.Equal(WitnessRejection.InsufficientBalance, e.Reason);
        Assert.Equal(1, e.TransferIndex);
    }

    [Fact]
    public void Wrong_nonce_is_rejected_whether_in_the_transfer_or_in_the_sender_leaf()
    {
        var (w, _) = Honest();
        Assert.Equal(WitnessRejection.NonceMismatch,
            Rejected(WithTransfer(w, 0, t => t with { Transfer = t.Transfer with { Nonce = 1 } })).Reason);
        // Claiming the sender's nonce is 1 (to match a replayed nonce-1 transfer) breaks its opening.
        Assert.Equal(WitnessRejection.SenderPathMismatch,
            Rejected(WithTransfer(w, 0, t => t with { Sender = t.Sender with { Before = t.Sender.Before with { Nonce = 1 } } })).Reason);
    }

    [Fact]
    public void Inflated_sender_balance_breaks_the_sender_opening()
    {
        var (w, _) = Honest();
        var forged = WithTransfer(w, 1, t => t with { Sender = t.Sender with { Before = t.Sender.Before with { Balance = 100 * TestData.Ether } } });
        Assert.Equal(WitnessRejection.SenderPathMismatch, Rejected(forged).Reason);
    }

    [Fact]
    public void Forged_receiver_creation_over_an_existing_account_is_rejected()
    {
        // Transfer 0 pays B, which exists: claiming B is empty (to wipe its balance with a "new"
        // account) cannot open against the root.
        var (w, _) = Honest();
        var forged = WithTransfer(w, 0, t => t with { Receiver = t.Receiver! with { Before = Account.Empty } });
        var e = Rejected(forged);
        Assert.Equal(WitnessRejection.ReceiverPathMismatch, e.Reason);
        Assert.Equal(0, e.TransferIndex);
    }

    [Fact]
    public void Duplicate_account_via_another_positions_empty_path_is_rejected()
    {
        // A second account for B would have to live somewhere else: take the (valid) path of an
        // address that really is empty and present it as B's, with an empty leaf.
        var (w, pre) = Honest();
        var elsewhere = TestData.AddressFrom(999);
        var rootAfterSender = ComputeRootAfterSender(w, 0);
        var emptyPath = ReplayToRoot(pre, w, 0, rootAfterSender).GetPath(elsewhere);
        Assert.Equal(rootAfterSender, emptyPath.ComputeRoot(Hasher, elsewhere, Hasher.EmptySubtree(0))); // genuine non-membership of elsewhere
        var forged = WithTransfer(w, 0, t => t with { Receiver = new AccountOpening(Account.Empty, emptyPath) });
        Assert.Equal(WitnessRejection.ReceiverPathMismatch, Rejected(forged).Reason);
    }

    [Fact]
    public void Unjustified_skip_and_receiver_opening_shape_are_rejected()
    {
        var (w, _) = Honest();
        Assert.Equal(WitnessRejection.StatusMismatch,
            Rejected(WithTransfer(w, 0, t => t with { Status = TransferStatus.InsufficientBalance, Receiver = null })).Reason);
        Assert.Equal(WitnessRejection.StatusMismatch,
            Rejected(WithTransfer(w, 2, t => t with { Status = TransferStatus.InsufficientBalance })).Reason);
        Assert.Equal(WitnessRejection.ReceiverOpeningMismatch,
            Rejected(WithTransfer(w, 0, t => t with { Receiver = null })).Reason);
        Assert.Equal(WitnessRejection.ReceiverOpeningMismatch,
            Rejected(WithTransfer(w, 2, t => t with { Receiver = w.Transfers[0].Receiver })).Reason);
    }

    [Fact]
    public void Fee_fields_are_recomputed()
    {
        var (w, _) = Honest();
        Assert.Equal(WitnessRejection.EffectiveGasPriceMismatch,
            Rejected(WithTransfer(w, 0, t => t with { EffectiveGasPrice = t.EffectiveGasPrice - 1 })).Reason);
        Assert.Equal(WitnessRejection.TipsMismatch,
            Rejected(w with { FeeRecipient = w.FeeRecipient with { Tips = w.FeeRecipient.Tips + 1 } }).Reason);
        Assert.Equal(WitnessRejection.FeeRecipientPathMismatch,
            Rejected(w with { FeeRecipient = w.FeeRecipient with { Opening = w.FeeRecipient.Opening with { Before = new Account(1, 0) } } }).Reason);
        Assert.Equal(WitnessRejection.FeeCapBelowBaseFee,
            Rejected(w with { Parameters = w.Parameters with { BaseFeePerGas = 100 * TestData.BaseFee } }).Reason);
    }

    [Fact]
    public void Wrong_roots_and_wrong_commitment_are_rejected()
    {
        var (w, _) = Honest();
        var bogus = new Digest(1, 2, 3, 4);
        Assert.Equal(WitnessRejection.PostStateRootMismatch, Rejected(w with { PostStateRoot = bogus }).Reason);
        Assert.Equal(WitnessRejection.SenderPathMismatch, Rejected(w with { PreStateRoot = bogus }).Reason);
        var e = Rejected(WithTransfer(w, 1, t => t with { StateRootAfter = bogus }));
        Assert.Equal(WitnessRejection.IntermediateRootMismatch, e.Reason);
        Assert.Equal(1, e.TransferIndex);
        Assert.Equal(WitnessRejection.BatchCommitmentMismatch, Rejected(w with { BatchCommitment = bogus }).Reason);
        // A consistent execution of another batch (one value changed) presented under the committed
        // batch's commitment: every root checks out, only the commitment can tell.
        var other = Honest().Witness;
        var altered = other.Transfers.Select(t => t.Transfer).ToList();
        altered[1] = altered[1] with { Value = altered[1].Value - 1 };
        var genesis = new RollupGenesis([KeyValuePair.Create(A, 1_000 * TestData.Ether), KeyValuePair.Create(B, 5 * TestData.Ether)]);
        var alternative = new BatchExecutor(genesis.CreateState(Hasher)).Execute(TestData.Parameters, altered).Witness;
        Assert.Null(WitnessChecker.TryCheck(Hasher, alternative));
        Assert.Equal(WitnessRejection.BatchCommitmentMismatch, Rejected(alternative with { BatchCommitment = w.BatchCommitment }).Reason);
    }

    [Fact]
    public void Tampered_sibling_or_reordered_transfers_are_rejected()
    {
        var (w, _) = Honest();
        var tampered = WithTransfer(w, 1, t => t with { Receiver = t.Receiver! with { Path = t.Receiver.Path.With(159, new Digest(5, 5, 5, 5)) } });
        Assert.Equal(WitnessRejection.ReceiverPathMismatch, Rejected(tampered).Reason);
        var swapped = w.Transfers.ToList();
        (swapped[0], swapped[1]) = (swapped[1], swapped[0]);
        Assert.Equal(WitnessRejection.SenderPathMismatch, Rejected(w with { Transfers = swapped }).Reason);
    }

    [Fact]
    public void Out_of_range_fields_built_around_the_constructor_are_rejected()
    {
        var (w, _) = Honest();
        Assert.Equal(WitnessRejection.FieldOutOfRange,
            Rejected(WithTransfer(w, 0, t => t with { Transfer = t.Transfer with { Nonce = Account.MaxNonce } }, recommit: false)).Reason);
        Assert.Equal(WitnessRejection.FieldOutOfRange,
            Rejected(w with { Parameters = w.Parameters with { ChainId = 1 } }).Reason);
    }

    private static Digest ComputeRootAfterSender(BatchWitness w, int i)
    {
        var t = w.Transfers[i];
        var o = TransferRules.Evaluate(t.Sender.Before, t.Transfer, w.Parameters.BaseFeePerGas);
        return t.Sender.Path.ComputeRoot(Hasher, t.Transfer.From,
            Hasher.HashLeaf(t.Sender.Before.Balance - o.SenderDebit, t.Sender.Before.Nonce + 1));
    }

    /// <summary>The state right after transfer i's sender update, rebuilt from the pre-state.</summary>
    private static AccountState ReplayToRoot(AccountState pre, BatchWitness w, int i, Digest expectedRoot)
    {
        var s = pre.Clone();
        var t = w.Transfers[i];
        var o = TransferRules.Evaluate(t.Sender.Before, t.Transfer, w.Parameters.BaseFeePerGas);
        s.SetAccount(t.Transfer.From, new Account(t.Sender.Before.Balance - o.SenderDebit, t.Sender.Before.Nonce + 1));
        Assert.Equal(expectedRoot, s.Root);
        return s;
    }
}
