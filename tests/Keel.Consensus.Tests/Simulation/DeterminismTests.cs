using Keel.Consensus.Simulation;

namespace Keel.Consensus.Tests.Simulation;

public sealed class DeterminismTests
{
    [Theory]
    [InlineData(FaultProfile.Chaos, 7, 2, 17UL)]
    [InlineData(FaultProfile.Crash, 4, 0, 3UL)]
    [InlineData(FaultProfile.Twins, 10, 3, 5UL)]
    public void A_seed_replays_identically(FaultProfile profile, int validators, int byzantine, ulong seed)
    {
        var options = new SimulationOptions { Validators = validators, Byzantine = byzantine, Faults = profile, Seed = seed };
        var a = ClusterSimulator.Run(options);
        var b = ClusterSimulator.Run(options);
        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.Equal(a.Events, b.Events);
        Assert.Equal(a.SimulatedMs, b.SimulatedMs);
        Assert.Equal(a.CommitsMin, b.CommitsMin);
        Assert.Equal(a.Description, b.Description);
    }

    [Fact]
    public void Different_seeds_give_different_runs()
    {
        var options = new SimulationOptions { Validators = 4, Faults = FaultProfile.Lossy };
        var fingerprints = Enumerable.Range(1, 5).Select(s => ClusterSimulator.Run(options with { Seed = (ulong)s }).Fingerprint).ToHashSet();
        Assert.Equal(5, fingerprints.Count);
    }

    [Fact]
    public void Byzantine_validators_beyond_f_are_caught()
    {
        // 2 of 4 is more than f = 1: twins split across a partition can now fork honest nodes, and the
        // checkers must say so (this is the adversary the protocol does not claim to survive).
        var options = new SimulationOptions { Validators = 4, Byzantine = 2, Faults = FaultProfile.Twins };
        var caught = Enumerable.Range(1, 300).Any(s => ClusterSimulator.Run(options with { Seed = (ulong)s }).ViolationCount > 0);
        Assert.True(caught);
    }
}
