using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Keel.Libp2p.Transport;

/// <summary>
/// Yamux (<c>/yamux/1.0.0</c>): streams over one secure connection, 12-byte big-endian headers,
/// per-stream 256 KiB credit windows, pings as keepalive. The dialer is the client (odd ids).
/// </summary>
public sealed class Yamux : IAsyncDisposable
{
    public const string ProtocolId = "/yamux/1.0.0";
    public const int HeaderBytes = 12;
    /// <summary>The window every stream starts with, in each direction (the spec's 256 KiB).</summary>
    public const int InitialWindowBytes = 256 * 1024;
    /// <summary>Largest data frame we send; bigger writes are split.</summary>
    public const int MaxDataFrameBytes = 64 * 1024;
    /// <summary>Streams the remote may have open towards us at once (js allows 1000).</summary>
    public const int MaxInboundStreams = 256;
    public const int MaxOutboundStreams = 256;
    /// <summary>How often an idle session pings, and how long a ping may go unanswered before the connection counts as half-open.</summary>
    public const int KeepAliveIntervalMs = 15_000;
    public const int PingTimeoutMs = 10_000;

    internal enum FrameType : byte { Data = 0, WindowUpdate = 1, Ping = 2, GoAway = 3 }

    [Flags]
    internal enum Flags : ushort { None = 0, Syn = 1, Ack = 2, Fin = 4, Rst = 8 }

    private readonly Stream _secure;
    private readonly bool _isClient;
    private readonly ILogger _log;
    private readonly Func<YamuxStream, Task> _onInbound;
    private readonly ConcurrentDictionary<uint, YamuxStream> _streams = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _cts = new();
    private readonly ConcurrentDictionary<uint, TaskCompletionSource> _pings = new();
    private uint _nextId;
    private uint _nextPing;
    private int _inbound;
    private int _outbound;
    private Task? _readLoop;
    private Task? _keepAlive;
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly int _keepAliveIntervalMs;
    private readonly int _pingTimeoutMs;

    public Yamux(Stream secure, bool isClient, ILogger log, Func<YamuxStream, Task> onInbound,
        int keepAliveIntervalMs = KeepAliveIntervalMs, int pingTimeoutMs = PingTimeoutMs)
    {
        _keepAliveIntervalMs = keepAliveIntervalMs;
        _pingTimeoutMs = pingTimeoutMs;
        _secure = secure;
        _isClient = isClient;
        _log = log;
        _onInbound = onInbound;
        _nextId = isClient ? 1u : 2u;
    }

    /// <summary>Completes with the reason once the session is over.</summary>
    public Task<string> Closed => _closed.Task;

    public bool IsClosed => _closed.Task.IsCompleted;

    public int StreamCount => _streams.Count;

