using System.Text;
using Keel.Libp2p.Wire;
using Keel.Libp2p.Host;
using Keel.Libp2p.Transport;
using Microsoft.Extensions.Logging;

namespace Keel.Libp2p.Protocols;

/// <summary>Answers one request method; the returned bytes are the response.</summary>
public delegate ValueTask<byte[]> RequestHandler(PeerId from, ReadOnlyMemory<byte> payload, CancellationToken ct);

/// <summary>How a response frame says the request went.</summary>
public enum ResponseStatus : byte
{
    Ok = 0,
    UnknownMethod = 1,
    Error = 2,
    TooLarge = 3,
}

/// <summary>
/// <c>/keel/req/1</c>: one request and one response per stream, each a uvarint-length-prefixed
/// frame. Request = uvarint(method length) ‖ method (UTF-8) ‖ payload; response = status byte ‖
/// payload. Both sides enforce size limits and time limits; methods are registered by name
/// (votes to the next leader, block and witness fetch).
/// </summary>
public sealed class RequestResponse
{
    public const string ProtocolId = "/keel/req/1";
    public const int MaxMethodBytes = 64;
    public const int DefaultMaxRequestBytes = 1024 * 1024;
    public const int DefaultMaxResponseBytes = 16 * 1024 * 1024;
    public const int DefaultTimeoutMs = 10_000;
    /// <summary>Inbound requests served at once, across all peers; more wait for a slot.</summary>
    public const int MaxConcurrentInbound = 64;

    private readonly Libp2pHost _host;
    private readonly ILogger _log;
    private readonly Dictionary<string, RequestHandler> _handlers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(MaxConcurrentInbound, MaxConcurrentInbound);

    public RequestResponse(Libp2pHost host, int maxRequestBytes = DefaultMaxRequestBytes, int maxResponseBytes = DefaultMaxResponseBytes, int timeoutMs = DefaultTimeoutMs)
    {
        _host = host;
        _log = host.Loggers.CreateLogger("Keel.Libp2p.Request");
        MaxRequestBytes = maxRequestBytes;
        MaxResponseBytes = maxResponseBytes;
        TimeoutMs = timeoutMs;
        host.SetStreamHandler(ProtocolId, ServeAsync);
    }

    public int MaxRequestBytes { get; }
    public int MaxResponseBytes { get; }
    public int TimeoutMs { get; }

    public void Register(string method, RequestHandler handler)
    {
        CheckMethod(method);
        lock (_handlers)
        {
            _handlers[method] = handler;
        }
    }

