using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Keel.Consensus.Simulation;

/// <summary>The outcome of many seeded scenarios with one set of parameters.</summary>
public sealed record SimulationSummary(
    int Seeds,
    ulong SeedStart,
    int Validators,
    int Byzantine,
    FaultProfile Faults,
    int Violations,
    IReadOnlyList<ScenarioResult> Failures,
    long CommitsMin,
    double CommitsMean,
    long SimulatedMs,
    long WallMs,
    long Events,
    long EquivocationsDetected,
    long MaxRoundsToRecover,
    int LivenessRoundBound)
{
    /// <summary>The command that replays one seed of this run exactly.</summary>
    public string ReplayCommand(ulong seed) =>
        $"keel sim consensus --seeds 1 --seed-start {seed} --validators {Validators} --byzantine {Byzantine} --faults {Faults.ToString().ToLowerInvariant()}";

    public JsonObject ToJson() => new()
    {
        ["seeds"] = Seeds,
        ["seed_start"] = SeedStart,
        ["validators"] = Validators,
        ["byzantine"] = Byzantine,
        ["faults"] = Faults.ToString().ToLowerInvariant(),
        ["violations"] = Violations,
        ["failing_seeds"] = new JsonArray([.. Failures.Select(f => (JsonNode?)JsonValue.Create(f.Seed))]),
        ["commits_min"] = CommitsMin,
        ["commits_mean"] = Math.Round(CommitsMean, 2),
        ["simulated_ms"] = SimulatedMs,
        ["wall_ms"] = WallMs,
        ["events"] = Events,
        ["equivocations_detected"] = EquivocationsDetected,
        ["max_rounds_to_recover"] = MaxRoundsToRecover,
        ["liveness_round_bound"] = LivenessRoundBound,
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Seeds} seeds from {SeedStart}, {Validators} validators, {Byzantine} byzantine, faults {Faults.ToString().ToLowerInvariant()}: {Violations} violations, commits min {CommitsMin} mean {CommitsMean:F1}, max rounds to recover {MaxRoundsToRecover}, {SimulatedMs / 1000} s simulated in {WallMs} ms");
}

/// <summary>Runs seeds seedStart .. seedStart+seeds-1 one after another and aggregates them.</summary>
public static class SimulationRunner
{
    public static SimulationSummary Run(SimulationOptions template, ulong seedStart, int seeds, Action<ScenarioResult>? onEach = null, Action<ScenarioResult>? onFailure = null)
    {
        var wall = Stopwatch.StartNew();
        var failures = new List<ScenarioResult>();
        long violations = 0, simulated = 0, events = 0, evidence = 0, maxRecover = 0;
        long commitsMin = long.MaxValue;
        double commitsSum = 0;
        for (var i = 0; i < seeds; i++)
        {
            var result = ClusterSimulator.Run(template with { Seed = seedStart + (ulong)i });
            onEach?.Invoke(result);
            violations += result.ViolationCount;
            simulated += result.SimulatedMs;
            events += result.Events;
            evidence += result.EquivocationsDetected;
            maxRecover = Math.Max(maxRecover, result.RoundsToRecover);
            commitsMin = Math.Min(commitsMin, result.CommitsMin);
            commitsSum += result.CommitsMin;
            if (result.ViolationCount > 0)
            {
                failures.Add(result);
                onFailure?.Invoke(result);
            }
        }
        return new SimulationSummary(seeds, seedStart, template.Validators, template.Byzantine, template.Faults,
            (int)Math.Min(violations, int.MaxValue), failures, seeds == 0 ? 0 : commitsMin, seeds == 0 ? 0 : commitsSum / seeds,
            simulated, wall.ElapsedMilliseconds, events, evidence, maxRecover, template.EffectiveLivenessBound);
    }
}
