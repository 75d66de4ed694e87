using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

/// <summary>WebSocket sessions against a real server: calls, eth_subscribe, limits, slow consumers.</summary>
public sealed class RpcWebSocketTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Calls_batches_and_notifications_work_over_a_websocket()
    {
        await using var t = await RpcTestServer.StartAsync();
        using var ws = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        await ws.SendAsync("""{"jsonrpc":"2.0","method":"eth_chainId"}"""); // notification: no answer
        await ws.SendAsync("""{"jsonrpc":"2.0","id":"x","method":"eth_chainId"}""");
        var answer = await ws.ReceiveAsync();
        Assert.Equal("x", (string?)answer["id"]);
        Assert.Equal("0x385", (string?)RpcAssert.Result(answer));

        await ws.SendAsync("""[{"jsonrpc":"2.0","id":1,"method":"net_version"},{"jsonrpc":"2.0","id":2,"method":"nope"}]""");
        var batch = (await ws.ReceiveAsync()).AsArray();
        Assert.Equal("901", (string?)RpcAssert.Result(batch[0]));
        RpcAssert.Error(batch[1], RpcErrorCodes.MethodNotFound, "nope");

        await ws.SendAsync("{not json");
        RpcAssert.Error(await ws.ReceiveAsync(), RpcErrorCodes.ParseError);
    }

    [Fact]
    public async Task Subscribe_receive_and_unsubscribe_new_heads()
    {
        await using var t = await RpcTestServer.StartAsync();
        using var ws = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        var id = (string)RpcAssert.Result(await ws.CallAsync("eth_subscribe", """["newHeads"]"""))!;
        Assert.Matches("^0x[0-9a-f]{32}$", id);
        await WaitUntil(() => t.Server.Subscriptions.SubscriberCount(RpcSubscriptionHub.NewHeads) == 1);

        for (ulong n = 1; n <= 3; n++)
        {
            Assert.Equal(1, t.Server.Subscriptions.PublishNewHead(Header(n)));
        }
        for (ulong n = 1; n <= 3; n++)
        {
            var note = await ws.ReceiveAsync();
            Assert.Equal("2.0", (string?)note["jsonrpc"]);
            Assert.Equal("eth_subscription", (string?)note["method"]);
            Assert.Null(note["id"]);
            Assert.Equal(id, (string?)note["params"]!["subscription"]);
            Assert.Equal(RpcHex.EncodeQuantity(n), (string?)note["params"]!["result"]!["number"]);
        }

        Assert.True((bool)RpcAssert.Result(await ws.CallAsync("eth_unsubscribe", $"[\"{id}\"]"))!);
        Assert.False((bool)RpcAssert.Result(await ws.CallAsync("eth_unsubscribe", $"[\"{id}\"]"))!);
        Assert.Equal(0, t.Server.Subscriptions.PublishNewHead(Header(4)));
        // Nothing else is queued: the next message is the answer to this call.
        Assert.Equal("0x385", (string?)RpcAssert.Result(await ws.CallAsync("eth_chainId")));
    }

    [Fact]
    public async Task Each_connection_gets_its_own_subscriptions_and_closing_drops_them()
    {
        await using var t = await RpcTestServer.StartAsync();
        using var a = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        using var b = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        var idA = (string)RpcAssert.Result(await a.CallAsync("eth_subscribe", """["newHeads"]"""))!;
        var idB = (string)RpcAssert.Result(await b.CallAsync("eth_subscribe", """["newHeads"]"""))!;
        Assert.NotEqual(idA, idB);
        // A subscription id of another connection cannot be cancelled from here.
        Assert.False((bool)RpcAssert.Result(await a.CallAsync("eth_unsubscribe", $"[\"{idB}\"]"))!);
        await WaitUntil(() => t.Server.Subscriptions.SubscriberCount(RpcSubscriptionHub.NewHeads) == 2);
        Assert.Equal(2, t.Server.Subscriptions.PublishNewHead(Header(7)));
        Assert.Equal(idA, (string?)(await a.ReceiveAsync())["params"]!["subscription"]);
        Assert.Equal(idB, (string?)(await b.ReceiveAsync())["params"]!["subscription"]);

        await a.CloseAsync();
        await WaitUntil(() => t.Server.Subscriptions.SubscriberCount(RpcSubscriptionHub.NewHeads) == 1);
        await WaitUntil(() => t.Server.WebSocketConnectionCount == 1);
    }

    [Fact]
    public async Task Subscription_arguments_and_limits_are_enforced()
    {
        await using var t = await RpcTestServer.StartAsync(o => o with { MaxSubscriptionsPerConnection = 2 });
        using var ws = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        var message = RpcAssert.Error(await ws.CallAsync("eth_subscribe", """["logz"]"""), RpcErrorCodes.InvalidParams, "logz");
        Assert.Contains("newHeads", message);
        RpcAssert.Error(await ws.CallAsync("eth_subscribe", """["newHeads",{"address":"0x00"}]"""), RpcErrorCodes.InvalidParams, "argument 1");
        RpcAssert.Error(await ws.CallAsync("eth_subscribe", "[]"), RpcErrorCodes.InvalidParams, "argument 0");
        RpcAssert.Result(await ws.CallAsync("eth_subscribe", """["newHeads"]"""));
        RpcAssert.Result(await ws.CallAsync("eth_subscribe", """["newHeads"]"""));
        RpcAssert.Error(await ws.CallAsync("eth_subscribe", """["newHeads"]"""), RpcErrorCodes.LimitExceeded, "limit 2");
    }

    [Fact]
    public async Task Custom_subscription_kinds_filter_events()
    {
        await using var t = await RpcTestServer.StartAsync(register: s => s.Subscriptions.RegisterKind("testTopics",
            argument => argument.ValueKind == System.Text.Json.JsonValueKind.String
                ? argument.GetString()
                : throw new RpcParamException("want a topic string")));
        using var ws = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        RpcAssert.Error(await ws.CallAsync("eth_subscribe", """["testTopics"]"""), RpcErrorCodes.InvalidParams, "want a topic string");
        var red = (string)RpcAssert.Result(await ws.CallAsync("eth_subscribe", """["testTopics","red"]"""))!;
        RpcAssert.Result(await ws.CallAsync("eth_subscribe", """["testTopics","blue"]"""));
        await WaitUntil(() => t.Server.Subscriptions.SubscriberCount("testTopics") == 2);
        Assert.Equal(1, t.Server.Subscriptions.Publish("testTopics", JsonValue.Create("hello red"), f => (string?)f == "red"));
        var note = await ws.ReceiveAsync();
        Assert.Equal(red, (string?)note["params"]!["subscription"]);
        Assert.Equal("hello red", (string?)note["params"]!["result"]);
    }

    [Fact]
    public async Task A_slow_consumer_is_disconnected_and_memory_stays_bounded()
    {
        await using var t = await RpcTestServer.StartAsync(o => o with { MaxPendingMessagesPerConnection = 16, MaxConcurrentCallsPerConnection = 4 });
        using var fast = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        using var slow = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        RpcAssert.Result(await slow.CallAsync("eth_subscribe", """["newHeads"]"""));
        await WaitUntil(() => t.Server.Subscriptions.SubscriberCount(RpcSubscriptionHub.NewHeads) == 1);
        // The slow client never reads again; each head is 256 KiB, so socket buffers fill within
        // some megabytes and then the bounded queue does.
        var big = new string('a', 256 * 1024);
        var published = 0;
        var clock = Stopwatch.StartNew();
        while (t.Server.SlowConsumerDisconnectCount == 0)
        {
            Assert.True(clock.Elapsed < Wait, $"no disconnect after {published} heads");
            var header = Header((ulong)published);
            header["extraData"] = big;
            t.Server.Subscriptions.PublishNewHead(header);
            published++;
            if (published % 16 == 0)
            {
                await Task.Delay(5);
            }
        }
        Assert.True(published < 2_000, $"{published} heads before the cut-off");
        await WaitUntil(() => t.Server.Subscriptions.SubscriberCount(RpcSubscriptionHub.NewHeads) == 0);
        await WaitUntil(() => t.Server.WebSocketConnectionCount == 1);
        // The other client is unaffected.
        Assert.Equal("0x385", (string?)RpcAssert.Result(await fast.CallAsync("eth_chainId")));
    }

    [Fact]
    public async Task Connections_over_the_limit_are_refused_until_one_closes()
    {
        await using var t = await RpcTestServer.StartAsync(o => o with { MaxWebSocketConnections = 2 });
        using var a = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        using var b = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => WsClient.ConnectAsync(t.Host.WebSocketUri));
        Assert.Contains("503", refused.Message);
        await a.CloseAsync();
        await WaitUntil(() => t.Server.WebSocketConnectionCount == 1);
        using var c = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        Assert.Equal("0x385", (string?)RpcAssert.Result(await c.CallAsync("eth_chainId")));
    }

    [Fact]
    public async Task An_oversized_message_gets_an_error_then_close_1009()
    {
        await using var t = await RpcTestServer.StartAsync(o => o with { MaxRequestBodyBytes = 1000 });
        using var ws = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        await ws.SendAsync($$"""{"jsonrpc":"2.0","id":1,"method":"test_echo","params":["{{new string('x', 2000)}}"]}""");
        RpcAssert.Error(await ws.ReceiveAsync(), RpcErrorCodes.InvalidRequest, "too large");
        var close = await ws.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, close);
    }

    [Fact]
    public async Task Timeouts_apply_to_websocket_calls_and_other_calls_keep_flowing()
    {
        await using var t = await RpcTestServer.StartAsync(o => o with { RequestTimeoutMs = 500 });
        using var ws = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        await ws.SendAsync("""{"jsonrpc":"2.0","id":"slow","method":"test_sleep","params":["0x2710"]}""");
        await ws.SendAsync("""{"jsonrpc":"2.0","id":"fast","method":"eth_chainId"}""");
        var first = await ws.ReceiveAsync();
        Assert.Equal("fast", (string?)first["id"]);
        var second = await ws.ReceiveAsync();
        Assert.Equal("slow", (string?)second["id"]);
        RpcAssert.Error(second, RpcErrorCodes.RequestTimedOut);
    }

    internal static JsonObject Header(ulong number) => new()
    {
        ["number"] = RpcHex.EncodeQuantity(number),
        ["hash"] = "0x" + number.ToString("x64", System.Globalization.CultureInfo.InvariantCulture),
        ["parentHash"] = "0x" + new string('0', 64),
        ["timestamp"] = RpcHex.EncodeQuantity(1_700_000_000 + number),
    };

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Wait, "condition not reached in time");
            await Task.Delay(10);
        }
    }
}