    public void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        _keepAlive = Task.Run(KeepAliveLoopAsync);
    }

    public async Task<YamuxStream> OpenStreamAsync(CancellationToken ct)
    {
        if (IsClosed)
        {
            throw new MuxerException("session closed");
        }
        if (Interlocked.Increment(ref _outbound) > MaxOutboundStreams)
        {
            Interlocked.Decrement(ref _outbound);
            throw new MuxerException($"more than {MaxOutboundStreams} outbound streams");
        }
        var id = Interlocked.Add(ref _nextId, 2) - 2;
        var stream = new YamuxStream(this, id, inbound: false);
        _streams[id] = stream;
        await WriteFrameAsync(FrameType.WindowUpdate, Flags.Syn, id, 0, default, ct).ConfigureAwait(false);
        return stream;
    }

    /// <summary>Round trip of a yamux ping (session level, no protocol negotiation).</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken ct)
    {
        var value = Interlocked.Increment(ref _nextPing);
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings[value] = tcs;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await WriteFrameAsync(FrameType.Ping, Flags.Syn, 0, value, default, ct).ConfigureAwait(false);
            await tcs.Task.WaitAsync(ct).ConfigureAwait(false);
            return System.Diagnostics.Stopwatch.GetElapsedTime(started);
        }
        finally
        {
            _pings.TryRemove(value, out _);
        }
    }

    internal async ValueTask WriteFrameAsync(FrameType type, Flags flags, uint streamId, uint length, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var size = HeaderBytes + data.Length;
        var frame = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            frame[0] = 0;
            frame[1] = (byte)type;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)flags);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), streamId);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), length);
            data.Span.CopyTo(frame.AsSpan(HeaderBytes));
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (IsClosed && type != FrameType.GoAway)
                {
                    throw new MuxerException("session closed");
                }
                await _secure.WriteAsync(frame.AsMemory(0, size), ct).ConfigureAwait(false);
                await _secure.FlushAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                Close($"write failed: {e.Message}");
                throw new MuxerException($"session write failed: {e.Message}");
            }
            finally
            {
                _writeLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private async Task ReadLoopAsync()
    {
        var header = new byte[HeaderBytes];
        var ct = _cts.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var n = 0;
                while (n < HeaderBytes)
                {
                    var r = await _secure.ReadAsync(header.AsMemory(n), ct).ConfigureAwait(false);
                    if (r == 0)
                    {
                        Close(n == 0 ? "remote closed the connection" : "connection closed inside a yamux header");
                        return;
                    }
                    n += r;
                }
                await HandleFrameAsync(header, ct).ConfigureAwait(false);
            }
        }
        catch (MuxerException e)
        {
            Log.YamuxProtocolError(_log, e.Message);
            await TryGoAwayAsync(1).ConfigureAwait(false);
            Close($"protocol error: {e.Message}");
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException or OperationCanceledException or HandshakeException)
        {
            Close($"connection lost: {e.Message}");
        }
    }

    private async Task HandleFrameAsync(byte[] header, CancellationToken ct)
    {
        if (header[0] != 0)
        {
            throw new MuxerException($"yamux version {header[0]}");
        }
        var type = (FrameType)header[1];
        var flags = (Flags)BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
        var id = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4));
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8));
        switch (type)
        {
            case FrameType.Ping:
                if (flags.HasFlag(Flags.Syn))
                {
                    await WriteFrameAsync(FrameType.Ping, Flags.Ack, 0, length, default, ct).ConfigureAwait(false);
                }
                else if (_pings.TryGetValue(length, out var tcs))
                {
                    tcs.TrySetResult();
                }
                return;
            case FrameType.GoAway:
                Close(length == 0 ? "remote went away" : $"remote went away with error {length}");
                return;
            case FrameType.Data or FrameType.WindowUpdate:
                break;
            default:
                throw new MuxerException($"unknown frame type {(byte)type}");
        }
        YamuxStream? stream;
        if (flags.HasFlag(Flags.Syn))
        {
            stream = AcceptInbound(id);
        }
        else
        {
            _streams.TryGetValue(id, out stream);
        }

        if (type == FrameType.Data)
        {
            byte[]? payload = null;
            if (length > 0)
            {
                if (stream is not null && length > stream.ReceiveWindowRemaining)
                {
                    throw new MuxerException($"stream {id} sent {length} bytes past its window of {stream.ReceiveWindowRemaining}");
                }
                if (stream is null && length > InitialWindowBytes)
                {
                    throw new MuxerException($"data frame of {length} bytes for unknown stream {id}");
                }
                payload = new byte[length];
                await _secure.ReadExactlyAsync(payload, ct).ConfigureAwait(false);
            }
            if (payload is not null)
            {
                stream?.OnData(payload);
            }
        }
        else if (stream is not null && length > 0)
        {
            stream.OnWindowUpdate(length);
        }

        if (stream is null)
        {
            // Frames for streams already gone (a late FIN or data after our RST) are dropped.
            return;
        }
        if (flags.HasFlag(Flags.Rst))
        {
            stream.OnReset();
        }
        else if (flags.HasFlag(Flags.Fin))
        {
            stream.OnRemoteFin();
        }
    }

    private YamuxStream? AcceptInbound(uint id)
    {
        var remoteIsClient = (id & 1) == 1;
        if (id == 0 || remoteIsClient == _isClient)
        {
            throw new MuxerException($"remote opened stream {id} with our parity");
        }
        if (_streams.ContainsKey(id))
        {
            throw new MuxerException($"remote opened stream {id} twice");
        }
        if (Interlocked.Increment(ref _inbound) > MaxInboundStreams)
        {
            Interlocked.Decrement(ref _inbound);
            Log.StreamRefused(_log, id, MaxInboundStreams);
            _ = WriteFrameAsync(FrameType.WindowUpdate, Flags.Rst, id, 0, default, CancellationToken.None).AsTask()
                .ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            return null;
        }
        var stream = new YamuxStream(this, id, inbound: true);
        _streams[id] = stream;
        _ = Task.Run(async () =>
        {
            try
            {
                await stream.AcknowledgeAsync().ConfigureAwait(false);
                await _onInbound(stream).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.InboundStreamEnded(_log, id, e.Message);
                stream.Reset();
            }
        });
        return stream;
    }

    internal void Forget(YamuxStream stream)
    {
        if (_streams.TryRemove(stream.Id, out _))
        {
            if (stream.IsInbound)
            {
                Interlocked.Decrement(ref _inbound);
            }
            else
            {
                Interlocked.Decrement(ref _outbound);
            }
        }
    }

    private async Task KeepAliveLoopAsync()
    {
        var ct = _cts.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(_keepAliveIntervalMs, ct).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(_pingTimeoutMs);
                try
                {
                    await PingAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    Log.KeepaliveTimeout(_log, _pingTimeoutMs);
                    Close("keepalive ping timed out (half-open connection)");
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or MuxerException)
        {
        }
    }

    private async Task TryGoAwayAsync(uint code)
    {
        try
        {
            using var cts = new CancellationTokenSource(1000);
            await WriteFrameAsync(FrameType.GoAway, Flags.None, 0, code, default, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MuxerException or OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    private void Close(string reason)
    {
        if (!_closed.TrySetResult(reason))
        {
            return;
        }
        _cts.Cancel();
        foreach (var s in _streams.Values)
        {
            s.OnSessionClosed();
        }
        _secure.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (!IsClosed)
        {
            await TryGoAwayAsync(0).ConfigureAwait(false);
        }
        Close("closed locally");
        if (_readLoop is not null)
        {
            await _readLoop.ConfigureAwait(false);
        }
        if (_keepAlive is not null)
        {
            await _keepAlive.ConfigureAwait(false);
        }
    }
}

/// <summary>
/// One yamux stream as a <see cref="Stream"/>. Writes wait for the remote's credit; reads return
/// credit once half the window has been consumed. Dispose half-closes (FIN); Reset aborts (RST).
/// </summary>
public sealed class YamuxStream : ByteChannelStream
{
    private readonly Yamux _session;
    // Unbounded as a channel, bounded by the protocol: a peer that sends past the receive window
    // (InitialWindowBytes until we return credit) breaks the session before anything is queued.
    private readonly Channel<byte[]> _incoming = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly object _gate = new();
    private byte[]? _current;
    private int _currentPos;
    private long _receiveWindow = Yamux.InitialWindowBytes;
    private long _consumedSinceUpdate;
    private long _sendWindow = Yamux.InitialWindowBytes;
    private TaskCompletionSource? _creditWaiter;
    private bool _localFin;
    private bool _remoteFin;
    private bool _reset;
    private readonly SemaphoreSlim _writeOrder = new(1, 1);

    internal YamuxStream(Yamux session, uint id, bool inbound)
    {
        _session = session;
        Id = id;
        IsInbound = inbound;
    }

    public uint Id { get; }
    public bool IsInbound { get; }

    /// <summary>The protocol agreed on this stream, once multistream-select has run.</summary>
    public string? Protocol { get; internal set; }

    internal long ReceiveWindowRemaining => Interlocked.Read(ref _receiveWindow);

    internal ValueTask AcknowledgeAsync() =>
        _session.WriteFrameAsync(Yamux.FrameType.WindowUpdate, Yamux.Flags.Ack, Id, 0, default, CancellationToken.None);

    internal void OnData(byte[] payload)
    {
        Interlocked.Add(ref _receiveWindow, -payload.Length);
        _incoming.Writer.TryWrite(payload);
    }

    internal void OnWindowUpdate(uint delta)
    {
        lock (_gate)
        {
            _sendWindow += delta;
            _creditWaiter?.TrySetResult();
            _creditWaiter = null;
        }
    }

    internal void OnRemoteFin()
    {
        _remoteFin = true;
        _incoming.Writer.TryComplete();
        MaybeForget();
    }

    internal void OnReset()
    {
        _reset = true;
        _incoming.Writer.TryComplete(new MuxerException($"stream {Id} reset by the remote"));
        WakeWriter();
        _session.Forget(this);
    }

    internal void OnSessionClosed()
    {
        _reset = true;
        _incoming.Writer.TryComplete(new MuxerException("connection closed"));
        WakeWriter();
    }

    private void WakeWriter()
    {
        lock (_gate)
        {
            _creditWaiter?.TrySetResult();
            _creditWaiter = null;
        }
    }

    private void MaybeForget()
    {
        if (_localFin && _remoteFin)
        {
            _session.Forget(this);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0)
        {
            return 0;
        }
        while (_current is null || _currentPos == _current.Length)
        {
            try
            {
                if (!await _incoming.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return 0;
                }
            }
            catch (ChannelClosedException e) when (e.InnerException is MuxerException m)
            {
                throw new MuxerException(m.Message);
            }
            _incoming.Reader.TryRead(out _current);
            _currentPos = 0;
        }
        var n = Math.Min(buffer.Length, _current.Length - _currentPos);
        _current.AsMemory(_currentPos, n).CopyTo(buffer);
        _currentPos += n;
        await ReturnCreditAsync(n).ConfigureAwait(false);
        return n;
    }

    private async ValueTask ReturnCreditAsync(int consumed)
    {
        _consumedSinceUpdate += consumed;
        // Credit goes back in large steps so that window updates stay rare.
        if (_consumedSinceUpdate >= Yamux.InitialWindowBytes / 2 && !_remoteFin && !_reset)
        {
            var delta = _consumedSinceUpdate;
            _consumedSinceUpdate = 0;
            Interlocked.Add(ref _receiveWindow, delta);
            try
            {
                await _session.WriteFrameAsync(Yamux.FrameType.WindowUpdate, Yamux.Flags.None, Id, (uint)delta, default, CancellationToken.None).ConfigureAwait(false);
            }
            catch (MuxerException)
            {
                // The session is gone; the read side still drains what arrived.
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeOrder.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (buffer.Length > 0)
            {
                int chunk;
                Task? wait = null;
                lock (_gate)
                {
                    if (_reset)
                    {
                        throw new MuxerException($"stream {Id} was reset");
                    }
                    if (_localFin)
                    {
                        throw new MuxerException($"stream {Id} is closed for writing");
                    }
                    chunk = (int)Math.Min(Math.Min(buffer.Length, _sendWindow), Yamux.MaxDataFrameBytes);
                    if (chunk == 0)
                    {
                        _creditWaiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        wait = _creditWaiter.Task;
                    }
                    else
                    {
                        _sendWindow -= chunk;
                    }
                }
                if (wait is not null)
                {
                    await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
                await _session.WriteFrameAsync(Yamux.FrameType.Data, Yamux.Flags.None, Id, (uint)chunk, buffer[..chunk], cancellationToken).ConfigureAwait(false);
                buffer = buffer[chunk..];
            }
        }
        finally
        {
            _writeOrder.Release();
        }
    }

    /// <summary>Half-closes: the remote reads EOF, we can still read what it sends.</summary>
    public async Task CloseWriteAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_localFin || _reset)
            {
                return;
            }
            _localFin = true;
        }
        try
        {
            await _session.WriteFrameAsync(Yamux.FrameType.WindowUpdate, Yamux.Flags.Fin, Id, 0, default, ct).ConfigureAwait(false);
        }
        catch (MuxerException)
        {
        }
        MaybeForget();
    }

    /// <summary>Aborts the stream in both directions.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            if (_reset)
            {
                return;
            }
            _reset = true;
        }
        _incoming.Writer.TryComplete();
        WakeWriter();
        _session.Forget(this);
        _ = _session.WriteFrameAsync(Yamux.FrameType.WindowUpdate, Yamux.Flags.Rst, Id, 0, default, CancellationToken.None).AsTask()
            .ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override void Flush() { }

    // Disposing half-closes rather than resets: a reset may make the remote drop data it has
    // not read yet (identify writes its message and closes straight away).
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ = CloseWriteAsync().ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseWriteAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
