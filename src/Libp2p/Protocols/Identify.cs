using Google.Protobuf;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Wire;
using Keel.Libp2p.Host;
using Keel.Libp2p.Transport;
using Microsoft.Extensions.Logging;

namespace Keel.Libp2p.Protocols;

/// <summary>
/// <c>/ipfs/id/1.0.0</c>: on every new connection each side asks the other who it is. The
/// answer carries the public key (checked against the Noise-proven peer id) and the protocols
/// served, which js gossipsub waits for before it opens its stream.
/// </summary>
public sealed class IdentifyService
{
    public const string ProtocolId = "/ipfs/id/1.0.0";
    public const string PushProtocolId = "/ipfs/id/push/1.0.0";
    public const string ProtocolVersion = "ipfs/0.1.0";
    /// <summary>js-libp2p's limit on one identify message.</summary>
    public const int MaxMessageBytes = 8 * 1024;

    private readonly Libp2pHost _host;
    private readonly ILogger _log;

    internal IdentifyService(Libp2pHost host)
    {
        _host = host;
        _log = host.Loggers.CreateLogger("Keel.Libp2p.Identify");
        host.SetStreamHandler(ProtocolId, ServeAsync);
        host.SetStreamHandler(PushProtocolId, ReceivePushAsync);
    }

    /// <summary>Raised when a connection's identify result arrives.</summary>
    public event Action<Connection>? Identified;

    private async Task ServeAsync(YamuxStream stream, Connection connection, CancellationToken ct)
    {
        var message = new Protos.Identify
        {
            PublicKey = ByteString.CopyFrom(_host.Options.Identity.PublicKey.ToProtobuf()),
            ProtocolVersion = ProtocolVersion,
            AgentVersion = _host.Options.AgentVersion,
            ObservedAddr = ByteString.CopyFrom(connection.RemoteAddress.WithoutPeerId().ToBytes()),
        };
        message.Protocols.AddRange(_host.Protocols);
        foreach (var a in _host.AdvertisedAddresses)
        {
            message.ListenAddrs.Add(ByteString.CopyFrom(a.WithoutPeerId().ToBytes()));
        }
        await LengthPrefixed.WriteAsync(stream, message.ToByteArray(), ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
    }

    private async Task ReceivePushAsync(YamuxStream stream, Connection connection, CancellationToken ct)
    {
        await ReadAndApplyAsync(stream, connection, ct).ConfigureAwait(false);
    }

    /// <summary>Asks the remote to identify itself; a wrong key closes the connection.</summary>
    internal async Task RequestAsync(Connection connection, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_host.Options.IdentifyTimeoutMs);
        try
        {
            await using var stream = await connection.OpenStreamAsync([ProtocolId], timeout.Token).ConfigureAwait(false);
            await stream.CloseWriteAsync(timeout.Token).ConfigureAwait(false);
            await ReadAndApplyAsync(stream, connection, timeout.Token).ConfigureAwait(false);
        }
        catch (HandshakeException e)
        {
            _host.ReportMisbehaviour(connection.RemotePeer, e.Message);
            await connection.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Libp2pException or IOException or OperationCanceledException or EndOfStreamException or InvalidProtocolBufferException)
        {
            Log.IdentifyFailed(_log, connection.RemotePeer, e.Message);
        }
        finally
        {
            connection.Identified.TrySetResult();
        }
    }

    private async Task ReadAndApplyAsync(Stream stream, Connection connection, CancellationToken ct)
    {
        var bytes = await LengthPrefixed.ReadAsync(stream, MaxMessageBytes, ct).ConfigureAwait(false)
            ?? throw new MalformedDataException("identify stream closed without a message");
        var message = Protos.Identify.Parser.ParseFrom(bytes);
        if (message.HasPublicKey)
        {
            PublicKey key;
            try
            {
                key = PublicKey.Decode(message.PublicKey.Span);
            }
            catch (MalformedDataException e)
            {
                throw new HandshakeException($"identify public key does not decode: {e.Message}");
            }
            if (!connection.RemotePeer.Matches(key))
            {
                throw new HandshakeException("identify public key does not match the peer id proved in Noise");
            }
        }
        connection.SetIdentify([.. message.Protocols], message.HasAgentVersion ? message.AgentVersion : null);
        Log.Identified(_log, connection.RemotePeer, message.AgentVersion, message.Protocols.Count);
        Identified?.Invoke(connection);
    }
}

/// <summary>
/// <c>/ipfs/ping/1.0.0</c>: 32 random bytes echoed back. js pings every connection every 10 s
/// and drops connections that do not answer, so the responder is not optional.
/// </summary>
public sealed class PingService
{
    public const string ProtocolId = "/ipfs/ping/1.0.0";
    public const int PayloadBytes = 32;
    /// <summary>Echoes per stream before the responder stops; js sends one per stream.</summary>
    public const int MaxEchoesPerStream = 1024;
    public const int DefaultTimeoutMs = 10_000;

    private readonly Libp2pHost _host;

    internal PingService(Libp2pHost host)
    {
        _host = host;
        host.SetStreamHandler(ProtocolId, ServeAsync);
    }

    private long _echoesServed;

    /// <summary>Ping payloads echoed so far (js's connection monitor sends one every 10 s per connection).</summary>
    public long EchoesServed => Interlocked.Read(ref _echoesServed);

    private async Task ServeAsync(YamuxStream stream, Connection connection, CancellationToken ct)
    {
        var buffer = new byte[PayloadBytes];
        for (var i = 0; i < MaxEchoesPerStream; i++)
        {
            var read = 0;
            while (read < PayloadBytes)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }
                read += n;
            }
            await stream.WriteAsync(buffer, ct).ConfigureAwait(false);
            Interlocked.Increment(ref _echoesServed);
        }
    }

    /// <summary>One ping round trip to a connected peer.</summary>
    public async Task<TimeSpan> PingAsync(PeerId peer, CancellationToken ct)
    {
        var connection = _host.GetConnection(peer) ?? throw new Libp2pException($"not connected to {peer}");
        return await PingAsync(connection, ct).ConfigureAwait(false);
    }

    public async Task<TimeSpan> PingAsync(Connection connection, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(DefaultTimeoutMs);
        await using var stream = await connection.OpenStreamAsync([ProtocolId], timeout.Token).ConfigureAwait(false);
        var payload = System.Security.Cryptography.RandomNumberGenerator.GetBytes(PayloadBytes);
        var echo = new byte[PayloadBytes];
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await stream.WriteAsync(payload, timeout.Token).ConfigureAwait(false);
        await stream.ReadExactlyAsync(echo, timeout.Token).ConfigureAwait(false);
        var rtt = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (!echo.AsSpan().SequenceEqual(payload))
        {
            throw new Libp2pException($"ping to {connection.RemotePeer}: echo does not match");
        }
        return rtt;
    }
}
