using Keel.Core;
using Keel.Prover.Air;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Transfer;
using Keel.Prover.Verification;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Testing;
using Keel.Rollup.Transactions;
using Keel.Rollup.Witness;
using Tx = Keel.Rollup.Transactions.Transfer;

namespace Keel.Prover.Tests.Transfer;

/// <summary>
/// The transfer AIR against the rollup's executor and WitnessChecker. Forged witnesses are built by
/// a cheating executor that keeps the tree, roots, tips and commitment consistent with its lie, so
/// each test breaks exactly one rule and the AIR must catch that rule.
/// </summary>
public class TransferAirTests
{
    private static readonly Address Prover = Address.Parse("0x3333333333333333333333333333333333333333");

    /// <summary>How a cheating executor departs from the rules.</summary>
    private sealed record Forgery(
        ISet<int>? ForceApplied = null,
        ISet<int>? ForceSkipped = null,
        IDictionary<int, Address>? CreditAddress = null,
        IDictionary<int, Account>? ReceiverBefore = null);

    private static (AccountState State, RollupParameters Parameters, Tx[] Transfers) Batch(int count, int seed)
    {
        var batch = RandomBatchGenerator.FromGenesis(count, seed);
        return (batch.State, batch.Parameters, [.. batch.Transfers]);
    }

    /// <summary>Like BatchExecutor.Execute, but following <paramref name="f"/> where it departs from the rules.</summary>
    private static BatchWitness Execute(AccountState state, RollupParameters p, IReadOnlyList<Tx> txs, Forgery? f = null)
    {
        f ??= new Forgery();
        var pre = state.Root;
        var list = new List<TransferWitness>();
        UInt128 tips = 0;
        for (var i = 0; i < txs.Count; i++)
        {
            var tx = txs[i];
            var sender = state.GetAccount(tx.From);
            var senderOpening = new AccountOpening(sender, state.GetPath(tx.From));
            var outcome = TransferRules.Evaluate(sender, tx, p.BaseFeePerGas);
            var applied = (outcome.Applied || f.ForceApplied?.Contains(i) == true) && f.ForceSkipped?.Contains(i) != true;
            var status = applied ? TransferStatus.Applied : outcome.Applied ? TransferStatus.InsufficientBalance : outcome.Status;
            AccountOpening? receiverOpening = null;
            if (applied)
            {
                var fee = outcome.EffectiveGasPrice * Tx.IntrinsicGas;
                state.SetAccount(tx.From, new Account(sender.Balance - (tx.Value + fee), sender.Nonce + 1));
                var to = f.CreditAddress is not null && f.CreditAddress.TryGetValue(i, out var c) ? c : tx.To;
                var before = f.ReceiverBefore is not null && f.ReceiverBefore.TryGetValue(i, out var b) ? b : state.GetAccount(to);
                receiverOpening = new AccountOpening(before, state.GetPath(to));
                state.SetAccount(to, before with { Balance = before.Balance + tx.Value });
                tips += fee - p.BaseFeePerGas * Tx.IntrinsicGas;
            }
            list.Add(new TransferWitness(tx, status, outcome.EffectiveGasPrice, senderOpening, receiverOpening, state.Root));
        }
        var recipient = state.GetAccount(p.FeeRecipient);
        var feeOpening = new AccountOpening(recipient, state.GetPath(p.FeeRecipient));
        state.SetAccount(p.FeeRecipient, recipient with { Balance = recipient.Balance + tips });
        var commitment = BatchCommitment.Compute(state.Hasher, p, txs);
        return new BatchWitness(p, pre, list, new FeeRecipientWitness(feeOpening, tips), state.Root, commitment);
    }

    private static void AssertTraceHolds(BatchWitness witness)
    {
        var (air, trace) = TransferTraceBuilder.Build(witness);
        StarkProver.CheckTrace(new AirContext(air, new ProofOptions()), trace);
    }

    /// <summary>The forged witness is wrong for the rollup, and no trace for it satisfies the AIR.</summary>
    private static void AssertRefused(BatchWitness witness, WitnessRejection expected)
    {
        Assert.Equal(expected, WitnessChecker.TryCheck(RollupHasher.Shared, witness)?.Reason);
        var (air, trace) = TransferTraceBuilder.Build(witness);
        Assert.Throws<TraceException>(() => StarkProver.CheckTrace(new AirContext(air, new ProofOptions()), trace));
    }

    private static Address OtherGenesisAccount(AccountState state, params Address[] not) =>
        state.Accounts.Select(a => a.Key).First(a => !not.Contains(a));

