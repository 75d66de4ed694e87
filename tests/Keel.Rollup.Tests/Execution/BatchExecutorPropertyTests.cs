using FsCheck.Fluent;
using Keel.Core;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Witness;

namespace Keel.Rollup.Tests.Execution;

/// <summary>Random batches, valid and invalid mixed, against a plain-dictionary model.</summary>
public class BatchExecutorPropertyTests
{
    private static readonly RollupHasher Hasher = RollupHasher.Shared;

    private static (RollupGenesis Genesis, RollupParameters Parameters, List<Transfer> Batch) RandomCase(int seed)
    {
        var rng = new Random(seed);
        var addresses = Enumerable.Range(0, 6).Select(i => TestData.AddressFrom(seed * 31 + i)).ToArray();
        var genesis = new RollupGenesis(addresses.Take(4).Select(a => KeyValuePair.Create(a, (UInt128)rng.NextInt64(0, 50_000_000))));
        var parameters = new RollupParameters(TestData.ChainId, (UInt128)rng.Next(0, 300), addresses[rng.Next(addresses.Length)]);
        var nonces = new Dictionary<Address, ulong>();
        var batch = new List<Transfer>();
        int n = rng.Next(0, 12);
        for (int i = 0; i < n; i++)
        {
            var from = addresses[rng.Next(addresses.Length)];
            var to = addresses[rng.Next(addresses.Length)];
            nonces.TryGetValue(from, out var next);
            // Mostly the right nonce, sometimes a wrong one; values and fees sometimes too large.
            ulong nonce = rng.Next(5) == 0 ? next + (ulong)rng.Next(1, 3) : next;
            UInt128 maxFee = (UInt128)rng.Next(0, 600);
            UInt128 tip = (UInt128)rng.Next(0, (int)maxFee + 1);
            UInt128 value = (UInt128)rng.NextInt64(0, 20_000_000);
            batch.Add(TestData.Transfer(from, to, value, nonce, maxFee, tip, type: (byte)(rng.Next(2) * 2)));
            if (nonce == next)
                nonces[from] = next + 1; // a guess; the model below decides what really happened
        }
        return (genesis, parameters, batch);
    }

    [Fact]
    public void Executor_matches_a_dictionary_model_conserves_supply_and_its_witness_checks()
    {
        Prop.ForAll<int>(seed =>
        {
            var (genesis, parameters, batch) = RandomCase(seed);
            var state = genesis.CreateState(Hasher);
            var result = new BatchExecutor(state).Execute(parameters, batch);

            var model = genesis.Allocations.ToDictionary(kv => kv.Key, kv => new Account(kv.Value, 0));
            Account Get(Address a) => model.TryGetValue(a, out var x) ? x : Account.Empty;
            UInt128 tips = 0, burned = 0;
            var statuses = new List<TransferStatus>();
            foreach (var tx in batch)
            {
                var o = TransferRules.Evaluate(Get(tx.From), tx, parameters.BaseFeePerGas);
                statuses.Add(o.Status);
                if (!o.Applied)
                    continue;
                model[tx.From] = new Account(Get(tx.From).Balance - o.SenderDebit, Get(tx.From).Nonce + 1);
                model[tx.To] = Get(tx.To) with { Balance = Get(tx.To).Balance + tx.Value };
                tips += o.Tip;
                burned += o.Burn;
            }
            model[parameters.FeeRecipient] = Get(parameters.FeeRecipient) with { Balance = Get(parameters.FeeRecipient).Balance + tips };

            bool sameAccounts = model.All(kv => state.GetAccount(kv.Key) == kv.Value)
                && state.Accounts.All(kv => Get(kv.Key) == kv.Value);
            UInt128 left = 0;
            foreach (var (_, a) in state.Accounts)
                left += a.Balance;
            bool conserved = left + result.Burned == genesis.TotalSupply && burned == result.Burned;
            bool receipts = result.Receipts.Select(r => r.Outcome).SequenceEqual(statuses);
            bool witness = WitnessChecker.TryCheck(Hasher, result.Witness) is null;
            var rebuilt = new AccountState(Hasher);
            foreach (var (a, acct) in model)
                rebuilt.SetAccount(a, acct);
            return sameAccounts && conserved && receipts && witness && rebuilt.Root == result.PostStateRoot;
        }).CheckWith(12);
    }

    [Fact]
    public void Any_single_changed_witness_value_is_rejected()
    {
        Prop.ForAll<int>(seed =>
        {
            var rng = new Random(seed);
            var g = Keel.Rollup.Testing.RandomBatchGenerator.FromGenesis(4, seed, Hasher);
            var w = new BatchExecutor(g.State).Execute(g.Parameters, g.Transfers).Witness;
            var list = w.Transfers.ToList();
            int i = rng.Next(list.Count);
            var t = list[i];
            int field = rng.Next(9);
            BatchWitness forged;
            switch (field)
            {
                case 0: list[i] = t with { Transfer = t.Transfer with { Value = t.Transfer.Value + 1 } }; forged = w with { Transfers = list }; break;
                case 1: list[i] = t with { Transfer = t.Transfer with { To = TestData.AddressFrom(seed) } }; forged = w with { Transfers = list }; break;
                case 2: list[i] = t with { Sender = t.Sender with { Before = t.Sender.Before with { Balance = t.Sender.Before.Balance + 1 } } }; forged = w with { Transfers = list }; break;
                case 3: list[i] = t with { Receiver = t.Receiver! with { Before = t.Receiver.Before with { Nonce = t.Receiver.Before.Nonce + 1 } } }; forged = w with { Transfers = list }; break;
                case 4:
                    int level = rng.Next(MerklePath.Depth);
                    var s = t.Sender.Path[level];
                    list[i] = t with { Sender = t.Sender with { Path = t.Sender.Path.With(level, s with { E0 = (s.E0 + 1) % Digest.FieldModulus }) } };
                    forged = w with { Transfers = list };
                    break;
                case 5: list[i] = t with { EffectiveGasPrice = t.EffectiveGasPrice + 1 }; forged = w with { Transfers = list }; break;
                case 6: list[i] = t with { StateRootAfter = t.StateRootAfter with { E3 = (t.StateRootAfter.E3 + 1) % Digest.FieldModulus } }; forged = w with { Transfers = list }; break;
                case 7: forged = w with { FeeRecipient = w.FeeRecipient with { Tips = w.FeeRecipient.Tips + 1 } }; break;
                default: forged = w with { PreStateRoot = w.PostStateRoot }; break;
            }
            return WitnessChecker.TryCheck(Hasher, forged) is not null;
        }).CheckWith(30);
    }
}
