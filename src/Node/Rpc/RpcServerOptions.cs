using System.Globalization;
using System.Net;
using Keel.Node.Hosting;
using Microsoft.Extensions.Configuration;

namespace Keel.Node.Rpc;

/// <summary>
/// Settings of one JSON-RPC server (one per rollup chain id, each on its own port). Every limit is
/// a named bound with a default chosen for a devnet that wallets and scripts hammer from one
/// machine; <see cref="Validate"/> checks the relations between them at start-up.
/// </summary>
public sealed record RpcServerOptions
{
    /// <summary>Configuration section: Rpc:MaxBatchLength and so on (KEEL_Rpc__MaxBatchLength).</summary>
    public const string Section = "Rpc";

    public const int DefaultPort = 9545;
    public const int DefaultMaxRequestBodyBytes = 5 * 1024 * 1024;
    public const int DefaultMaxBatchLength = 100;
    public const int DefaultMaxBatchResponseBytes = 25 * 1024 * 1024;
    public const int DefaultRequestTimeoutMs = 5_000;
    public const int DefaultMaxWebSocketConnections = 256;
    public const int DefaultMaxSubscriptionsPerConnection = 128;
    public const int DefaultMaxPendingMessagesPerConnection = 1_024;
    public const int DefaultMaxConcurrentCallsPerConnection = 16;
    public const int DefaultMaxHttpConnections = 1_024;
    public const int DefaultMaxJsonDepth = 64;

    /// <summary>The rollup chain id this server answers for (eth_chainId, net_version).</summary>
    public required ulong ChainId { get; init; }

    /// <summary>TCP port; 0 picks a free one (tests), read back from the started host.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Loopback by default: a devnet RPC is not meant to face the internet.</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>Largest HTTP body or WebSocket message; larger gets HTTP 413 / close 1009 and -32600.</summary>
    public int MaxRequestBodyBytes { get; init; } = DefaultMaxRequestBodyBytes;

    /// <summary>Most calls in one batch; longer gets one -32600 error (not one per entry).</summary>
    public int MaxBatchLength { get; init; } = DefaultMaxBatchLength;

    /// <summary>Once a batch's answer is this large, the remaining entries get -32005 instead of results.</summary>
    public int MaxBatchResponseBytes { get; init; } = DefaultMaxBatchResponseBytes;

    /// <summary>
    /// Time for one request (a whole batch counts as one, as in geth): the handler's token fires,
    /// and unfinished calls are answered -32002 "request timed out". Zero or negative: no limit.
    /// </summary>
    public int RequestTimeoutMs { get; init; } = DefaultRequestTimeoutMs;

    /// <summary>WebSocket connections open at once; the next upgrade gets HTTP 503 and -32005.</summary>
    public int MaxWebSocketConnections { get; init; } = DefaultMaxWebSocketConnections;

    /// <summary>Live subscriptions on one WebSocket; eth_subscribe beyond it gets -32005.</summary>
    public int MaxSubscriptionsPerConnection { get; init; } = DefaultMaxSubscriptionsPerConnection;

    /// <summary>
    /// Outbound messages (responses and notifications) queued for one WebSocket. A client that
    /// reads slower than we publish fills it and is disconnected: memory stays bounded.
    /// </summary>
    public int MaxPendingMessagesPerConnection { get; init; } = DefaultMaxPendingMessagesPerConnection;

    /// <summary>Requests of one WebSocket processed at once; further frames wait to be read (back-pressure).</summary>
    public int MaxConcurrentCallsPerConnection { get; init; } = DefaultMaxConcurrentCallsPerConnection;

    /// <summary>TCP connections Kestrel accepts at once (HTTP and WebSocket together).</summary>
    public int MaxHttpConnections { get; init; } = DefaultMaxHttpConnections;

    /// <summary>Deepest JSON nesting accepted in a request.</summary>
    public int MaxJsonDepth { get; init; } = DefaultMaxJsonDepth;