    // One valid proof of one transfer, shared by the verifier-side tests.
    private static readonly Lazy<(BatchWitness Witness, ProofFile File)> Proven = new(() =>
    {
        var (state, p, txs) = Batch(1, 11);
        var witness = Execute(state, p, txs);
        var (air, trace) = TransferTraceBuilder.Build(witness);
        var proof = new StarkProver().Prove(air, trace, Prover).ToBytes();
        return (witness, new ProofFile(air.Name, air.TraceLength, [.. air.PublicInputs], Prover, proof));
    });

    [Fact]
    public void Honest_executions_satisfy_the_air_as_the_rollup_executor_builds_them()
    {
        var (state, p, txs) = Batch(2, 7);
        var witness = new BatchExecutor(state).Execute(p, txs).Witness;
        Assert.Null(WitnessChecker.TryCheck(RollupHasher.Shared, witness));
        AssertTraceHolds(witness);
    }

    [Fact]
    public void Skipped_transfers_and_self_transfers_satisfy_the_air()
    {
        var (state, p, txs) = Batch(3, 5);
        var self = txs[0] with { To = txs[0].From };
        var wrongNonce = txs[1] with { Nonce = 77 };
        var overdraft = txs[2] with { Value = state.GetAccount(txs[2].From).Balance };
        var witness = new BatchExecutor(state).Execute(p, [self, wrongNonce, overdraft]).Witness;
        Assert.Null(WitnessChecker.TryCheck(RollupHasher.Shared, witness));
        Assert.Equal(TransferStatus.Applied, witness.Transfers[0].Status);
        Assert.Equal(TransferStatus.NonceMismatch, witness.Transfers[1].Status);
        Assert.NotEqual(TransferStatus.Applied, witness.Transfers[2].Status);
        AssertTraceHolds(witness);
    }

    [Fact]
    public void Our_honest_executor_matches_the_rollup()
    {
        var (state, p, txs) = Batch(2, 3);
        var expected = new BatchExecutor(state.Clone()).Execute(p, txs).Witness;
        var witness = Execute(state, p, txs);
        Assert.Null(WitnessChecker.TryCheck(RollupHasher.Shared, witness));
        Assert.Equal(expected.PostStateRoot, witness.PostStateRoot);
    }

    [Fact]
    public void Overdraft_is_refused()
    {
        var (state, p, txs) = Batch(1, 21);
        var tx = txs[0] with { Value = state.GetAccount(txs[0].From).Balance };
        AssertRefused(Execute(state, p, [tx], new Forgery(ForceApplied: new HashSet<int> { 0 })), WitnessRejection.InsufficientBalance);
    }

    [Fact]
    public void Wrong_nonce_is_refused()
    {
        var (state, p, txs) = Batch(1, 22);
        var tx = txs[0] with { Nonce = txs[0].Nonce + 1 };
        AssertRefused(Execute(state, p, [tx], new Forgery(ForceApplied: new HashSet<int> { 0 })), WitnessRejection.NonceMismatch);
    }

    [Fact]
    public void Skipping_an_applicable_transfer_is_refused()
    {
        var (state, p, txs) = Batch(1, 23);
        AssertRefused(Execute(state, p, txs, new Forgery(ForceSkipped: new HashSet<int> { 0 })), WitnessRejection.StatusMismatch);
    }

    [Fact]
    public void Forged_receiver_creation_is_refused()
    {
        // The receiver exists; the cheat claims it was empty and creates it afresh (dropping its balance).
        var (state, p, txs) = Batch(1, 24);
        var tx = txs[0] with { To = OtherGenesisAccount(state, txs[0].From) };
        Assert.False(state.GetAccount(tx.To).IsEmpty);
        var forged = Execute(state, p, [tx], new Forgery(ReceiverBefore: new Dictionary<int, Account> { [0] = Account.Empty }));
        AssertRefused(forged, WitnessRejection.ReceiverPathMismatch);
    }

    [Fact]
    public void Second_account_for_an_address_is_refused()
    {
        // The receiver exists; the cheat credits a fresh leaf at another (empty) position of the tree instead.
        var (state, p, txs) = Batch(1, 25);
        var tx = txs[0] with { To = OtherGenesisAccount(state, txs[0].From) };
        var elsewhere = Address.Parse("0x00000000000000000000000000000000000b0b00");
        Assert.True(state.GetAccount(elsewhere).IsEmpty);
        var forged = Execute(state, p, [tx], new Forgery(CreditAddress: new Dictionary<int, Address> { [0] = elsewhere }));
        AssertRefused(forged, WitnessRejection.ReceiverPathMismatch);
    }

