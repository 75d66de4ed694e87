using Keel.Consensus.Simulation;
using Xunit.Abstractions;

namespace Keel.Consensus.Tests.Simulation;

/// <summary>
/// The CI scenario set: every fault profile at 4, 7 and 10 validators, SeedsPerCase seeds each
/// (6 profiles x 3 sizes x SeedsPerCase scenarios). One class per profile so xunit runs profiles in
/// parallel. A failure names each failing seed and the command that replays it.
/// </summary>
public abstract class SimulationCiTests(ITestOutputHelper output, FaultProfile profile)
{
    /// <summary>
    /// Sized so the whole set takes a few minutes on an otherwise idle 2-core CI machine (the
    /// measurement is in docs/consensus.md); longer runs belong to `keel sim consensus`.
    /// KEEL_SIM_SEEDS_PER_CASE overrides it (for a quick local run, or a longer one).
    /// </summary>
    public const int DefaultSeedsPerCase = 3000;

    public static int SeedsPerCase =>
        int.TryParse(Environment.GetEnvironmentVariable("KEEL_SIM_SEEDS_PER_CASE"), out var n) && n > 0 ? n : DefaultSeedsPerCase;

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(10)]
    public void Seeded_scenarios_have_no_violations(int validators)
    {
        var byzantine = profile is FaultProfile.Twins or FaultProfile.Chaos ? (validators - 1) / 3 : 0;
        var template = new SimulationOptions { Validators = validators, Byzantine = byzantine, Faults = profile };
        // Seeds differ per size so that the set covers more plans.
        var seedStart = (ulong)(1_000 * validators);
        var failures = new List<string>();
        var summary = SimulationRunner.Run(template, seedStart, SeedsPerCase, onFailure: f =>
        {
            failures.Add($"seed {f.Seed}: {string.Join("; ", f.Violations)} [{f.Description}]");
        });
        output.WriteLine(summary.ToString());
        foreach (var f in summary.Failures)
        {
            failures.Add($"replay: {summary.ReplayCommand(f.Seed)}");
        }
        Assert.True(summary.Violations == 0, string.Join(Environment.NewLine, failures));
        Assert.True(summary.CommitsMin > 0);
    }
}

public sealed class NoFaultSimulationTests(ITestOutputHelper output) : SimulationCiTests(output, FaultProfile.None);

public sealed class LossySimulationTests(ITestOutputHelper output) : SimulationCiTests(output, FaultProfile.Lossy);

public sealed class PartitionSimulationTests(ITestOutputHelper output) : SimulationCiTests(output, FaultProfile.Partition);

public sealed class CrashSimulationTests(ITestOutputHelper output) : SimulationCiTests(output, FaultProfile.Crash);

public sealed class TwinsSimulationTests(ITestOutputHelper output) : SimulationCiTests(output, FaultProfile.Twins);

public sealed class ChaosSimulationTests(ITestOutputHelper output) : SimulationCiTests(output, FaultProfile.Chaos);