/// <summary>A minimal WebSocket JSON-RPC client with bounded waits.</summary>
internal sealed class WsClient : IDisposable
{
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _socket;
    private int _nextId;

    private WsClient(ClientWebSocket socket) => _socket = socket;

    public static async Task<WsClient> ConnectAsync(Uri uri)
    {
        var socket = new ClientWebSocket();
        try
        {
            using var timeout = new CancellationTokenSource(ReceiveTimeout);
            await socket.ConnectAsync(uri, timeout.Token);
            return new WsClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task SendAsync(string json)
    {
        using var timeout = new CancellationTokenSource(ReceiveTimeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, timeout.Token);
    }

    public async Task<JsonNode> CallAsync(string method, string paramsJson = "[]")
    {
        var id = Interlocked.Increment(ref _nextId);
        await SendAsync($$"""{"jsonrpc":"2.0","id":{{id}},"method":"{{method}}","params":{{paramsJson}}}""");
        var answer = await ReceiveAsync();
        Assert.True(answer["id"] is not null, $"want the answer to call {id}, got {answer.ToJsonString()}");
        Assert.Equal(id, (int)answer["id"]!);
        return answer;
    }

    public async Task<JsonNode> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(ReceiveTimeout);
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var received = await _socket.ReceiveAsync(buffer, timeout.Token);
            Assert.NotEqual(WebSocketMessageType.Close, received.MessageType);
            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return JsonNode.Parse(message.ToArray())!;
            }
        }
    }

    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync()
    {
        using var timeout = new CancellationTokenSource(ReceiveTimeout);
        var buffer = new byte[1024];
        while (true)
        {
            var received = await _socket.ReceiveAsync(buffer, timeout.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return received.CloseStatus;
            }
        }
    }

    public async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(ReceiveTimeout);
        await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
    }

    public void Dispose() => _socket.Dispose();
}

