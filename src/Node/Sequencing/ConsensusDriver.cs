using System.Threading.Channels;
using Keel.Consensus.Engine;
using Keel.Consensus.Ports;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Sequencing;

/// <summary>
/// The real-time host of one <see cref="ConsensusNode"/>: the wall clock, one timer, and the single
/// event loop. Network handlers, the timer and the RPC layer only post events into a bounded channel;
/// one dedicated thread takes them out and calls <see cref="ConsensusNode.Handle"/>, so the state
/// machine (and the application it calls) never runs on two threads at once.
/// </summary>
public sealed class ConsensusDriver : IClock, IDisposable
{
    /// <summary>
    /// Events waiting for the loop. When full, new network messages are dropped: the protocol
    /// tolerates loss (timeouts and sync recover), while an unbounded queue would grow without limit
    /// under a flood from a peer.
    /// </summary>
    public const int MaxQueuedEvents = 65_536;

    /// <summary>How long Dispose waits for the loop to finish the event it is handling.</summary>
    public const int StopTimeoutMs = 5_000;

    private readonly Channel<ConsensusEvent> _events = Channel.CreateBounded<ConsensusEvent>(new BoundedChannelOptions(MaxQueuedEvents)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private readonly Timer _timer;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private ConsensusNode? _node;
    private Thread? _thread;
    private long _dropped;
    private long _handled;
    private long _busyTicks;
    private long _wakeAtMs = long.MaxValue;
    private int _payloadSignalPending;

    public ConsensusDriver(ILogger logger)
    {
        _logger = logger;
        _timer = new Timer(_ => OnTimer(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Events dropped because the queue was full.</summary>
    public long DroppedEvents => Interlocked.Read(ref _dropped);

    public long HandledEvents => Interlocked.Read(ref _handled);

    public int QueuedEvents => _events.Reader.Count;

    /// <summary>Time the loop spent handling events (not waiting), for saturation metrics.</summary>
    public TimeSpan BusyTime => TimeSpan.FromTicks((long)(Interlocked.Read(ref _busyTicks) * (TimeSpan.TicksPerSecond / (double)System.Diagnostics.Stopwatch.Frequency)));

    /// <summary>The node, once <see cref="Start"/> was called.</summary>
    public ConsensusNode? Node => _node;

    /// <summary>Raised on the loop thread when a handler throws (the loop goes on with the next event).</summary>
    public event Action<Exception>? HandlerFailed;

    public void WakeAt(long localTimeMs)
    {
        // One timer: a later request supersedes an earlier one, as IClock allows.
        Interlocked.Exchange(ref _wakeAtMs, localTimeMs);
        _timer.Change(Math.Max(0, localTimeMs - NowMs), Timeout.Infinite);
    }

    private void OnTimer()
    {
        // Timers may fire a little before the wall clock reaches the target (their own tick is coarser
        // than a millisecond). The node ignores a TimerFired that comes early and does not ask again for
        // the same time, so an early tick would lose the wake-up: re-arm for the remainder instead.
        var remaining = Interlocked.Read(ref _wakeAtMs) - NowMs;
        if (remaining > 0)
        {
            _timer.Change(remaining, Timeout.Infinite);
            return;
        }
        Post(TimerFired.Instance);
    }

    /// <summary>Starts the loop thread; the node's Start runs on it, first.</summary>
    public void Start(ConsensusNode node)
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("the consensus driver is already running");
        }
        _node = node;
        _thread = new Thread(Loop) { IsBackground = true, Name = $"consensus-{node.Index}" };
        _thread.Start();
    }

    /// <summary>Queues an event for the loop; false when the queue is full (the event is dropped).</summary>
    public bool Post(ConsensusEvent e)
    {
        if (_events.Writer.TryWrite(e))
        {
            return true;
        }
        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Tells a waiting leader that transactions arrived; coalesced so a burst posts one event.</summary>
    public void SignalPayload()
    {
        if (Interlocked.Exchange(ref _payloadSignalPending, 1) == 0)
        {
            Post(PayloadAvailable.Instance);
        }
    }

    private void Loop()
    {
        var node = _node!;
        try
        {
            node.Start();
        }
        catch (Exception e)
        {
            _logger.LogCritical(e, "consensus failed to start");
            HandlerFailed?.Invoke(e);
            return;
        }
        var reader = _events.Reader;
        while (!_stop.IsCancellationRequested)
        {
            ConsensusEvent e;
            try
            {
                if (!reader.TryRead(out e!))
                {
                    if (!reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
                    {
                        return;
                    }
                    continue;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (e is PayloadAvailable)
            {
                Volatile.Write(ref _payloadSignalPending, 0);
            }
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                node.Handle(e);
                Interlocked.Increment(ref _handled);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "consensus handler failed on {Event}", e.GetType().Name);
                HandlerFailed?.Invoke(ex);
            }
            Interlocked.Add(ref _busyTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _stop.Cancel();
        _events.Writer.TryComplete();
        if (_thread is { } t && t != Thread.CurrentThread)
        {
            t.Join(StopTimeoutMs);
        }
        _stop.Dispose();
    }
}
