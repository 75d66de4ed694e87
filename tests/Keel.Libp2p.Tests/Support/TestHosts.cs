using Keel.Libp2p.Crypto;
using Keel.Libp2p.Host;
using Microsoft.Extensions.Logging;

namespace Keel.Libp2p.Tests.Support;

/// <summary>Builders for hosts on loopback with free ports.</summary>
public static class TestHosts
{
    public static readonly Multiaddr Loopback = Multiaddr.Parse("/ip4/127.0.0.1/tcp/0");

    public static async Task<Libp2pHost> StartAsync(IdentityKey? key = null, Func<Libp2pHostOptions, Libp2pHostOptions>? configure = null, ILoggerFactory? loggers = null)
    {
        var options = new Libp2pHostOptions { Identity = key ?? Ed25519IdentityKey.Generate(), ListenAddresses = [Loopback] };
        if (configure is not null)
        {
            options = configure(options);
        }
        var host = Libp2pHost.Create(options, loggers);
        await host.StartAsync();
        return host;
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the bounded wait runs out.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string what, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"not within {timeoutMs} ms: {what}");
    }

    public static Task Eventually(Func<bool> condition, string what, int timeoutMs = 20_000) =>
        Eventually(() => Task.FromResult(condition()), what, timeoutMs);
}

/// <summary>Collects log lines so that tests can assert a reason was logged.</summary>
public sealed class ListLoggerFactory : ILoggerFactory
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }

    private sealed class ListLogger(ListLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._lines)
            {
                owner._lines.Add($"{logLevel}: {formatter(state, exception)}");
            }
        }
    }
}
