namespace Keel.Consensus.Simulation;

/// <summary>The named fault mixes of `keel sim consensus --faults`.</summary>
public enum FaultProfile
{
    None,
    Lossy,
    Partition,
    Crash,
    Twins,
    Chaos,
}

/// <summary>What a Byzantine validator does.</summary>
public enum ByzantineBehavior
{
    /// <summary>Two honest-code instances share the key, each with its own store: they vote twice.</summary>
    Twins,

    /// <summary>Proposes two blocks per round to different halves; signs a second vote and timeout per round.</summary>
    Equivocate,

    /// <summary>Proposes forks on an old QC instead of the highest one.</summary>
    StaleQc,

    /// <summary>Signs votes and timeouts for rounds far ahead.</summary>
    FutureVotes,

    /// <summary>Floods peers with malformed, mis-signed and oversized messages.</summary>
    Spam,

    /// <summary>Sends nothing (crashed or withholding).</summary>
    Silent,
}

internal enum PartitionKind
{
    IsolateOne,
    SplitHalves,
    Asymmetric,
}

/// <summary>During [StartMs, EndMs) a message from instance a to instance b is dropped when Blocked[a, b].</summary>
internal sealed record PartitionEpisode(long StartMs, long EndMs, PartitionKind Kind, bool[,] Blocked);

internal sealed record CrashEpisode(int Instance, long CrashAtMs, long RestartAtMs);

/// <summary>Message delay: uniform in [MinMs, MaxMs], plus a long tail with TailChance up to TailMaxMs.</summary>
internal sealed record DelayModel(long MinMs, long MaxMs, double TailChance, long TailMaxMs)
{
    public long Sample(Keel.Consensus.Ports.DeterministicRandom random)
    {
        var delay = random.NextLong(MinMs, MaxMs + 1);
        if (TailChance > 0 && random.Chance(TailChance))
        {
            delay += random.NextLong(0, TailMaxMs + 1);
        }
        return delay;
    }
}

/// <summary>
/// Everything that will go wrong in one seeded run, drawn up front from the seed: network quality
/// during the fault phase, partitions, crashes, clock skew and the Byzantine validators. At HealAtMs
/// the network becomes clean and every crashed instance is back; Byzantine validators keep misbehaving.
/// </summary>
internal sealed class FaultPlan
{
    public required long HealAtMs { get; init; }
    public required DelayModel FaultDelay { get; init; }
    public required DelayModel HealthyDelay { get; init; }
    public required double LossRate { get; init; }
    public required double DuplicateRate { get; init; }
    public required double ReorderRate { get; init; }
    public required long[] SkewMs { get; init; }
    public required int[] DriftPpm { get; init; }
    public required List<PartitionEpisode> Partitions { get; init; }
    public required List<CrashEpisode> Crashes { get; init; }

    /// <summary>Validator index of each instance (twins give two instances one index).</summary>
    public required int[] ValidatorOfInstance { get; init; }
    public required Dictionary<int, ByzantineBehavior> Byzantine { get; init; }
    public required double PendingPayloadChance { get; init; }

    public int Instances => ValidatorOfInstance.Length;

    public bool IsHonest(int instance) => !Byzantine.ContainsKey(ValidatorOfInstance[instance]);

    public bool IsBlocked(int from, int to, long nowMs)
    {
        if (nowMs >= HealAtMs)
        {
            return false;
        }
        foreach (var p in Partitions)
        {
            if (nowMs >= p.StartMs && nowMs < p.EndMs && p.Blocked[from, to])
            {
                return true;
            }
        }
        return false;
    }

