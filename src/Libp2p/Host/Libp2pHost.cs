using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Keel.Libp2p.Protocols;
using Keel.Libp2p.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Libp2p.Host;

/// <summary>Runs one protocol on an inbound stream the remote opened.</summary>
public delegate Task StreamHandler(YamuxStream stream, Connection connection, CancellationToken ct);

/// <summary>
/// A libp2p node over TCP: listens, dials, secures with Noise, multiplexes with yamux, answers
/// identify and ping, routes inbound streams to registered protocol handlers, and keeps static
/// peers connected within the configured connection limits.
/// </summary>
public sealed class Libp2pHost : IAsyncDisposable
{
    private readonly Libp2pHostOptions _options;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, StreamHandler> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<PeerId, List<Connection>> _connections = new();
    private readonly object _connectionsGate = new();
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Multiaddr> _listenAddresses = [];
    private readonly CancellationTokenSource _cts = new();
    private readonly List<Task> _background = [];
    private readonly ConcurrentDictionary<string, int> _inboundPerIp = new();
    private int _pendingOrOpen;
    private bool _started;

    private Libp2pHost(Libp2pHostOptions options, ILoggerFactory loggers)
    {
        options.Validate();
        _options = options;
        _log = loggers.CreateLogger("Keel.Libp2p");
        Loggers = loggers;
        Identify = new IdentifyService(this);
        Ping = new PingService(this);
    }

    /// <summary>Creates a host; nothing listens or dials until <see cref="StartAsync"/>.</summary>
    public static Libp2pHost Create(Libp2pHostOptions options, ILoggerFactory? loggers = null) =>
        new(options, loggers ?? NullLoggerFactory.Instance);

    public Libp2pHostOptions Options => _options;
    public PeerId PeerId => _options.Identity.PeerId;
    internal ILoggerFactory Loggers { get; }
    public IdentifyService Identify { get; }
    public PingService Ping { get; }

    /// <summary>Bound listen addresses including <c>/p2p/&lt;id&gt;</c> (ports resolved).</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses
    {
        get
        {
            lock (_listenAddresses)
            {
                return [.. _listenAddresses.Select(a => a.WithPeerId(PeerId))];
            }
        }
    }

    /// <summary>
    /// Addresses a peer can dial, with <c>/p2p/&lt;id&gt;</c>: a wildcard bind (0.0.0.0) becomes each
    /// local IPv4 address of an interface that is up, loopback first. Identify advertises these.
    /// </summary>
    public IReadOnlyList<Multiaddr> AdvertisedAddresses
    {
        get
        {
            var result = new List<Multiaddr>();
            foreach (var address in ListenAddresses)
            {
                address.TryGetTcpTarget(out var ip, out var port);
                if (ip != IPAddress.Any.ToString())
                {
                    result.Add(address);
                    continue;
                }
                var locals = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                    .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
                    .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                    .Select(u => u.Address)
                    .Where(a => a.AddressFamily == AddressFamily.InterNetwork)
                    .OrderBy(a => IPAddress.IsLoopback(a) ? 0 : 1)
                    .Distinct();
                result.AddRange(locals.Select(local => Multiaddr.FromEndPoint(new IPEndPoint(local, port)).WithPeerId(PeerId)));
            }
            return result;
        }
    }

    /// <summary>A peer's first connection is up (raised once per peer until it fully disconnects).</summary>
    public event Action<Connection>? PeerConnected;
    /// <summary>A peer's last connection closed.</summary>
    public event Action<PeerId>? PeerDisconnected;
    /// <summary>A peer broke a protocol rule (bad frames, failed negotiation); routers lower its score.</summary>
    public event Action<PeerId, string>? PeerMisbehaved;

    public IReadOnlyCollection<PeerId> ConnectedPeers => [.. _connections.Keys];

    public int ConnectionCount
    {
        get
        {
            lock (_connectionsGate)
            {
                return _connections.Values.Sum(l => l.Count);
            }
        }
    }