    /// <summary>Sends a request to a connected peer and waits for its response.</summary>
    /// <exception cref="RequestException">refused, failed, too large or timed out.</exception>
    public async Task<byte[]> RequestAsync(PeerId peer, string method, ReadOnlyMemory<byte> payload, CancellationToken ct = default, int? timeoutMs = null)
    {
        CheckMethod(method);
        var frame = EncodeRequest(method, payload.Span);
        if (frame.Length > MaxRequestBytes)
        {
            throw new MessageTooLargeException("request", frame.Length, MaxRequestBytes);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(timeoutMs ?? TimeoutMs);
        YamuxStream? stream = null;
        try
        {
            stream = await _host.NewStreamAsync(peer, [ProtocolId], timeout.Token).ConfigureAwait(false);
            await LengthPrefixed.WriteAsync(stream, frame, timeout.Token).ConfigureAwait(false);
            await stream.CloseWriteAsync(timeout.Token).ConfigureAwait(false);
            var response = await LengthPrefixed.ReadAsync(stream, MaxResponseBytes + 1, timeout.Token).ConfigureAwait(false)
                ?? throw new RequestException($"{peer} closed the stream without answering {method}");
            if (response.Length == 0)
            {
                throw new RequestException($"{peer} sent an empty response to {method}");
            }
            var status = (ResponseStatus)response[0];
            return status switch
            {
                ResponseStatus.Ok => response[1..],
                ResponseStatus.UnknownMethod => throw new RequestException($"{peer} does not serve {method}"),
                ResponseStatus.TooLarge => throw new RequestException($"{peer} refused {method}: request too large"),
                _ => throw new RequestException($"{peer} failed {method}: {Encoding.UTF8.GetString(response, 1, Math.Min(response.Length - 1, 256))}"),
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            stream?.Reset();
            throw new RequestException($"{method} to {peer} timed out after {timeoutMs ?? TimeoutMs} ms");
        }
        catch (Exception e) when (e is MuxerException or NegotiationException or MessageTooLargeException or MalformedDataException or EndOfStreamException or IOException)
        {
            stream?.Reset();
            throw new RequestException($"{method} to {peer} failed: {e.Message}");
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ServeAsync(YamuxStream stream, Connection connection, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeoutMs);
        await _slots.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            byte[]? frame;
            try
            {
                frame = await LengthPrefixed.ReadAsync(stream, MaxRequestBytes, timeout.Token).ConfigureAwait(false);
            }
            catch (MessageTooLargeException e)
            {
                Log.RequestRefused(_log, connection.RemotePeer, e.Message);
                await RespondAsync(stream, ResponseStatus.TooLarge, [], timeout.Token).ConfigureAwait(false);
                return;
            }
            if (frame is null)
            {
                return;
            }
            string method;
            ReadOnlyMemory<byte> payload;
            try
            {
                (method, payload) = DecodeRequest(frame);
            }
            catch (MalformedDataException e)
            {
                Log.MalformedRequest(_log, connection.RemotePeer, e.Message);
                _host.ReportMisbehaviour(connection.RemotePeer, $"malformed request: {e.Message}");
                stream.Reset();
                return;
            }
            RequestHandler? handler;
            lock (_handlers)
            {
                _handlers.TryGetValue(method, out handler);
            }
            if (handler is null)
            {
                await RespondAsync(stream, ResponseStatus.UnknownMethod, [], timeout.Token).ConfigureAwait(false);
                return;
            }
            byte[] response;
            try
            {
                response = await handler(connection.RemotePeer, payload, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.RequestHandlerFailed(_log, method, e.Message);
                await RespondAsync(stream, ResponseStatus.Error, Encoding.UTF8.GetBytes(e.Message), timeout.Token).ConfigureAwait(false);
                return;
            }
            if (response.Length > MaxResponseBytes)
            {
                Log.ResponseTooLarge(_log, method, response.Length, MaxResponseBytes);
                await RespondAsync(stream, ResponseStatus.Error, "response too large"u8.ToArray(), timeout.Token).ConfigureAwait(false);
                return;
            }
            await RespondAsync(stream, ResponseStatus.Ok, response, timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private static async Task RespondAsync(YamuxStream stream, ResponseStatus status, byte[] payload, CancellationToken ct)
    {
        await LengthPrefixed.WriteAsync(stream, (byte[])[(byte)status, .. payload], ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
    }

    private static void CheckMethod(string method)
    {
        if (string.IsNullOrEmpty(method) || Encoding.UTF8.GetByteCount(method) > MaxMethodBytes)
        {
            throw new ArgumentException($"method names are 1 to {MaxMethodBytes} bytes", nameof(method));
        }
    }

    internal static byte[] EncodeRequest(string method, ReadOnlySpan<byte> payload)
    {
        var name = Encoding.UTF8.GetBytes(method);
        var frame = new byte[Varint.Size((ulong)name.Length) + name.Length + payload.Length];
        var n = Varint.Write(frame, (ulong)name.Length);
        name.CopyTo(frame, n);
        payload.CopyTo(frame.AsSpan(n + name.Length));
        return frame;
    }

    internal static (string Method, ReadOnlyMemory<byte> Payload) DecodeRequest(byte[] frame)
    {
        var length = Varint.Read(frame, out var used);
        if (length == 0 || length > MaxMethodBytes || length > (ulong)(frame.Length - used))
        {
            throw new MalformedDataException($"request method length {length}");
        }
        string method;
        try
        {
            method = new UTF8Encoding(false, true).GetString(frame, used, (int)length);
        }
        catch (DecoderFallbackException)
        {
            throw new MalformedDataException("request method is not UTF-8");
        }
        return (method, frame.AsMemory(used + (int)length));
    }
}
