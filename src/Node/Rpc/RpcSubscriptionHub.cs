using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keel.Node.Rpc;

/// <summary>The subscription side of a WebSocket session, as eth_subscribe / eth_unsubscribe see it.</summary>
public interface IRpcSession
{
    /// <summary>Creates a subscription; its notifications start once the eth_subscribe answer is queued.</summary>
    string Subscribe(string kind, object? filter);

    /// <summary>Ends a subscription of this session; false when the id is not one of its live subscriptions.</summary>
    bool Unsubscribe(string id);
}

/// <summary>Reads the optional second eth_subscribe argument into the kind's filter (or throws <see cref="RpcParamException"/>).</summary>
public delegate object? RpcSubscriptionFilterParser(JsonElement argument);

/// <summary>Decides whether an event goes to a subscription, given that subscription's filter.</summary>
public delegate bool RpcSubscriptionMatch(object? filter);

/// <summary>
/// Where the node publishes events for eth_subscribe clients of one RPC server. Publishing never
/// blocks on a client: the event is serialized once, then queued on each matching WebSocket, and a
/// connection whose queue is full is disconnected (see
/// <see cref="RpcServerOptions.MaxPendingMessagesPerConnection"/>). Safe to call from any thread.
/// </summary>
public sealed class RpcSubscriptionHub
{
    /// <summary>The kind Ethereum clients use for new blocks (ethers' provider.on("block")).</summary>
    public const string NewHeads = "newHeads";

    /// <summary>Subscription ids are 16 random bytes in hex, as geth's, so they cannot be guessed across sessions.</summary>
    public const int SubscriptionIdBytes = 16;

    private static ReadOnlySpan<byte> EnvelopeStart => "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{\"subscription\":\""u8;
    private static ReadOnlySpan<byte> EnvelopeMiddle => "\",\"result\":"u8;
    private static ReadOnlySpan<byte> EnvelopeEnd => "}}"u8;

    private readonly ConcurrentDictionary<string, Kind> _kinds = new(StringComparer.Ordinal);
    private readonly KeyValuePair<string, object?> _chainTag;

    public RpcSubscriptionHub()
        : this(new KeyValuePair<string, object?>("chain", null))
    {
    }

    internal RpcSubscriptionHub(KeyValuePair<string, object?> chainTag)
    {
        _chainTag = chainTag;
        RegisterKind(NewHeads, NoFilter(NewHeads));
    }

    /// <summary>Subscription kinds clients may ask for.</summary>
    public IEnumerable<string> Kinds => _kinds.Keys;

