using FsCheck;
using FsCheck.Fluent;
using Keel.Consensus.Ports;
using Keel.Core;

namespace Keel.Consensus.Tests.Ports;

public sealed class StaticMembershipTests
{
    private static Address A(int i) => TestKeys.AddressOf(i);

    [Theory]
    [InlineData(4, 3, 2)]
    [InlineData(7, 5, 3)]
    [InlineData(10, 7, 4)]
    [InlineData(1, 1, 1)]
    public void Equal_stake_quorum_is_2f_plus_1_and_validity_is_f_plus_1(int n, long quorum, long validity)
    {
        var m = StaticMembership.EqualStake(Enumerable.Range(0, n).Select(A));
        Assert.Equal(quorum, m.QuorumStake);
        Assert.Equal(validity, m.ValidityStake);
        // Equal stakes rotate plainly: every validator leads once per n rounds.
        Assert.Equal(Enumerable.Range(0, n), Enumerable.Range(0, n).Select(r => m.LeaderOf(r)).Order());
    }

    [Fact]
    public void Leaders_rotate_in_proportion_to_stake_and_spread_out()
    {
        var m = new StaticMembership([(A(0), 50), (A(1), 30), (A(2), 20)]);
        var counts = new int[3];
        var longestRun = 0;
        var run = 0;
        for (var r = 0; r < 1_000; r++)
        {
            var leader = m.LeaderOf(r);
            counts[leader]++;
            run = r > 0 && m.LeaderOf(r - 1) == leader ? run + 1 : 1;
            longestRun = Math.Max(longestRun, run);
        }
        Assert.Equal([500, 300, 200], counts);
        Assert.True(longestRun <= 2);
        Assert.Equal(67, m.QuorumStake);
    }

    [Fact]
    public void Quorum_is_more_than_two_thirds_for_uneven_stakes()
    {
        Prop.ForAll<PositiveInt[]>(stakes =>
        {
            if (stakes.Length == 0 || stakes.Length > 50)
            {
                return true;
            }
            var m = new StaticMembership([.. stakes.Select((s, i) => (A(i), (long)Math.Min(s.Get, 1_000_000)))]);
            return 3 * m.QuorumStake > 2 * m.TotalStake && 3 * (m.QuorumStake - 1) <= 2 * m.TotalStake
                && 3 * m.ValidityStake > m.TotalStake;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Bad_committees_are_rejected()
    {
        Assert.Throws<ConsensusConfigException>(() => new StaticMembership([]));
        Assert.Throws<ConsensusConfigException>(() => new StaticMembership([(A(0), 0)]));
        Assert.Throws<ConsensusConfigException>(() => new StaticMembership([(A(0), 1), (A(0), 1)]));
    }
}