    /// <summary>Protocols served on inbound streams (identify lists these).</summary>
    public IReadOnlyList<string> Protocols => [.. _handlers.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Serves <paramref name="protocol"/> on streams the remote opens. Replaces an earlier handler.</summary>
    public void SetStreamHandler(string protocol, StreamHandler handler) => _handlers[protocol] = handler;

    public void RemoveStreamHandler(string protocol) => _handlers.TryRemove(protocol, out _);

    public Connection? GetConnection(PeerId peer)
    {
        lock (_connectionsGate)
        {
            return _connections.TryGetValue(peer, out var list) ? list.FirstOrDefault(c => !c.IsClosed) : null;
        }
    }

    public bool IsConnected(PeerId peer) => GetConnection(peer) is not null;

    /// <summary>Binds the listen addresses and starts dialling static peers and bootnodes; returns once bound.</summary>
    public Task StartAsync(CancellationToken ct = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("host already started");
        }
        _started = true;
        foreach (var address in _options.ListenAddresses)
        {
            address.TryGetTcpTarget(out var host, out var port);
            var ip = IPAddress.Parse(host);
            var listener = new TcpListener(ip, port);
            try
            {
                listener.Start();
            }
            catch (System.Net.Sockets.SocketException e)
            {
                // The socket's own text ("Address already in use") does not say which address.
                throw new Libp2pException($"cannot listen on {address}: {e.Message}", e);
            }
            _listeners.Add(listener);
            var bound = (IPEndPoint)listener.LocalEndpoint;
            lock (_listenAddresses)
            {
                _listenAddresses.Add(Multiaddr.FromEndPoint(bound));
            }
            Log.Listening(_log, Multiaddr.FromEndPoint(bound).WithPeerId(PeerId));
            _background.Add(Task.Run(() => AcceptLoopAsync(listener)));
        }
        foreach (var peer in _options.StaticPeers)
        {
            _background.Add(Task.Run(() => KeepConnectedAsync(peer, forever: true)));
        }
        foreach (var peer in _options.Bootnodes)
        {
            _background.Add(Task.Run(() => KeepConnectedAsync(peer, forever: false)));
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Dials a TCP multiaddr. With <c>/p2p/&lt;id&gt;</c> the remote must prove that id, and an
    /// existing connection to it is reused.
    /// </summary>
    public async Task<Connection> DialAsync(Multiaddr address, CancellationToken ct = default)
    {
        if (!address.TryGetTcpTarget(out var host, out var port))
        {
            throw new ArgumentException($"cannot dial {address}: only TCP addresses are supported");
        }
        var expected = address.PeerId;
        if (expected is not null)
        {
            if (expected == PeerId)
            {
                throw new ArgumentException("refusing to dial this node itself");
            }
            if (GetConnection(expected) is { } existing)
            {
                return existing;
            }
        }
        ReserveSlot();
        var client = new TcpClient { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _cts.Token);
            timeout.CancelAfter(_options.DialTimeoutMs);
            await client.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            var remote = (IPEndPoint)client.Client.RemoteEndPoint!;
            return await UpgradeAsync(client, remote, isOutbound: true, expected, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            ReleaseSlot();
            client.Dispose();
            throw new Libp2pException($"dial {address} timed out");
        }
        catch (Exception e) when (e is SocketException or IOException or EndOfStreamException)
        {
            ReleaseSlot();
            client.Dispose();
            throw new Libp2pException($"dial {address} failed: {e.Message}", e);
        }
        catch
        {
            ReleaseSlot();
            client.Dispose();
            throw;
        }
    }

    /// <summary>Opens a stream to a connected peer (dialling nothing) for the first protocol it accepts.</summary>
    public async Task<YamuxStream> NewStreamAsync(PeerId peer, IReadOnlyList<string> protocols, CancellationToken ct)
    {
        var connection = GetConnection(peer) ?? throw new Libp2pException($"not connected to {peer}");
        return await connection.OpenStreamAsync(protocols, ct).ConfigureAwait(false);
    }

    internal async Task<YamuxStream> OpenStreamOnAsync(Connection connection, IReadOnlyList<string> protocols, CancellationToken ct)
    {
        var stream = await connection.Session.OpenStreamAsync(ct).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.NegotiationTimeoutMs);
            stream.Protocol = await Multistream.SelectAsync(stream, protocols, timeout.Token).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            stream.Reset();
            throw;
        }
    }

