using System.CommandLine;
using System.Text.Json;
using Keel.Consensus.Simulation;

namespace Keel.Node.Cli;

/// <summary>`keel sim consensus`: seeded whole-cluster consensus simulations with fault injection and checkers.</summary>
internal static class SimCommands
{
    /// <summary>Seeds one command may run (a loop bound; a day of CPU is far below it).</summary>
    public const int MaxSeeds = 10_000_000;

    public static Command Create()
    {
        var sim = new Command("sim", "Deterministic simulations.");
        sim.Subcommands.Add(CreateConsensus());
        return sim;
    }

    private static Command CreateConsensus()
    {
        var seeds = new Option<int>("--seeds") { Description = "number of seeded scenarios", DefaultValueFactory = _ => 100 };
        var seedStart = new Option<ulong>("--seed-start") { Description = "first seed (replay a failing seed with --seeds 1 --seed-start S)", DefaultValueFactory = _ => 1UL };
        var validators = new Option<int>("--validators") { Description = "committee size", DefaultValueFactory = _ => 4 };
        var byzantine = new Option<int>("--byzantine") { Description = "Byzantine validators (default: f for twins and chaos, 0 otherwise)", DefaultValueFactory = _ => -1 };
        var faults = new Option<string>("--faults") { Description = "none|lossy|partition|crash|twins|chaos", DefaultValueFactory = _ => "chaos" };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of text" };
        var verbose = new Option<bool>("--verbose") { Description = "one line per seed on stderr" };
        var command = new Command("consensus", "Run seeded scenarios of a validator cluster under faults; exit code 1 when any checker fails.");
        command.Options.Add(seeds);
        command.Options.Add(seedStart);
        command.Options.Add(validators);
        command.Options.Add(byzantine);
        command.Options.Add(faults);
        command.Options.Add(json);
        command.Options.Add(verbose);
        command.SetAction(parse =>
        {
            var n = parse.GetValue(validators);
            var count = parse.GetValue(seeds);
            if (!Enum.TryParse<FaultProfile>(parse.GetValue(faults), ignoreCase: true, out var profile))
            {
                Console.Error.WriteLine($"error: unknown --faults '{parse.GetValue(faults)}' (none|lossy|partition|crash|twins|chaos)");
                return 2;
            }
            if (n < 1 || n > 64 || count < 0 || count > MaxSeeds)
            {
                Console.Error.WriteLine($"error: --validators must be 1..64 and --seeds 0..{MaxSeeds}");
                return 2;
            }
            var f = (n - 1) / 3;
            var b = parse.GetValue(byzantine);
            if (b < 0)
            {
                b = profile is FaultProfile.Twins or FaultProfile.Chaos ? f : 0;
            }
            if (b > n)
            {
                Console.Error.WriteLine("error: --byzantine exceeds --validators");
                return 2;
            }
            if (b > f)
            {
                Console.Error.WriteLine($"warning: {b} Byzantine validators exceed f = {f}: the checkers are expected to fail");
            }
            var asJson = parse.GetValue(json);
            var template = new SimulationOptions { Validators = n, Byzantine = b, Faults = profile };
            Action<ScenarioResult>? each = parse.GetValue(verbose)
                ? r => Console.Error.WriteLine($"seed {r.Seed}: violations {r.ViolationCount}, commits {r.CommitsMin}..{r.CommitsMax}, rounds {r.Rounds}, timeouts {r.TimeoutsSent}, recover {r.RoundsToRecover} rounds, {r.SimulatedMs} ms simulated, {r.Events} events, {r.MessagesDelivered} delivered, equivocations {r.EquivocationsDetected}, fingerprint {r.Fingerprint}; {r.Description}")
                : null;
            var summary = SimulationRunner.Run(template, parse.GetValue(seedStart), count, each, failure =>
            {
                // Failures go to stderr so that --json keeps stdout one JSON object.
                Console.Error.WriteLine($"FAIL seed {failure.Seed}: {failure.ViolationCount} violation(s); {failure.Description}");
                foreach (var v in failure.Violations)
                {
                    Console.Error.WriteLine($"  {v}");
                }
                Console.Error.WriteLine($"  replay: {SummaryReplay(template, failure.Seed)}");
            });
            if (asJson)
            {
                Console.WriteLine(summary.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            }
            else
            {
                Console.WriteLine(summary.ToString());
            }
            return summary.Violations > 0 ? 1 : 0;
        });
        return command;
    }

    private static string SummaryReplay(SimulationOptions template, ulong seed) =>
        $"keel sim consensus --seeds 1 --seed-start {seed} --validators {template.Validators} --byzantine {template.Byzantine} --faults {template.Faults.ToString().ToLowerInvariant()}";
}