    /// <summary>
    /// Adds a subscription kind ("logs", "newPendingTransactions", ...). <paramref name="parseFilter"/>
    /// reads the optional second eth_subscribe argument (Undefined when absent).
    /// </summary>
    public void RegisterKind(string name, RpcSubscriptionFilterParser parseFilter)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(parseFilter);
        if (!_kinds.TryAdd(name, new Kind(name, parseFilter)))
        {
            throw new InvalidOperationException($"subscription kind {name} is registered twice");
        }
    }

    /// <summary>A filter parser for kinds that take no second argument.</summary>
    public static RpcSubscriptionFilterParser NoFilter(string kind) => argument =>
        argument.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
            ? null
            : throw new RpcParamException($"the {kind} subscription takes no filter");

    /// <summary>Publishes a new block header to every newHeads subscriber; returns how many it was queued for.</summary>
    public int PublishNewHead(JsonObject header) => Publish(NewHeads, header);

    /// <summary>Publishes one event of <paramref name="kind"/>; <paramref name="match"/> filters by each subscription's filter.</summary>
    public int Publish(string kind, JsonNode? result, RpcSubscriptionMatch? match = null)
    {
        if (!_kinds.TryGetValue(kind, out var k))
        {
            throw new InvalidOperationException($"subscription kind {kind} is not registered");
        }
        if (k.Subscribers.IsEmpty)
        {
            return 0;
        }
        using var buffer = new RpcBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer, RpcServer.WriterOptions))
        {
            if (result is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                result.WriteTo(writer);
            }
        }
        return Publish(k, buffer.WrittenSpan, match);
    }

    /// <summary>Publishes pre-serialized JSON (the same bytes for every subscriber).</summary>
    public int PublishRaw(string kind, ReadOnlySpan<byte> resultJson, RpcSubscriptionMatch? match = null)
    {
        if (!_kinds.TryGetValue(kind, out var k))
        {
            throw new InvalidOperationException($"subscription kind {kind} is not registered");
        }
        return Publish(k, resultJson, match);
    }

    /// <summary>Live (activated) subscriptions of a kind, across all connections.</summary>
    public int SubscriberCount(string kind) =>
        _kinds.TryGetValue(kind, out var k) ? k.Subscribers.Keys.Count(s => s.IsActive) : 0;

    internal bool TryParseFilter(string kind, JsonElement argument, out object? filter)
    {
        filter = null;
        if (!_kinds.TryGetValue(kind, out var k))
        {
            return false;
        }
        filter = k.ParseFilter(argument);
        return true;
    }

    internal RpcSubscription Create(string kind, object? filter, IRpcSubscriber owner)
    {
        var k = _kinds[kind];
        Span<byte> random = stackalloc byte[SubscriptionIdBytes];
        RandomNumberGenerator.Fill(random);
        var subscription = new RpcSubscription(RpcHex.EncodeData(random), k, filter, owner);
        k.Subscribers.TryAdd(subscription, 0);
        return subscription;
    }

    internal static void Remove(RpcSubscription subscription) => subscription.Kind.Subscribers.TryRemove(subscription, out _);

    private int Publish(Kind kind, ReadOnlySpan<byte> resultJson, RpcSubscriptionMatch? match)
    {
        var delivered = 0;
        foreach (var subscription in kind.Subscribers.Keys)
        {
            if (!subscription.IsActive || (match is not null && !match(subscription.Filter)))
            {
                continue;
            }
            var id = subscription.IdUtf8;
            var message = new byte[EnvelopeStart.Length + id.Length + EnvelopeMiddle.Length + resultJson.Length + EnvelopeEnd.Length];
            var span = message.AsSpan();
            EnvelopeStart.CopyTo(span);
            span = span[EnvelopeStart.Length..];
            id.CopyTo(span);
            span = span[id.Length..];
            EnvelopeMiddle.CopyTo(span);
            span = span[EnvelopeMiddle.Length..];
            resultJson.CopyTo(span);
            EnvelopeEnd.CopyTo(span[resultJson.Length..]);
            if (subscription.Owner.TryEnqueue(message))
            {
                delivered++;
            }
        }
        if (delivered > 0)
        {
            RpcMetrics.Notifications.Add(delivered, _chainTag, new KeyValuePair<string, object?>("kind", kind.Name));
        }
        return delivered;
    }

    internal sealed class Kind(string name, RpcSubscriptionFilterParser parseFilter)
    {
        public string Name { get; } = name;
        public RpcSubscriptionFilterParser ParseFilter { get; } = parseFilter;
        public ConcurrentDictionary<RpcSubscription, byte> Subscribers { get; } = new();
    }
}

/// <summary>Who receives a subscription's notifications (a WebSocket session).</summary>
internal interface IRpcSubscriber
{
    /// <summary>Queues a message without blocking; false when the receiver is gone or too slow (and is being dropped).</summary>
    bool TryEnqueue(byte[] message);
}

internal sealed class RpcSubscription(string id, RpcSubscriptionHub.Kind kind, object? filter, IRpcSubscriber owner)
{
    private volatile bool _active;

    public string Id { get; } = id;
    public byte[] IdUtf8 { get; } = System.Text.Encoding.ASCII.GetBytes(id);
    public RpcSubscriptionHub.Kind Kind { get; } = kind;
    public object? Filter { get; } = filter;
    public IRpcSubscriber Owner { get; } = owner;
    public bool IsActive => _active;

    /// <summary>Called once the eth_subscribe answer is queued, so that no notification overtakes it.</summary>
    public void Activate() => _active = true;
}