    private void ReserveSlot()
    {
        if (Interlocked.Increment(ref _pendingOrOpen) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _pendingOrOpen);
            throw new ConnectionLimitException($"connection cap of {_options.MaxConnections} reached");
        }
    }

    private void ReleaseSlot() => Interlocked.Decrement(ref _pendingOrOpen);

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        var ct = _cts.Token;
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }
                Log.AcceptFailed(_log, e.Message);
                continue;
            }
            client.NoDelay = true;
            _ = Task.Run(() => HandleInboundAsync(client));
        }
    }

    private async Task HandleInboundAsync(TcpClient client)
    {
        var remote = (IPEndPoint)client.Client.RemoteEndPoint!;
        var ipKey = remote.Address.ToString();
        try
        {
            ReserveSlot();
        }
        catch (ConnectionLimitException e)
        {
            Log.RefusingConnection(_log, remote, e.Message);
            client.Dispose();
            return;
        }
        var perIp = _inboundPerIp.AddOrUpdate(ipKey, 1, (_, n) => n + 1);
        if (perIp > _options.MaxConnectionsPerIp)
        {
            Log.RefusingConnection(_log, remote, $"{_options.MaxConnectionsPerIp} connections from that IP");
            DecrementIp(ipKey);
            ReleaseSlot();
            client.Dispose();
            return;
        }
        try
        {
            var connection = await UpgradeAsync(client, remote, isOutbound: false, null, _cts.Token).ConfigureAwait(false);
            _ = connection.Closed.ContinueWith(_ => DecrementIp(ipKey), TaskScheduler.Default);
        }
        catch (Exception e) when (e is Libp2pException or IOException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
        {
            Log.InboundDropped(_log, remote, e.Message);
            DecrementIp(ipKey);
            ReleaseSlot();
            client.Dispose();
        }
    }

    private void DecrementIp(string ip)
    {
        var left = _inboundPerIp.AddOrUpdate(ip, 0, (_, n) => Math.Max(0, n - 1));
        if (left == 0)
        {
            // Drop idle entries so that the table is bounded by open connections, not by every IP ever seen.
            _inboundPerIp.TryRemove(KeyValuePair.Create(ip, 0));
        }
    }

    /// <summary>mss → Noise → mss → yamux on a fresh TCP connection, then registration and identify.</summary>
    private async Task<Connection> UpgradeAsync(TcpClient client, IPEndPoint remote, bool isOutbound, PeerId? expected, CancellationToken ct)
    {
        var network = client.GetStream();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _cts.Token);
        timeout.CancelAfter(_options.HandshakeTimeoutMs);
        SecureChannel secure;
        try
        {
            if (isOutbound)
            {
                await Multistream.SelectAsync(network, [Noise.ProtocolId], timeout.Token).ConfigureAwait(false);
                secure = await Noise.InitiateAsync(network, _options.Identity, expected, timeout.Token).ConfigureAwait(false);
                await Multistream.SelectAsync(secure.Stream, [Yamux.ProtocolId], timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await Multistream.HandleAsync(network, p => p == Noise.ProtocolId, () => [Noise.ProtocolId], timeout.Token).ConfigureAwait(false);
                secure = await Noise.RespondAsync(network, _options.Identity, timeout.Token).ConfigureAwait(false);
                await Multistream.HandleAsync(secure.Stream, p => p == Yamux.ProtocolId, () => [Yamux.ProtocolId], timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new HandshakeException($"connection upgrade with {remote} timed out after {_options.HandshakeTimeoutMs} ms");
        }

        Connection? connection = null;
        var session = new Yamux(secure.Stream, isClient: isOutbound, Loggers.CreateLogger("Keel.Libp2p.Yamux"),
            stream => HandleStreamAsync(stream, connection!));
        var address = Multiaddr.FromEndPoint(remote).WithPeerId(secure.RemotePeer);
        connection = new Connection(this, session, secure.RemotePeer, secure.RemoteKey, address, remote.Address, isOutbound);

        bool first;
        lock (_connectionsGate)
        {
            var list = _connections.GetOrAdd(secure.RemotePeer, _ => []);
            if (list.Count >= _options.MaxConnectionsPerPeer)
            {
                first = false;
                connection = null;
            }
            else
            {
                list.Add(connection);
                first = list.Count == 1;
            }
        }
        if (connection is null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            if (isOutbound && GetConnection(secure.RemotePeer) is { } existing)
            {
                // A simultaneous dial raced ours: use the connection that won.
                ReleaseSlot();
                return existing;
            }
            throw new ConnectionLimitException($"already {_options.MaxConnectionsPerPeer} connections to {secure.RemotePeer}");
        }
        session.Start();
        _ = connection.Closed.ContinueWith(t => OnConnectionClosed(connection, t.Result), TaskScheduler.Default);
        Log.Connected(_log, connection);
        _ = Task.Run(() => Identify.RequestAsync(connection, _cts.Token));
        if (first)
        {
            RaisePeerConnected(connection);
        }
        return connection;
    }

    private void RaisePeerConnected(Connection connection)
    {
        try
        {
            PeerConnected?.Invoke(connection);
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_log, e, "a PeerConnected handler");
        }
    }

    private void OnConnectionClosed(Connection connection, string reason)
    {
        ReleaseSlot();
        bool last;
        lock (_connectionsGate)
        {
            if (!_connections.TryGetValue(connection.RemotePeer, out var list))
            {
                return;
            }
            list.Remove(connection);
            last = list.Count == 0;
            if (last)
            {
                _connections.TryRemove(connection.RemotePeer, out _);
            }
        }
        Log.Disconnected(_log, connection, reason);
        if (reason.StartsWith("protocol error", StringComparison.Ordinal))
        {
            ReportMisbehaviour(connection.RemotePeer, reason);
        }
        if (last)
        {
            try
            {
                PeerDisconnected?.Invoke(connection.RemotePeer);
            }
            catch (Exception e)
            {
                Log.HandlerFailed(_log, e, "a PeerDisconnected handler");
            }
        }
    }

    /// <summary>Logs a peer's protocol violation and tells routers (gossipsub lowers its score).</summary>
    public void ReportMisbehaviour(PeerId peer, string reason)
    {
        Log.Misbehaved(_log, peer, reason);
        try
        {
            PeerMisbehaved?.Invoke(peer, reason);
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_log, e, "a PeerMisbehaved handler");
        }
    }

    private async Task HandleStreamAsync(YamuxStream stream, Connection connection)
    {
        string protocol;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token))
        {
            timeout.CancelAfter(_options.NegotiationTimeoutMs);
            try
            {
                protocol = await Multistream.HandleAsync(stream, _handlers.ContainsKey, () => Protocols, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NegotiationException or OperationCanceledException or MalformedDataException)
            {
                Log.StreamNegotiationFailed(_log, connection.RemotePeer, e.Message);
                stream.Reset();
                return;
            }
        }
        stream.Protocol = protocol;
        if (!_handlers.TryGetValue(protocol, out var handler))
        {
            stream.Reset();
            return;
        }
        try
        {
            await handler(stream, connection, _cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Libp2pException or IOException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
        {
            Log.StreamEnded(_log, protocol, connection.RemotePeer, e.Message);
            stream.Reset();
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Dials <paramref name="address"/> until connected; with <paramref name="forever"/>, again after every disconnect.</summary>
    private async Task KeepConnectedAsync(Multiaddr address, bool forever)
    {
        var ct = _cts.Token;
        var backoff = _options.ReconnectInitialBackoffMs;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var connection = await DialAsync(address, ct).ConfigureAwait(false);
                backoff = _options.ReconnectInitialBackoffMs;
                if (!forever)
                {
                    return;
                }
                await connection.Closed.WaitAsync(ct).ConfigureAwait(false);
                // Another connection to the same peer may still be up; wait for the peer to go.
                while (GetConnection(connection.RemotePeer) is { } other)
                {
                    await other.Closed.WaitAsync(ct).ConfigureAwait(false);
                }
                continue;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Libp2pException or IOException or EndOfStreamException or ObjectDisposedException or SocketException)
            {
                Log.RedialScheduled(_log, address, backoff, e.Message);
            }
            try
            {
                // Jitter keeps a restarted cluster from redialling in lockstep.
                await Task.Delay(backoff + Random.Shared.Next(backoff / 4 + 1), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            backoff = Math.Min(backoff * 2, _options.ReconnectMaxBackoffMs);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }
        _cts.Cancel();
        foreach (var l in _listeners)
        {
            l.Stop();
        }
        List<Connection> all;
        lock (_connectionsGate)
        {
            all = [.. _connections.Values.SelectMany(l => l)];
        }
        foreach (var c in all)
        {
            await c.CloseAsync().ConfigureAwait(false);
        }
        try
        {
            await Task.WhenAll(_background).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or Libp2pException)
        {
        }
        _cts.Dispose();
    }
}
