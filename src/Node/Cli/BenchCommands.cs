using System.CommandLine;
using Keel.Node.Bench;

namespace Keel.Node.Cli;

/// <summary>`keel bench ...`: every benchmark prints a table and, with --json FILE, writes JSON.</summary>
internal static class BenchCommands
{
    public static readonly Option<string?> JsonOption = new("--json")
    {
        Description = "also write the results as JSON to this file",
        Recursive = true,
    };

    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks: tables for people, --json FILE for scripts.");
        bench.Options.Add(JsonOption);
        // Each benchmark adds its subcommand here, one line each.
        bench.Subcommands.Add(KeccakBench.Create());
        bench.Subcommands.Add(Secp256k1Bench.Create());
        bench.Subcommands.Add(RpcBench.Create());
        bench.Subcommands.Add(RollupBench.Create());
        bench.Subcommands.Add(StorageBench.Create());
        bench.Subcommands.Add(ConsensusBench.Create());
        bench.Subcommands.Add(FinalityBench.Create());
        foreach (var c in new[] { NttBench.Create(), Poseidon2Bench.Create(), ProverBench.Create() }) bench.Subcommands.Add(c);
        bench.Subcommands.Add(P2pBench.Create());
        bench.Subcommands.Add(SequencerBench.Create());
        return bench;
    }

    /// <summary>Prints the report and writes its JSON when asked; the exit code for the command.</summary>
    public static int Emit(ParseResult parse, BenchReport report)
    {
        report.Print(Console.Out);
        var path = parse.GetValue(JsonOption);
        if (path is not null)
        {
            report.WriteJson(path);
            Console.WriteLine($"json: {path}");
        }
        return 0;
    }
}