public sealed class RpcSubscriptionOrderTests
{
    [Fact]
    public async Task The_subscribe_answer_arrives_before_any_notification_even_under_constant_publishing()
    {
        await using var t = await RpcTestServer.StartAsync();
        using var stop = new CancellationTokenSource();
        var published = 0UL;
        // About a head per millisecond: constant, yet slow enough that a reading client keeps up
        // (an unthrottled loop would make every client a slow consumer).
        var publisher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                t.Server.Subscriptions.PublishNewHead(RpcWebSocketTests.Header(++published));
                await Task.Delay(1);
            }
        });
        try
        {
            for (var round = 0; round < 20; round++)
            {
                using var ws = await WsClient.ConnectAsync(t.Host.WebSocketUri);
                // CallAsync asserts that the first message after the request is its answer.
                var id = (string)RpcAssert.Result(await ws.CallAsync("eth_subscribe", """["newHeads"]"""))!;
                var note = await ws.ReceiveAsync();
                Assert.Equal(id, (string?)note["params"]!["subscription"]);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await publisher;
        }
        Assert.True(published > 0);
    }
}

public sealed class RpcSubscriptionActivationTests
{
    [Fact]
    public async Task An_event_published_while_eth_subscribe_is_running_does_not_overtake_its_answer()
    {
        var duringCall = -1;
        await using var t = await RpcTestServer.StartAsync(register: server =>
            // Subscribes and publishes inside one call: the worst case of a head landing between
            // the subscription's creation and its answer.
            server.Methods.Add("test_subscribeThenPublish", ctx =>
            {
                var id = ctx.Session!.Subscribe(RpcSubscriptionHub.NewHeads, null);
                duringCall = server.Subscriptions.PublishNewHead(RpcWebSocketTests.Header(1));
                return RpcResult.String(id);
            }));
        using var ws = await WsClient.ConnectAsync(t.Host.WebSocketUri);
        var id = (string)RpcAssert.Result(await ws.CallAsync("test_subscribeThenPublish"))!;
        Assert.Equal(0, duringCall);
        await RpcWebSocketTests.WaitUntil(() => t.Server.Subscriptions.SubscriberCount(RpcSubscriptionHub.NewHeads) == 1);
        Assert.Equal(1, t.Server.Subscriptions.PublishNewHead(RpcWebSocketTests.Header(2)));
        var note = await ws.ReceiveAsync();
        Assert.Equal(id, (string?)note["params"]!["subscription"]);
        Assert.Equal("0x2", (string?)note["params"]!["result"]!["number"]);
    }
}