    [Fact]
    public void Wrong_post_root_or_tips_is_refused()
    {
        var (state, p, txs) = Batch(1, 26);
        var witness = Execute(state, p, txs);
        var wrongRoot = witness with { PostStateRoot = witness.Transfers[0].StateRootAfter };
        AssertRefused(wrongRoot, WitnessRejection.PostStateRootMismatch);
        var moreTips = witness with { FeeRecipient = witness.FeeRecipient with { Tips = witness.FeeRecipient.Tips + 1 } };
        AssertRefused(moreTips, WitnessRejection.TipsMismatch);
    }

    [Fact]
    public void Wrong_batch_commitment_or_a_changed_transfer_breaks_the_trace()
    {
        var (state, p, txs) = Batch(2, 27);
        var witness = Execute(state.Clone(), p, txs);
        var wrong = witness with { BatchCommitment = witness.PreStateRoot };
        var (air, trace) = TransferTraceBuilder.Build(wrong);
        Assert.Throws<TraceException>(() => StarkProver.CheckTrace(new AirContext(air, new ProofOptions()), trace));

        // The executor ran a different transfer than the one committed: same commitment, other value.
        var changed = Execute(state.Clone(), p, [txs[0] with { Value = txs[0].Value + 1 }, txs[1]]);
        Assert.Null(WitnessChecker.TryCheck(RollupHasher.Shared, changed));
        var mismatched = changed with { BatchCommitment = witness.BatchCommitment };
        (air, trace) = TransferTraceBuilder.Build(mismatched);
        Assert.Throws<TraceException>(() => StarkProver.CheckTrace(new AirContext(air, new ProofOptions()), trace));
    }

    [Fact]
    public void Empty_batch_proves_the_fee_recipient_untouched_and_checks_its_commitment()
    {
        var (state, p, _) = Batch(1, 28);
        var witness = new BatchExecutor(state).Execute(p, []).Witness;
        Assert.Equal(witness.PreStateRoot, witness.PostStateRoot);
        AssertTraceHolds(witness);
        var publics = TransferTraceBuilder.PublicInputs(witness);
        publics[10] ^= 1;
        Assert.Throws<AirDefinitionException>(() => new TransferAir(publics));
    }

    [Fact]
    public void Fee_rules_are_proven_from_the_private_transfers()
    {
        // Fee cap below the base fee (skipped), a priority fee above the cap (price = max fee), a zero
        // priority fee, and a value that makes the cost exceed 128 bits (skipped): every fee term in the AIR.
        var (state, p, txs) = Batch(4, 29);
        static Tx Fees(Tx tx, UInt128 maxFee, UInt128 prio) => new(2, tx.ChainId, tx.From, tx.To, tx.Value, tx.Nonce, maxFee, prio, Tx.IntrinsicGas, tx.Hash);
        var cheap = Fees(txs[0], p.BaseFeePerGas - 1, 0);
        var capped = Fees(txs[1], txs[1].MaxFeePerGas, txs[1].MaxFeePerGas);
        var noTip = Fees(txs[2], txs[2].MaxFeePerGas, 0);
        var huge = txs[3] with { Value = UInt128.MaxValue };
        var witness = new BatchExecutor(state).Execute(p, [cheap, capped, noTip, huge]).Witness;
        Assert.Null(WitnessChecker.TryCheck(RollupHasher.Shared, witness));
        Assert.NotEqual(TransferStatus.Applied, witness.Transfers[0].Status);
        Assert.NotEqual(TransferStatus.Applied, witness.Transfers[3].Status);
        AssertTraceHolds(witness);
    }

    [Fact]
    public void Single_bit_flips_at_sampled_positions_of_a_transfer_proof_are_rejected()
    {
        var (_, file) = Proven.Value;
        var air = AirCatalog.Create(file.AirName, file.TraceLength, file.PublicInputs);
        var rng = new Random(6);
        // Every header byte (options, sizes, roots) and a seeded spread over the rest.
        var positions = Enumerable.Range(0, 96).Concat(Enumerable.Range(0, 64).Select(_ => rng.Next(96, file.Proof.Length))).Distinct();
        foreach (var position in positions)
        {
            var mutated = (byte[])file.Proof.Clone();
            mutated[position] ^= (byte)(1 << rng.Next(8));
            var error = Record.Exception(() => StarkVerifier.Verify(air, mutated, file.Prover));
            Assert.True(error is ProofRejectedException or ProofFormatException, $"a flipped bit at byte {position} gave {error?.GetType().Name ?? "a valid proof"}");
        }
    }

