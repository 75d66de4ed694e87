using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

/// <summary>A real server on a free loopback port with test methods, and an HTTP client for it.</summary>
internal sealed class RpcTestServer : IAsyncDisposable
{
    public const ulong TestChainId = 901;

    private RpcTestServer(RpcServerHost host)
    {
        Host = host;
        Http = new HttpClient { BaseAddress = host.HttpUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public RpcServerHost Host { get; }
    public RpcServer Server => Host.Server;
    public HttpClient Http { get; }

    /// <summary>Handlers a test may count on: echo, slow, failing, typed.</summary>
    public static async Task<RpcTestServer> StartAsync(Func<RpcServerOptions, RpcServerOptions>? configure = null, Action<RpcServer>? register = null)
    {
        var options = new RpcServerOptions { ChainId = TestChainId, Port = 0 };
        options = configure?.Invoke(options) ?? options;
        var server = new RpcServer(options);
        server.Methods.Add("test_echo", (p, _) => new ValueTask<RpcResult>(RpcResult.Json(JsonNode.Parse(p[0].GetRawText()))), "value");
        server.Methods.Add("test_sleep", RpcParam.Quantity("milliseconds"), async (ms, ctx) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(ms), ctx.Cancellation);
            return RpcResult.Bool(true);
        });
        server.Methods.Add("test_sleepIgnoringCancellation", RpcParam.Quantity("milliseconds"), async (ms, _) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(ms), CancellationToken.None);
            return RpcResult.Bool(true);
        });
        server.Methods.Add("test_crash", RpcResult (RpcContext _) => throw new InvalidOperationException("secret internal detail at /some/path"));
        server.Methods.Add("test_nonceTooLow", RpcResult (RpcContext _) => throw RpcErrors.NonceTooLow(5, 3));
        server.Methods.Add("test_revert", RpcResult (RpcContext _) => throw RpcErrors.ExecutionReverted([0x08, 0xc3, 0x79, 0xa0]));
        server.Methods.Add("test_badResult", _ => RpcResult.Writable(new ThrowingWritable()));
        server.Methods.Add("test_typed", RpcParam.Address("address"), RpcParam.Block("block"), (address, block, _) =>
            RpcResult.Json(new JsonObject { ["address"] = RpcHex.EncodeData(address), ["block"] = block.ToString() }));
        register?.Invoke(server);
        return new RpcTestServer(await RpcServerHost.StartAsync(server));
    }

    public async Task<(HttpStatusCode Status, string Body)> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Http.PostAsync("/", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Posts and parses; asserts HTTP 200.</summary>
    public async Task<JsonNode> PostJsonAsync(string json)
    {
        var (status, body) = await PostAsync(json);
        Assert.True(status == HttpStatusCode.OK, $"HTTP {(int)status}: {body}");
        return JsonNode.Parse(body)!;
    }

    public Task<JsonNode> CallAsync(string method, string paramsJson = "[]", string id = "1") =>
        PostJsonAsync($$"""{"jsonrpc":"2.0","id":{{id}},"method":"{{method}}","params":{{paramsJson}}}""");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }

    private sealed class ThrowingWritable : IRpcJsonWritable
    {
        public void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("partial", "yes");
            throw new InvalidOperationException("serializer broke halfway");
        }
    }
}

internal static class RpcAssert
{
    /// <summary>Asserts a JSON-RPC error response and returns its message.</summary>
    public static string Error(JsonNode? response, int code, string? messageContains = null)
    {
        Assert.NotNull(response);
        Assert.Equal("2.0", (string?)response!["jsonrpc"]);
        var error = response["error"];
        Assert.True(error is not null, $"want an error, got {response.ToJsonString()}");
        Assert.Null(response["result"]);
        Assert.Equal(code, (int)error!["code"]!);
        var message = (string)error["message"]!;
        if (messageContains is not null)
        {
            Assert.Contains(messageContains, message);
        }
        return message;
    }

    public static JsonNode? Result(JsonNode? response)
    {
        Assert.NotNull(response);
        Assert.True(response!["error"] is null, $"unexpected error: {response.ToJsonString()}");
        Assert.Equal("2.0", (string?)response["jsonrpc"]);
        Assert.True(response.AsObject().ContainsKey("result"), $"no result: {response.ToJsonString()}");
        return response["result"];
    }
}