    public static FaultPlan Create(FaultProfile profile, int validators, int byzantine, Keel.Consensus.Ports.DeterministicRandom random)
    {
        // Byzantine validators: a random subset, each with a behaviour the profile allows.
        var byz = new Dictionary<int, ByzantineBehavior>();
        var candidates = Enumerable.Range(0, validators).ToList();
        for (var i = 0; i < Math.Min(byzantine, validators); i++)
        {
            var pick = candidates[random.Next(candidates.Count)];
            candidates.Remove(pick);
            byz[pick] = profile switch
            {
                FaultProfile.Twins => ByzantineBehavior.Twins,
                FaultProfile.Chaos => (ByzantineBehavior)random.Next(6),
                _ => (ByzantineBehavior)(1 + random.Next(5)),
            };
        }
        var instances = new List<int>();
        for (var v = 0; v < validators; v++)
        {
            instances.Add(v);
        }
        foreach (var (v, b) in byz.OrderBy(kv => kv.Key))
        {
            if (b == ByzantineBehavior.Twins)
            {
                instances.Add(v);
            }
        }
        var count = instances.Count;

        var faulty = profile != FaultProfile.None;
        var healAt = faulty ? random.NextLong(5_000, 25_001) : 0;
        var healthy = new DelayModel(1, 20, 0, 0);
        var faultDelay = profile switch
        {
            FaultProfile.None => healthy,
            _ => random.Next(3) switch
            {
                0 => new DelayModel(1, 50, 0, 0),
                1 => new DelayModel(10, 200, 0.01, 500),
                _ => new DelayModel(5, 60, 0.03, 1_500),
            },
        };
        var lossy = profile is FaultProfile.Lossy or FaultProfile.Chaos;
        var skewed = profile is FaultProfile.Lossy or FaultProfile.Chaos or FaultProfile.Crash;
        var skew = new long[count];
        var drift = new int[count];
        if (skewed)
        {
            for (var i = 0; i < count; i++)
            {
                skew[i] = random.NextLong(-300, 301);
                drift[i] = (int)random.NextLong(-1_000, 1_001);
            }
        }

        var partitions = new List<PartitionEpisode>();
        if (profile is FaultProfile.Partition or FaultProfile.Chaos or FaultProfile.Twins)
        {
            var t = random.NextLong(0, 1_000);
            while (t < healAt - 500)
            {
                var length = random.NextLong(500, 4_000);
                var end = Math.Min(t + length, healAt);
                var kind = profile == FaultProfile.Twins ? PartitionKind.SplitHalves : (PartitionKind)random.Next(3);
                partitions.Add(new PartitionEpisode(t, end, kind, BuildPartition(kind, instances, byz, random)));
                t = end + random.NextLong(0, 2_000);
            }
        }

        var crashes = new List<CrashEpisode>();
        if (profile is FaultProfile.Crash or FaultProfile.Chaos)
        {
            var episodes = 1 + random.Next(2 * validators);
            for (var i = 0; i < episodes; i++)
            {
                var instance = random.Next(count);
                var at = random.NextLong(0, Math.Max(1, healAt - 200));
                var restart = Math.Min(at + random.NextLong(100, 4_000), healAt);
                crashes.Add(new CrashEpisode(instance, at, restart));
            }
        }

        return new FaultPlan
        {
            HealAtMs = healAt,
            FaultDelay = faultDelay,
            HealthyDelay = healthy,
            LossRate = lossy ? random.NextDouble() * 0.30 : 0,
            DuplicateRate = lossy ? random.NextDouble() * 0.10 : 0,
            ReorderRate = lossy ? random.NextDouble() * 0.20 : 0,
            SkewMs = skew,
            DriftPpm = drift,
            Partitions = partitions,
            Crashes = crashes,
            ValidatorOfInstance = [.. instances],
            Byzantine = byz,
            PendingPayloadChance = random.Next(4) switch { 0 or 1 => 1.0, 2 => 0.5, _ => 0.0 },
        };
    }

    private static bool[,] BuildPartition(PartitionKind kind, List<int> validatorOf, Dictionary<int, ByzantineBehavior> byz, Keel.Consensus.Ports.DeterministicRandom random)
    {
        var n = validatorOf.Count;
        var blocked = new bool[n, n];
        switch (kind)
        {
            case PartitionKind.IsolateOne:
            {
                var x = random.Next(n);
                for (var i = 0; i < n; i++)
                {
                    if (i != x)
                    {
                        blocked[x, i] = blocked[i, x] = true;
                    }
                }
                break;
            }
            case PartitionKind.SplitHalves:
            {
                var side = new int[n];
                for (var i = 0; i < n; i++)
                {
                    side[i] = random.Next(2);
                }
                // Twins land on opposite sides: the classic twins attack.
                var firstInstance = new Dictionary<int, int>();
                for (var i = 0; i < n; i++)
                {
                    if (firstInstance.TryGetValue(validatorOf[i], out var twin))
                    {
                        side[i] = 1 - side[twin];
                    }
                    else
                    {
                        firstInstance[validatorOf[i]] = i;
                    }
                }
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        blocked[i, j] = side[i] != side[j];
                    }
                }
                break;
            }
            default:
            {
                // One direction only: a group's messages out are lost, messages in still arrive.
                var side = new int[n];
                for (var i = 0; i < n; i++)
                {
                    side[i] = random.Next(2);
                }
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        blocked[i, j] = side[i] == 1 && side[j] == 0;
                    }
                }
                break;
            }
        }
        _ = byz;
        return blocked;
    }
}
