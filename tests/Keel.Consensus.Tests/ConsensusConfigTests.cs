namespace Keel.Consensus.Tests;

public sealed class ConsensusConfigTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        new ConsensusConfig().Validate();
    }

    [Fact]
    public void Contradicting_bounds_are_rejected_at_start()
    {
        Assert.Throws<ConsensusConfigException>(() => new ConsensusConfig { RoundTimeoutMs = 500, MaxEmptyIntervalMs = 1_000 }.Validate());
        Assert.Throws<ConsensusConfigException>(() => new ConsensusConfig { MaxRoundTimeoutMs = 10, RoundTimeoutMs = 2_000 }.Validate());
        Assert.Throws<ConsensusConfigException>(() => new ConsensusConfig { MinBlockIntervalMs = 2_000, MaxEmptyIntervalMs = 1_000 }.Validate());
    }
}