    [Fact]
    public void Proof_verifies_from_its_file_and_binds_statement_and_prover()
    {
        var (_, file) = Proven.Value;
        var read = ProofFile.FromBytes(file.ToBytes());
        var air = AirCatalog.Create(read.AirName, read.TraceLength, read.PublicInputs);
        StarkVerifier.Verify(air, read.Proof, read.Prover);

        // A changed post-state root (a different statement with a valid commitment) is rejected.
        var publics = (ulong[])read.PublicInputs.Clone();
        publics[6] ^= 1;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new TransferAir(publics), read.Proof, read.Prover));
        // A changed commitment is rejected: the proof recomputes it from its private transfers.
        var badCommitment = (ulong[])read.PublicInputs.Clone();
        badCommitment[10] ^= 1;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(AirCatalog.Create(read.AirName, read.TraceLength, badCommitment), read.Proof, read.Prover));
        // Another prover address is rejected.
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(air, read.Proof, Address.Parse("0x3333333333333333333333333333333333333334")));
    }

    /// <summary>A cheat that breaks one rule, with everything else consistent with it.</summary>
    private static BatchWitness Cheat(string rule)
    {
        var (state, p, txs) = Batch(1, 40);
        var tx = txs[0];
        var other = OtherGenesisAccount(state, tx.From);
        var force = new HashSet<int> { 0 };
        return rule switch
        {
            "overdraft" => Execute(state, p, [tx with { Value = state.GetAccount(tx.From).Balance }], new Forgery(ForceApplied: force)),
            "nonce" => Execute(state, p, [tx with { Nonce = tx.Nonce + 1 }], new Forgery(ForceApplied: force)),
            "skip" => Execute(state, p, [tx], new Forgery(ForceSkipped: force)),
            "creation" => Execute(state, p, [tx with { To = other }], new Forgery(ReceiverBefore: new Dictionary<int, Account> { [0] = Account.Empty })),
            "second-account" => Execute(state, p, [tx with { To = other }], new Forgery(CreditAddress: new Dictionary<int, Address> { [0] = Address.Parse("0x00000000000000000000000000000000000b0b00") })),
            "commitment" => Execute(state, p, [tx with { Value = tx.Value + 1 }]) with { BatchCommitment = Execute(state.Clone(), p, [tx]).BatchCommitment },
            _ => throw new ArgumentException(rule),
        };
    }

    [Theory]
    [InlineData("overdraft")]
    [InlineData("nonce")]
    [InlineData("skip")]
    [InlineData("creation")]
    [InlineData("second-account")]
    [InlineData("commitment")]
    public void Proof_forced_past_the_prover_checks_is_rejected_by_the_verifier(string rule)
    {
        var forged = Cheat(rule);
        Assert.NotNull(WitnessChecker.TryCheck(RollupHasher.Shared, forged));
        var (air, trace) = TransferTraceBuilder.Build(forged);
        Assert.Throws<TraceException>(() => StarkProver.CheckTrace(new AirContext(air, new ProofOptions()), trace));
        var proof = new StarkProver { ForgeForTests = true }.Prove(air, trace, Prover).ToBytes();
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(air, proof, Prover));
    }

    [Fact]
    public void Witness_file_round_trip_gives_the_same_statement_and_a_valid_trace()
    {
        var (state, p, txs) = Batch(2, 31);
        var witness = new BatchExecutor(state).Execute(p, txs).Witness;
        var parsed = WitnessSerializer.Parse(WitnessSerializer.ToJson(witness));
        Assert.Equal(TransferTraceBuilder.PublicInputs(witness), TransferTraceBuilder.PublicInputs(parsed));
        AssertTraceHolds(parsed);
    }

    [Fact]
    public void Too_many_transfers_or_malformed_statements_are_typed_errors()
    {
        var (state, p, txs) = Batch(TransferAir.MaxTransfers + 1, 32);
        var witness = new BatchExecutor(state).Execute(p, txs).Witness;
        Assert.Throws<TransferWitnessException>(() => TransferTraceBuilder.Build(witness));
        Assert.Throws<AirDefinitionException>(() => new TransferAir(new ulong[5]));
        Assert.Throws<ProofFormatException>(() => AirCatalog.Create(TransferAir.AirName, 1 << 15, new ulong[TransferStatement.Elements + 1]));
    }
}
