using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Rpc;

/// <summary>
/// One WebSocket connection: reads requests (each frame sequence is one request or batch), runs up
/// to <see cref="RpcServerOptions.MaxConcurrentCallsPerConnection"/> of them at once, and sends
/// answers and subscription notifications through one bounded queue drained by one sender (a
/// WebSocket allows one send at a time). A full queue means the client reads slower than we
/// write: it is disconnected instead of growing memory.
/// </summary>
internal sealed partial class RpcWebSocketSession : IRpcSubscriber
{
    /// <summary>Ping interval that keeps idle subscriptions alive through proxies and notices dead peers.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long a closing handshake may take before the socket is dropped.</summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly RpcServer _server;
    private readonly WebSocket _socket;
    private readonly Channel<byte[]> _outbound;
    private readonly CancellationTokenSource _lifetime;
    private readonly SemaphoreSlim _calls;
    private readonly Dictionary<string, RpcSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Lock _subscriptionsLock = new();
    private int _closed;
    private Task _sender = Task.CompletedTask;

    private RpcWebSocketSession(RpcServer server, WebSocket socket, CancellationToken aborted)
    {
        _server = server;
        _socket = socket;
        _lifetime = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _calls = new SemaphoreSlim(server.Options.MaxConcurrentCallsPerConnection);
        _outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(server.Options.MaxPendingMessagesPerConnection)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; nothing is dropped silently
        });
    }

    public static async Task AcceptAsync(HttpContext context, RpcServer server)
    {
        if (!server.TryOpenWebSocket())
        {
            await RpcHttpEndpoint.WriteJsonAsync(context.Response, StatusCodes.Status503ServiceUnavailable,
                server.ErrorBody(RpcErrorCodes.LimitExceeded,
                    $"too many WebSocket connections (limit {server.Options.MaxWebSocketConnections})")).ConfigureAwait(false);
            return;
        }
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = KeepAliveInterval,
                DangerousEnableCompression = false,
            }).ConfigureAwait(false);
            var session = new RpcWebSocketSession(server, socket, context.RequestAborted);
            await session.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            server.CloseWebSocket();
        }
    }

    public bool TryEnqueue(byte[] message)
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            return false;
        }
        if (_outbound.Writer.TryWrite(message))
        {
            return true;
        }
        // Several publishers may find the queue full at once; only the one that closes counts it.
        if (Abort())
        {
            _server.CountSlowConsumer();
            LogSlowConsumer(_server.Logger, _server.Options.MaxPendingMessagesPerConnection);
        }
        return false;
    }

    private async Task RunAsync()
    {
        var sender = _sender = SendLoopAsync();
        try
        {
            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer vanished or we dropped it; cleanup below is the same either way.
        }
        finally
        {
            Interlocked.Exchange(ref _closed, 1);
            DropSubscriptions();
            _outbound.Writer.TryComplete();
            await _lifetime.CancelAsync().ConfigureAwait(false);
            try
            {
                await sender.ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
            {
            }
            // In-flight calls hold permits; wait for them so none writes into a disposed session.
            for (var i = 0; i < _server.Options.MaxConcurrentCallsPerConnection; i++)
            {
                await _calls.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            _calls.Dispose();
            _lifetime.Dispose();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var limit = _server.Options.MaxRequestBodyBytes;
        var token = _lifetime.Token;
        while (!token.IsCancellationRequested)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(ReceiveChunkBytes);
            var length = 0;
            var handedOff = false;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        var grown = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                        buffer.AsSpan(0, length).CopyTo(grown);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = grown;
                    }
                    var received = await _socket.ReceiveAsync(buffer.AsMemory(length), token).ConfigureAwait(false);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await CloseAsync(WebSocketCloseStatus.NormalClosure, null).ConfigureAwait(false);
                        return;
                    }
                    length += received.Count;
                    if (length > limit)
                    {
                        // Tell the client why before closing with "message too big".
                        TryEnqueue(_server.ErrorBody(RpcErrorCodes.InvalidRequest, $"request too large: over {limit} bytes, limit {limit}"));
                        await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"message over {limit} bytes").ConfigureAwait(false);
                        return;
                    }
                    if (received.EndOfMessage)
                    {
                        break;
                    }
                }
                // Back-pressure: a client that sends faster than we answer waits on its own socket.
                await _calls.WaitAsync(token).ConfigureAwait(false);
                handedOff = true;
                _ = ProcessAsync(buffer, length);
            }
            finally
            {
                if (!handedOff)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }

    private async Task ProcessAsync(byte[] request, int length)
    {
        var call = new CallScope(this);
        try
        {
            using var output = new RpcBufferWriter();
            var answered = await _server.ProcessAsync(request.AsMemory(0, length), output, RpcTransport.WebSocket, call, _lifetime.Token)
                .ConfigureAwait(false);
            if (answered && !TryEnqueue(output.ToArray()))
            {
                call.DropCreated();
                return;
            }
            call.ActivateCreated();
        }
        catch (Exception e)
        {
            // ProcessAsync answers handler failures itself; reaching here is a bug in the server.
            LogSessionFailed(_server.Logger, e);
            Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(request);
            _calls.Release();
        }
    }

    private async Task SendLoopAsync()
    {
        var token = _lifetime.Token;
        var reader = _outbound.Reader;
        while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
        {
            while (reader.TryRead(out var message))
            {
                await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends what is queued (bounded by <see cref="CloseTimeout"/>), then the close frame.</summary>
    private async Task CloseAsync(WebSocketCloseStatus status, string? reason)
    {
        Interlocked.Exchange(ref _closed, 1);
        _outbound.Writer.TryComplete();
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            await _sender.WaitAsync(timeout.Token).ConfigureAwait(false);
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            _socket.Abort();
        }
    }

    /// <summary>Drops the connection now; true for the caller that closed it, false if it was already closing.</summary>
    private bool Abort()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }
        _outbound.Writer.TryComplete();
        DropSubscriptions();
        try
        {
            // Asynchronous callbacks: Abort may run on a publisher's thread, which must not block.
            _ = _lifetime.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Abort();
        return true;
    }

    private void DropSubscriptions()
    {
        lock (_subscriptionsLock)
        {
            foreach (var subscription in _subscriptions.Values)
            {
                RpcSubscriptionHub.Remove(subscription);
            }
            _subscriptions.Clear();
        }
    }

    private RpcSubscription Subscribe(string kind, object? filter)
    {
        lock (_subscriptionsLock)
        {
            if (Volatile.Read(ref _closed) != 0)
            {
                throw new RpcException(RpcErrorCodes.ResourceNotFound, "connection is closing");
            }
            if (_subscriptions.Count >= _server.Options.MaxSubscriptionsPerConnection)
            {
                throw RpcErrors.LimitExceeded($"too many subscriptions on this connection (limit {_server.Options.MaxSubscriptionsPerConnection})");
            }
            var subscription = _server.Subscriptions.Create(kind, filter, this);
            _subscriptions.Add(subscription.Id, subscription);
            return subscription;
        }
    }

    private bool Unsubscribe(string id)
    {
        lock (_subscriptionsLock)
        {
            if (!_subscriptions.Remove(id, out var subscription))
            {
                return false;
            }
            RpcSubscriptionHub.Remove(subscription);
            return true;
        }
    }

    /// <summary>
    /// The session as one request sees it: subscriptions it creates are activated only after its
    /// answer is queued, so a notification never reaches the client before the subscription id.
    /// </summary>
    private sealed class CallScope(RpcWebSocketSession session) : IRpcSession
    {
        private readonly Lock _gate = new();
        private List<RpcSubscription>? _created;

        public string Subscribe(string kind, object? filter)
        {
            var subscription = session.Subscribe(kind, filter);
            lock (_gate)
            {
                (_created ??= []).Add(subscription);
            }
            return subscription.Id;
        }

        public bool Unsubscribe(string id) => session.Unsubscribe(id);

        public void ActivateCreated()
        {
            lock (_gate)
            {
                _created?.ForEach(s => s.Activate());
            }
        }

        public void DropCreated()
        {
            lock (_gate)
            {
                _created?.ForEach(s => session.Unsubscribe(s.Id));
            }
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "rpc: WebSocket client too slow ({Limit} messages queued), disconnected")]
    private static partial void LogSlowConsumer(ILogger logger, int limit);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "rpc: WebSocket session failed")]
    private static partial void LogSessionFailed(ILogger logger, Exception exception);
}
