using Keel.Core;

namespace Keel.Consensus.Ports;

/// <summary>The validator set: addresses, stakes, quorum thresholds and the leader of each round.</summary>
public interface IMembership
{
    int Count { get; }

    Address AddressOf(int index);

    long StakeOf(int index);

    /// <summary>Index of a validator address, or -1.</summary>
    int IndexOf(Address address);

    long TotalStake { get; }

    /// <summary>More than 2/3 of the stake: what a QC or TC needs.</summary>
    long QuorumStake { get; }

    /// <summary>More than 1/3 of the stake: enough that at least one honest validator is among the signers.</summary>
    long ValidityStake { get; }

    int LeaderOf(long round);
}

/// <summary>
/// A fixed validator set with a stake-weighted rotating leader: a smooth weighted round-robin schedule
/// (each validator leads in proportion to its stake, spread out rather than in runs) repeated forever.
/// </summary>
public sealed class StaticMembership : IMembership
{
    /// <summary>Schedule length cap; larger stake totals are scaled down proportionally.</summary>
    public const int MaxLeaderScheduleLength = 10_000;

    private readonly Address[] _addresses;
    private readonly long[] _stakes;
    private readonly Dictionary<Address, int> _indexByAddress = [];
    private readonly int[] _schedule;

    /// <exception cref="ConsensusConfigException">empty, too large, a non-positive stake or a repeated address</exception>
    public StaticMembership(IReadOnlyList<(Address Address, long Stake)> validators)
    {
        if (validators.Count == 0 || validators.Count > ConsensusLimits.MaxValidators)
        {
            throw new ConsensusConfigException($"a committee has 1..{ConsensusLimits.MaxValidators} validators, got {validators.Count}");
        }
        _addresses = new Address[validators.Count];
        _stakes = new long[validators.Count];
        for (var i = 0; i < validators.Count; i++)
        {
            var (address, stake) = validators[i];
            if (stake <= 0 || stake > long.MaxValue / ConsensusLimits.MaxValidators)
            {
                throw new ConsensusConfigException($"validator {i} has stake {stake}; stakes must be positive and bounded");
            }
            if (!_indexByAddress.TryAdd(address, i))
            {
                throw new ConsensusConfigException($"validator address {address} appears twice");
            }
            _addresses[i] = address;
            _stakes[i] = stake;
            TotalStake += stake;
        }
        QuorumStake = TotalStake * 2 / 3 + 1;
        ValidityStake = TotalStake / 3 + 1;
        _schedule = BuildSchedule(_stakes);
    }

    public static StaticMembership EqualStake(IEnumerable<Address> addresses) =>
        new([.. addresses.Select(a => (a, 1L))]);

    public int Count => _addresses.Length;
    public long TotalStake { get; }
    public long QuorumStake { get; }
    public long ValidityStake { get; }

    public Address AddressOf(int index) => _addresses[index];

    public long StakeOf(int index) => _stakes[index];

    public int IndexOf(Address address) => _indexByAddress.TryGetValue(address, out var i) ? i : -1;

    public int LeaderOf(long round) => _schedule[(int)(round % _schedule.Length)];

    private static int[] BuildSchedule(long[] stakes)
    {
        var gcd = stakes.Aggregate(0L, (a, b) => Gcd(a, b));
        var weights = stakes.Select(s => s / gcd).ToArray();
        var total = weights.Sum();
        if (total > MaxLeaderScheduleLength)
        {
            weights = [.. weights.Select(w => Math.Max(1, w * MaxLeaderScheduleLength / total))];
            total = weights.Sum();
        }
        var schedule = new int[total];
        var current = new long[weights.Length];
        for (var slot = 0; slot < total; slot++)
        {
            var best = 0;
            for (var i = 0; i < weights.Length; i++)
            {
                current[i] += weights[i];
                if (current[i] > current[best])
                {
                    best = i;
                }
            }
            current[best] -= total;
            schedule[slot] = best;
        }
        return schedule;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }
        return a;
    }
}
