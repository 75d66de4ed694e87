using Keel.Libp2p.Crypto;

namespace Keel.Libp2p.Host;

/// <summary>How a <see cref="Libp2pHost"/> runs; every limit has a named default.</summary>
public sealed class Libp2pHostOptions
{
    public const int DefaultMaxConnections = 128;
    public const int DefaultMaxConnectionsPerPeer = 2;
    public const int DefaultMaxConnectionsPerIp = 16;
    public const int DefaultDialTimeoutMs = 10_000;
    public const int DefaultHandshakeTimeoutMs = 10_000;
    public const int DefaultNegotiationTimeoutMs = 10_000;
    public const int DefaultIdentifyTimeoutMs = 5_000;
    public const int DefaultReconnectInitialBackoffMs = 1_000;
    public const int DefaultReconnectMaxBackoffMs = 60_000;

    public required IdentityKey Identity { get; init; }

    /// <summary>Addresses to listen on, e.g. <c>/ip4/0.0.0.0/tcp/30400</c>; port 0 picks a free one.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses { get; init; } = [];

    /// <summary>Peers to stay connected to: dialled at start and redialled with backoff whenever the connection drops.</summary>
    public IReadOnlyList<Multiaddr> StaticPeers { get; init; } = [];

    /// <summary>Entry points dialled at start, redialled with backoff until connected once.</summary>
    public IReadOnlyList<Multiaddr> Bootnodes { get; init; } = [];

    public string AgentVersion { get; init; } = "keel/0.1";
    public int MaxConnections { get; init; } = DefaultMaxConnections;
    public int MaxConnectionsPerPeer { get; init; } = DefaultMaxConnectionsPerPeer;
    public int MaxConnectionsPerIp { get; init; } = DefaultMaxConnectionsPerIp;
    public int DialTimeoutMs { get; init; } = DefaultDialTimeoutMs;
    public int HandshakeTimeoutMs { get; init; } = DefaultHandshakeTimeoutMs;
    public int NegotiationTimeoutMs { get; init; } = DefaultNegotiationTimeoutMs;
    public int IdentifyTimeoutMs { get; init; } = DefaultIdentifyTimeoutMs;
    public int ReconnectInitialBackoffMs { get; init; } = DefaultReconnectInitialBackoffMs;
    public int ReconnectMaxBackoffMs { get; init; } = DefaultReconnectMaxBackoffMs;

    /// <summary>Checks relationships between limits at start-up, not at the first surprise.</summary>
    public void Validate()
    {
        if (MaxConnections < 1 || MaxConnectionsPerPeer < 1 || MaxConnectionsPerIp < 1)
        {
            throw new ArgumentException("connection limits must be at least 1");
        }
        if (MaxConnectionsPerPeer > MaxConnections || MaxConnectionsPerIp > MaxConnections)
        {
            throw new ArgumentException("per-peer and per-IP connection limits cannot exceed the total cap");
        }
        if (ReconnectInitialBackoffMs < 1 || ReconnectMaxBackoffMs < ReconnectInitialBackoffMs)
        {
            throw new ArgumentException("reconnect backoff must be positive and its maximum at least its start");
        }
        foreach (var a in ListenAddresses.Concat(StaticPeers).Concat(Bootnodes))
        {
            if (!a.TryGetTcpTarget(out _, out _))
            {
                throw new ArgumentException($"not a TCP multiaddr: {a}");
            }
        }
    }
}
