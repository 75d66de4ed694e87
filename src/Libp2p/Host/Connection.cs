using System.Net;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Transport;

namespace Keel.Libp2p.Host;

/// <summary>One secured, multiplexed connection to a peer.</summary>
public sealed class Connection
{
    private readonly Yamux _session;
    private readonly Libp2pHost _host;
    private volatile IReadOnlyList<string> _remoteProtocols = [];

    internal Connection(Libp2pHost host, Yamux session, PeerId remotePeer, PublicKey remoteKey, Multiaddr remoteAddress, IPAddress remoteIp, bool isOutbound)
    {
        _host = host;
        _session = session;
        RemotePeer = remotePeer;
        RemoteKey = remoteKey;
        RemoteAddress = remoteAddress;
        RemoteIp = remoteIp;
        IsOutbound = isOutbound;
    }

    public PeerId RemotePeer { get; }
    public PublicKey RemoteKey { get; }
    /// <summary>The remote's transport address, ending in <c>/p2p/&lt;id&gt;</c>.</summary>
    public Multiaddr RemoteAddress { get; }
    public IPAddress RemoteIp { get; }
    /// <summary>True when this node dialled.</summary>
    public bool IsOutbound { get; }
    public DateTime OpenedUtc { get; } = DateTime.UtcNow;

    /// <summary>Protocols the remote listed in identify (empty until identify finished).</summary>
    public IReadOnlyList<string> RemoteProtocols => _remoteProtocols;
    public string? RemoteAgentVersion { get; private set; }

    internal TaskCompletionSource Identified { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<string> Closed => _session.Closed;
    public bool IsClosed => _session.IsClosed;
    internal Yamux Session => _session;

    internal void SetIdentify(IReadOnlyList<string> protocols, string? agent)
    {
        _remoteProtocols = protocols;
        RemoteAgentVersion = agent;
    }

    /// <summary>Opens a stream and negotiates the first of <paramref name="protocols"/> the remote accepts.</summary>
    /// <exception cref="NegotiationException">the remote accepts none.</exception>
    public Task<YamuxStream> OpenStreamAsync(IReadOnlyList<string> protocols, CancellationToken ct) =>
        _host.OpenStreamOnAsync(this, protocols, ct);

    /// <summary>Round trip of a yamux ping on this connection.</summary>
    public Task<TimeSpan> MuxerPingAsync(CancellationToken ct) => _session.PingAsync(ct);

    public ValueTask CloseAsync() => _session.DisposeAsync();

    public override string ToString() => $"{RemotePeer} via {RemoteAddress} ({(IsOutbound ? "out" : "in")})";
}
