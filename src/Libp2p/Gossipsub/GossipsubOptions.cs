namespace Keel.Libp2p.Gossipsub;

/// <summary>
/// Gossipsub v1.1 parameters. Defaults are js-libp2p's (so that Keel behaves like the peers it
/// meets); the scoring weights are Keel's, since js ships none for invalid messages.
/// </summary>
public sealed class GossipsubOptions
{
    public int D { get; init; } = 6;
    public int DLow { get; init; } = 4;
    public int DHigh { get; init; } = 12;
    public int DLazy { get; init; } = 6;
    /// <summary>Peers kept by score when a mesh is pruned from above D_hi.</summary>
    public int DScore { get; init; } = 4;
    /// <summary>Outbound peers a pruned mesh keeps, against eclipse by inbound connections.</summary>
    public int DOut { get; init; } = 2;
    public int HeartbeatIntervalMs { get; init; } = 1_000;
    public int HeartbeatInitialDelayMs { get; init; } = 100;
    public int FanoutTtlMs { get; init; } = 60_000;
    /// <summary>Heartbeat windows the message cache keeps, and how many of them IHAVE advertises.</summary>
    public int McacheLength { get; init; } = 5;
    public int McacheGossip { get; init; } = 3;
    public int SeenTtlMs { get; init; } = 120_000;
    public double GossipFactor { get; init; } = 0.25;
    public int PruneBackoffMs { get; init; } = 60_000;
    public int UnsubscribeBackoffMs { get; init; } = 10_000;
    /// <summary>A GRAFT this soon after our PRUNE is penalised twice (flooding).</summary>
    public int GraftFloodThresholdMs { get; init; } = 10_000;
    /// <summary>How long a peer that sent IHAVE has to deliver what we asked for with IWANT.</summary>
    public int IWantFollowupMs { get; init; } = 3_000;
    public int MaxIHaveLength { get; init; } = 5_000;
    public int MaxIHaveMessages { get; init; } = 10;
    public int MaxIWantRetransmits { get; init; } = 3;
    /// <summary>Largest message <c>data</c> accepted or published (1 MiB).</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;
    /// <summary>Largest RPC frame read from a peer (js accepts 4 MiB).</summary>
    public int MaxRpcBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>RPCs waiting to be written to one peer; beyond this they are dropped so that a slow peer stalls nobody.</summary>
    public int PeerSendQueueLength { get; init; } = 1024;
    /// <summary>Bytes one peer writer batches into a single stream write.</summary>
    public int MaxWriteBatchBytes { get; init; } = 256 * 1024;
    /// <summary>Events (RPCs, publishes, ticks) waiting for the router loop.</summary>
    public int RouterQueueLength { get; init; } = 4_096;
    public int MaxTopicsPerPeer { get; init; } = 512;
    public int MaxTopicBytes { get; init; } = 256;
    /// <summary>Message-cache cap in bytes; beyond it the oldest windows go early.</summary>
    public long MaxMcacheBytes { get; init; } = 256L * 1024 * 1024;
    /// <summary>Seen-cache cap: about 300 bytes per id, so 250k ids stay under 100 MB even under a flood.</summary>
    public int MaxSeenEntries { get; init; } = 250_000;
    public int ValidationTimeoutMs { get; init; } = 5_000;
    public bool FloodPublish { get; init; } = true;

    // Scoring (only the parts that matter for misbehaviour: invalid messages and protocol abuse).
    public double InvalidMessageWeight { get; init; } = -10;
    public double InvalidMessageDecay { get; init; } = 0.99;
    public double BehaviourPenaltyWeight { get; init; } = -10;
    public double BehaviourPenaltyDecay { get; init; } = 0.9;
    /// <summary>Counters below this are reset to zero when they decay.</summary>
    public double DecayToZero { get; init; } = 0.1;
    public double GossipThreshold { get; init; } = -10;
    public double PublishThreshold { get; init; } = -50;
    public double GraylistThreshold { get; init; } = -80;
    public int RetainScoreMs { get; init; } = 3_600_000;

    public void Validate()
    {
        if (!(DLow <= D && D <= DHigh) || DLow < 1)
        {
            throw new ArgumentException("gossipsub needs 1 <= D_lo <= D <= D_hi");
        }
        if (DOut >= DLow || DOut > D / 2)
        {
            throw new ArgumentException("gossipsub needs D_out < D_lo and D_out <= D/2");
        }
        if (DScore > D)
        {
            throw new ArgumentException("gossipsub needs D_score <= D");
        }
        if (McacheGossip > McacheLength || McacheGossip < 1)
        {
            throw new ArgumentException("gossipsub needs 1 <= mcache_gossip <= mcache_len");
        }
        if (MaxMcacheBytes < MaxRpcBytes)
        {
            throw new ArgumentException("the message cache must hold at least one largest RPC");
        }
        if (MaxMessageBytes >= MaxRpcBytes)
        {
            throw new ArgumentException("an RPC must be able to carry the largest message");
        }
        if (!(GraylistThreshold <= PublishThreshold && PublishThreshold <= GossipThreshold && GossipThreshold <= 0))
        {
            throw new ArgumentException("gossipsub needs graylist <= publish <= gossip <= 0");
        }
    }
}
