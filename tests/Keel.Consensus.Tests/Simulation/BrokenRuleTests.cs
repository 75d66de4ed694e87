using Keel.Consensus.Simulation;
using Xunit.Abstractions;

namespace Keel.Consensus.Tests.Simulation;

/// <summary>
/// The checkers must be able to fail: with one safety rule broken on purpose in every honest node, a
/// bounded number of seeds has to produce a violation.
/// </summary>
public sealed class BrokenRuleTests(ITestOutputHelper output)
{
    /// <summary>Seeds tried before the test gives up on the checker (each case is caught within about 20 today).</summary>
    private const int MaxSeeds = 200;

    [Theory]
    [InlineData(SafetyRuleBreak.SkipLastVotedRoundCheck, FaultProfile.Chaos, 7, 2)]
    [InlineData(SafetyRuleBreak.SkipLastVotedRoundCheck, FaultProfile.Twins, 4, 1)]
    [InlineData(SafetyRuleBreak.VolatileSafetyData, FaultProfile.Crash, 4, 0)]
    [InlineData(SafetyRuleBreak.VolatileSafetyData, FaultProfile.Chaos, 7, 2)]
    [InlineData(SafetyRuleBreak.CommitOnOneChain, FaultProfile.Partition, 4, 0)]
    [InlineData(SafetyRuleBreak.CommitOnOneChain, FaultProfile.Twins, 4, 1)]
    internal void Broken_rule_is_caught_within_bounded_seeds(SafetyRuleBreak rule, FaultProfile profile, int validators, int byzantine)
    {
        var options = new SimulationOptions { Validators = validators, Byzantine = byzantine, Faults = profile, BrokenRule = rule };
        for (ulong seed = 1; seed <= MaxSeeds; seed++)
        {
            var result = ClusterSimulator.Run(options with { Seed = seed });
            if (result.ViolationCount > 0)
            {
                output.WriteLine($"{rule} caught at seed {seed} ({seed} seeds): {result.Violations[0]}");
                return;
            }
        }
        Assert.Fail($"{rule} under {profile} was not caught in {MaxSeeds} seeds");
    }
}