    public TimeSpan RequestTimeout => RequestTimeoutMs > 0 ? TimeSpan.FromMilliseconds(RequestTimeoutMs) : Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Options for one chain's server from the "Rpc" configuration section (every rollup's server
    /// shares the limits; chain id and port are per server). Unset keys keep their defaults; a
    /// value that is not a number fails with the key named.
    /// </summary>
    public static RpcServerOptions FromConfiguration(IConfiguration configuration, ulong chainId, int port)
    {
        var section = configuration.GetSection(Section);
        int Int(string key, int fallback)
        {
            var text = section[key];
            if (text is null)
            {
                return fallback;
            }
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new HostConfigurationException($"{Section}:{key} must be an integer, got \"{text}\"");
        }
        var bind = section[nameof(BindAddress)];
        IPAddress? address = null;
        if (bind is not null && !IPAddress.TryParse(bind, out address))
        {
            throw new HostConfigurationException($"{Section}:{nameof(BindAddress)} must be an IP address, got \"{bind}\"");
        }
        var options = new RpcServerOptions
        {
            ChainId = chainId,
            Port = port,
            BindAddress = address ?? IPAddress.Loopback,
            MaxRequestBodyBytes = Int(nameof(MaxRequestBodyBytes), DefaultMaxRequestBodyBytes),
            MaxBatchLength = Int(nameof(MaxBatchLength), DefaultMaxBatchLength),
            MaxBatchResponseBytes = Int(nameof(MaxBatchResponseBytes), DefaultMaxBatchResponseBytes),
            RequestTimeoutMs = Int(nameof(RequestTimeoutMs), DefaultRequestTimeoutMs),
            MaxWebSocketConnections = Int(nameof(MaxWebSocketConnections), DefaultMaxWebSocketConnections),
            MaxSubscriptionsPerConnection = Int(nameof(MaxSubscriptionsPerConnection), DefaultMaxSubscriptionsPerConnection),
            MaxPendingMessagesPerConnection = Int(nameof(MaxPendingMessagesPerConnection), DefaultMaxPendingMessagesPerConnection),
            MaxConcurrentCallsPerConnection = Int(nameof(MaxConcurrentCallsPerConnection), DefaultMaxConcurrentCallsPerConnection),
            MaxHttpConnections = Int(nameof(MaxHttpConnections), DefaultMaxHttpConnections),
            MaxJsonDepth = Int(nameof(MaxJsonDepth), DefaultMaxJsonDepth),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new HostConfigurationException(e.Message);
        }
        return options;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that cannot work.</summary>
    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0)
            {
                throw new ArgumentException($"Rpc:{name} must be positive, got {value}");
            }
        }
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"Rpc:Port must be 0..65535, got {Port}");
        }
        Positive(MaxRequestBodyBytes, nameof(MaxRequestBodyBytes));
        Positive(MaxBatchLength, nameof(MaxBatchLength));
        Positive(MaxBatchResponseBytes, nameof(MaxBatchResponseBytes));
        Positive(MaxWebSocketConnections, nameof(MaxWebSocketConnections));
        Positive(MaxSubscriptionsPerConnection, nameof(MaxSubscriptionsPerConnection));
        Positive(MaxPendingMessagesPerConnection, nameof(MaxPendingMessagesPerConnection));
        Positive(MaxConcurrentCallsPerConnection, nameof(MaxConcurrentCallsPerConnection));
        Positive(MaxHttpConnections, nameof(MaxHttpConnections));
        Positive(MaxJsonDepth, nameof(MaxJsonDepth));
        // Every in-flight call of a connection must be able to queue its answer without tripping
        // the slow-consumer cut-off on its own.
        if (MaxPendingMessagesPerConnection < MaxConcurrentCallsPerConnection)
        {
            throw new ArgumentException(
                $"Rpc:MaxPendingMessagesPerConnection ({MaxPendingMessagesPerConnection}) must be at least Rpc:MaxConcurrentCallsPerConnection ({MaxConcurrentCallsPerConnection})");
        }
        if (MaxHttpConnections < MaxWebSocketConnections)
        {
            throw new ArgumentException(
                $"Rpc:MaxHttpConnections ({MaxHttpConnections}) must be at least Rpc:MaxWebSocketConnections ({MaxWebSocketConnections})");
        }
    }
}
