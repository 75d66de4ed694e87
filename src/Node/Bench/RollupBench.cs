using System.CommandLine;
using System.Diagnostics;
using Keel.Node.Cli;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.Testing;
using Keel.Rollup.Validation;
using Keel.Rollup.Witness;

namespace Keel.Node.Bench;

/// <summary>`keel bench rollup`: the transfer rollup's stages on one seeded random batch.</summary>
internal static class RollupBench
{
    public static Command Create()
    {
        var transfers = new Option<int>("--transfers") { Description = "transfers in the batch", DefaultValueFactory = _ => 500 };
        var cmd = new Command("rollup", "Transfer rollup: validation, batch commitment, execution, witness size and check, per transfer.");
        cmd.Options.Add(transfers);
        cmd.SetAction(parse =>
        {
            int n = Math.Clamp(parse.GetValue(transfers), 1, RandomBatchGenerator.MaxTransfers);
            var hasher = new RollupHasher();
            var g = RandomBatchGenerator.FromGenesis(n, 1, hasher);
            var report = new BenchReport("rollup");
            var table = report.AddTable($"transfer rollup, {n} transfers (one thread)", "stage", "total ms", "transfers/s", "Poseidon2 perms/transfer");

            void Row(string stage, Action run)
            {
                long perms = hasher.Permutations;
                var sw = Stopwatch.StartNew();
                run();
                sw.Stop();
                double ms = sw.Elapsed.TotalMilliseconds;
                table.AddRow(stage, ms.ToString("F1"), (n / sw.Elapsed.TotalSeconds).ToString("F0"), ((hasher.Permutations - perms) / (double)n).ToString("F1"));
            }

            var validator = new TransferValidator(g.Parameters);
            Row("validate (pending map)", () =>
            {
                var pending = new PendingAccounts(g.State);
                foreach (var tx in g.Transfers)
                    validator.ValidateAndApply(tx, pending);
            });
            Row("batch commitment", () => BatchCommitment.Compute(hasher, g.Parameters, g.Transfers));
            BatchResult? result = null;
            Row("execute (tree + witness)", () => result = new BatchExecutor(g.State).Execute(g.Parameters, g.Transfers));
            byte[] json = [];
            Row("witness to JSON", () => json = WitnessSerializer.ToUtf8(result!.Witness, hasher));
            BatchWitness? parsed = null;
            Row("witness from JSON", () => parsed = WitnessSerializer.Parse(json, hasher));
            Row("witness check", () => WitnessChecker.Check(hasher, parsed!));
            report.Notes.Add($"witness: {json.Length} bytes, {json.Length / n} bytes per transfer; accounts after the batch: {g.State.AccountCount}");
            report.Notes.Add("the machine is shared: timings are indicative; permutation counts are exact");
            return BenchCommands.Emit(parse, report);
        });
        return cmd;
    }
}
