using System.CommandLine;
using Keel.Rollup;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.Testing;
using Keel.Rollup.Witness;

namespace Keel.Node.Cli;

/// <summary>`keel rollup ...`: offline tools for the transfer rollup's batch witnesses.</summary>
internal static class RollupCommands
{
    public static Command Create()
    {
        var rollup = new Command("rollup", "Transfer rollup tools: make and check batch witness files (docs/rollup.md).");
        rollup.Subcommands.Add(CreateWitness());
        rollup.Subcommands.Add(CreateCheck());
        return rollup;
    }

    private static Command CreateWitness()
    {
        var count = new Option<int>("--random-batch") { Description = "number of random valid transfers from the devnet genesis", Required = true };
        var seed = new Option<int>("--seed") { Description = "random seed (same seed, same batch)", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "witness file to write", Required = true };
        var cmd = new Command("witness", "Execute a seeded random batch from genesis and write its witness (JSON, version 1).");
        cmd.Options.Add(count);
        cmd.Options.Add(seed);
        cmd.Options.Add(output);
        cmd.SetAction(parse =>
        {
            int n = parse.GetValue(count);
            if (n < 0 || n > RandomBatchGenerator.MaxTransfers)
            {
                Console.Error.WriteLine($"error: --random-batch must be in 0..{RandomBatchGenerator.MaxTransfers}");
                return 2;
            }
            var g = RandomBatchGenerator.FromGenesis(n, parse.GetValue(seed));
            var result = new BatchExecutor(g.State).Execute(g.Parameters, g.Transfers);
            var path = parse.GetValue(output)!;
            try
            {
                using var file = File.Create(path);
                WitnessSerializer.Write(result.Witness, file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: cannot write {path}: {e.Message}");
                return 1;
            }
            Console.WriteLine($"transfers: {n}  pre-state root: {result.PreStateRoot}");
            Console.WriteLine($"post-state root: {result.PostStateRoot}");
            Console.WriteLine($"batch commitment: {result.BatchCommitment}");
            Console.WriteLine($"witness: {path} ({new FileInfo(path).Length} bytes)");
            return 0;
        });
        return cmd;
    }

    private static Command CreateCheck()
    {
        var witness = new Option<string>("--witness") { Description = "witness file to check", Required = true };
        var cmd = new Command("check", "Recompute a witness (paths, roots, balances, nonces, fees, commitment) and say whether it is valid.");
        cmd.Options.Add(witness);
        cmd.SetAction(parse =>
        {
            try
            {
                var w = WitnessSerializer.ReadFile(parse.GetValue(witness)!);
                WitnessChecker.Check(RollupHasher.Shared, w);
                Console.WriteLine($"valid: {w.Transfers.Count} transfers, {w.PreStateRoot} -> {w.PostStateRoot}, commitment {w.BatchCommitment}");
                return 0;
            }
            catch (WitnessRejectedException e)
            {
                Console.Error.WriteLine($"rejected: {e.Message}");
                return 3;
            }
            catch (RollupException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }
}
