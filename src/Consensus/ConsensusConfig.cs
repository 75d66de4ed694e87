namespace Keel.Consensus;

/// <summary>
/// Tunables of one validator. Defaults suit a devnet on loopback; <see cref="Validate"/> checks the
/// relationships between them at start-up.
/// </summary>
public sealed record ConsensusConfig
{
    /// <summary>Signed into every vote, timeout and proposal so signatures never replay across networks.</summary>
    public ulong NetworkId { get; init; } = 1;

    /// <summary>A leader does not propose earlier than this after its parent's timestamp.</summary>
    public long MinBlockIntervalMs { get; init; } = 100;

    /// <summary>With nothing to order, a leader still proposes an empty block after this long (keeps commits flowing).</summary>
    public long MaxEmptyIntervalMs { get; init; } = 1_000;

    /// <summary>How often a waiting leader asks the application whether it has something to propose.</summary>
    public long PayloadPollIntervalMs { get; init; } = 50;

    /// <summary>Round timeout with no backoff.</summary>
    public long RoundTimeoutMs { get; init; } = 2_000;

    /// <summary>Cap of the exponentially backed-off round timeout.</summary>
    public long MaxRoundTimeoutMs { get; init; } = 16_000;

    /// <summary>A proposal whose timestamp is further ahead of the local clock is not voted for.</summary>
    public long MaxClockDriftMs { get; init; } = 1_000;

    /// <summary>A block fetch without an answer is retried (from another peer) after this long.</summary>
    public long SyncRetryMs { get; init; } = 500;

    /// <summary>A peer's block fetches are served at most once per this interval.</summary>
    public long SyncServeIntervalMs { get; init; } = 10;

    /// <summary>Test-only: breaks one safety rule on purpose so that the simulator's checkers can be shown to fail.</summary>
    internal SafetyRuleBreak BrokenRule { get; init; } = SafetyRuleBreak.None;

    /// <exception cref="ConsensusConfigException">a bound is out of range or contradicts another</exception>
    public void Validate()
    {
        Require(MinBlockIntervalMs >= 0, "MinBlockIntervalMs must be >= 0");
        Require(MaxEmptyIntervalMs >= MinBlockIntervalMs, "MaxEmptyIntervalMs must be >= MinBlockIntervalMs");
        Require(PayloadPollIntervalMs > 0, "PayloadPollIntervalMs must be > 0");
        Require(RoundTimeoutMs > 0, "RoundTimeoutMs must be > 0");
        // A leader that waits the whole empty interval must still propose before honest nodes give up on the round.
        Require(RoundTimeoutMs > MaxEmptyIntervalMs, "RoundTimeoutMs must exceed MaxEmptyIntervalMs, or empty rounds time out");
        Require(MaxRoundTimeoutMs >= RoundTimeoutMs, "MaxRoundTimeoutMs must be >= RoundTimeoutMs");
        Require(MaxClockDriftMs >= 0, "MaxClockDriftMs must be >= 0");
        Require(SyncRetryMs > 0, "SyncRetryMs must be > 0");
        Require(SyncServeIntervalMs >= 0, "SyncServeIntervalMs must be >= 0");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ConsensusConfigException(message);
        }
    }
}

/// <summary>Which safety rule a test build breaks on purpose (never set outside tests and the simulator).</summary>
internal enum SafetyRuleBreak
{
    None,

    /// <summary>Vote again in a round already voted in (the persisted last_voted_round check skipped).</summary>
    SkipLastVotedRoundCheck,

    /// <summary>Commit a block as soon as it has a QC (a 1-chain rule instead of 2-chain).</summary>
    CommitOnOneChain,

    /// <summary>Keep last_voted_round and the lock in memory only: a restart forgets them.</summary>
    VolatileSafetyData,
}
