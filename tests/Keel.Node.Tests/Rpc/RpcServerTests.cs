using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

/// <summary>JSON-RPC 2.0 conformance over real HTTP on loopback.</summary>
public sealed class RpcServerTests : IAsyncLifetime
{
    private RpcTestServer _t = null!;

    public async Task InitializeAsync() => _t = await RpcTestServer.StartAsync();

    public async Task DisposeAsync() => await _t.DisposeAsync();

    [Fact]
    public async Task Identity_methods_answer_from_the_instance_settings()
    {
        Assert.Equal("0x385", (string?)RpcAssert.Result(await _t.CallAsync("eth_chainId")));
        Assert.Equal("901", (string?)RpcAssert.Result(await _t.CallAsync("net_version")));
        var version = (string?)RpcAssert.Result(await _t.CallAsync("web3_clientVersion"));
        Assert.StartsWith("keel/", version);
        Assert.DoesNotContain("+", version);
        var modules = RpcAssert.Result(await _t.CallAsync("rpc_modules"))!.AsObject();
        Assert.Equal(["eth", "net", "rpc", "test", "web3"], modules.Select(kv => kv.Key).Order().ToArray());
    }

    [Fact]
    public async Task Two_servers_in_one_process_keep_their_own_chain_and_methods()
    {
        await using var other = await RpcTestServer.StartAsync(o => o with { ChainId = 902 },
            s => s.Methods.Add("only_here", _ => RpcResult.Bool(true)));
        Assert.NotEqual(_t.Host.Port, other.Host.Port);
        Assert.Equal("0x386", (string?)RpcAssert.Result(await other.CallAsync("eth_chainId")));
        Assert.Equal("0x385", (string?)RpcAssert.Result(await _t.CallAsync("eth_chainId")));
        Assert.True((bool)RpcAssert.Result(await other.CallAsync("only_here"))!);
        RpcAssert.Error(await _t.CallAsync("only_here"), RpcErrorCodes.MethodNotFound, "only_here");
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("\"abc\"", "\"abc\"")]
    [InlineData("null", "null")]
    [InlineData("-7", "-7")]
    [InlineData("1.5", "1.5")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    public async Task The_id_is_echoed_exactly(string id, string echoed)
    {
        var (status, body) = await _t.PostAsync($$"""{"jsonrpc":"2.0","id":{{id}},"method":"eth_chainId"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal($$"""{"jsonrpc":"2.0","id":{{echoed}},"result":"0x385"}""", body);
    }

    [Fact]
    public async Task Malformed_json_is_a_parse_error_with_null_id()
    {
        var response = await _t.PostJsonAsync("""{"jsonrpc":"2.0","id":1,"method":"eth_chainId" """);
        RpcAssert.Error(response, RpcErrorCodes.ParseError, "parse error");
        Assert.Equal("null", response["id"]?.ToJsonString() ?? "null");
        Assert.True(response.AsObject().ContainsKey("id"));
        RpcAssert.Error(await _t.PostJsonAsync(""), RpcErrorCodes.ParseError);
        RpcAssert.Error(await _t.PostJsonAsync("[{\"jsonrpc\":\"2.0\",\"method\":\"x\"},"), RpcErrorCodes.ParseError);
    }

    [Theory]
    [InlineData("""{"id":1,"method":"eth_chainId"}""", "jsonrpc")]
    [InlineData("""{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}""", "jsonrpc")]
    [InlineData("""{"jsonrpc":"2.0","id":1}""", "method")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":5}""", "method")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":"x"}""", "params")]
    [InlineData("""{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId"}""", "id")]
    [InlineData("42", "object")]
    [InlineData("\"eth_chainId\"", "object")]
    public async Task Requests_that_are_not_json_rpc_are_invalid_requests(string body, string mentions)
    {
        RpcAssert.Error(await _t.PostJsonAsync(body), RpcErrorCodes.InvalidRequest, mentions);
    }

    [Fact]
    public async Task An_unknown_method_is_named_in_the_error()
    {
        var response = await _t.CallAsync("eth_doesNotExist", id: "7");
        RpcAssert.Error(response, RpcErrorCodes.MethodNotFound, "eth_doesNotExist");
        Assert.Equal(7, (int)response["id"]!);
    }

    [Fact]
    public async Task Invalid_params_say_which_argument_and_why()
    {
        var message = RpcAssert.Error(await _t.CallAsync("test_typed", """["0x1234"]"""), RpcErrorCodes.InvalidParams);
        Assert.Contains("argument 0 (address)", message);
        Assert.Contains("want 40", message);
        message = RpcAssert.Error(await _t.CallAsync("test_typed", """["0x00000000000000000000000000000000000000aa","newest"]"""), RpcErrorCodes.InvalidParams);
        Assert.Contains("argument 1 (block)", message);
        Assert.Contains("newest", message);
        message = RpcAssert.Error(await _t.CallAsync("test_typed", "[]"), RpcErrorCodes.InvalidParams);
        Assert.Contains("missing value for required argument 0 (address)", message);
        message = RpcAssert.Error(await _t.CallAsync("eth_chainId", "[1]"), RpcErrorCodes.InvalidParams);
        Assert.Contains("too many arguments", message);
        RpcAssert.Error(await _t.CallAsync("test_typed", """{"address":"0x00"}"""), RpcErrorCodes.InvalidParams, "named parameters");
    }

    [Fact]
    public async Task Typed_parameters_bind_with_optional_defaults()
    {
        var result = RpcAssert.Result(await _t.CallAsync("test_typed", """["0x00000000000000000000000000000000000000AA"]"""))!;
        Assert.Equal("0x00000000000000000000000000000000000000aa", (string?)result["address"]);
        Assert.Equal("latest", (string?)result["block"]);
        result = RpcAssert.Result(await _t.CallAsync("test_typed", """["0x00000000000000000000000000000000000000aa","0x1f"]"""))!;
        Assert.Equal("0x1f", (string?)result["block"]);
        result = RpcAssert.Result(await _t.CallAsync("test_typed", """["0x00000000000000000000000000000000000000aa",null]"""))!;
        Assert.Equal("latest", (string?)result["block"]);
    }

    [Fact]
    public async Task Handler_exceptions_become_internal_errors_without_details()
    {
        var message = RpcAssert.Error(await _t.CallAsync("test_crash"), RpcErrorCodes.InternalError, "internal error");
        Assert.DoesNotContain("secret", message);
        Assert.DoesNotContain("/some/path", message);
        Assert.DoesNotContain(" at ", message);
        Assert.True(_t.Server.InternalErrorCount >= 1);
    }

    [Fact]
    public async Task A_result_that_fails_while_serializing_is_replaced_by_an_error()
    {
        RpcAssert.Error(await _t.CallAsync("test_badResult"), RpcErrorCodes.InternalError);
        var batch = (await _t.PostJsonAsync("""
            [{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},
             {"jsonrpc":"2.0","id":2,"method":"test_badResult"},
             {"jsonrpc":"2.0","id":3,"method":"net_version"}]
            """)).AsArray();
        Assert.Equal(3, batch.Count);
        Assert.Equal("0x385", (string?)RpcAssert.Result(batch[0]));
        RpcAssert.Error(batch[1], RpcErrorCodes.InternalError);
        Assert.Equal(2, (int)batch[1]!["id"]!);
        Assert.Equal("901", (string?)RpcAssert.Result(batch[2]));
    }

    [Fact]
    public async Task Ethereum_server_errors_keep_code_message_and_data()
    {
        RpcAssert.Error(await _t.CallAsync("test_nonceTooLow"), RpcErrorCodes.ServerError, "nonce too low");
        var revert = await _t.CallAsync("test_revert");
        RpcAssert.Error(revert, RpcErrorCodes.ExecutionReverted, "execution reverted");
        Assert.Equal("0x08c379a0", (string?)revert["error"]!["data"]);
    }

    [Fact]
    public async Task A_batch_answers_each_call_in_an_array()
    {
        var response = (await _t.PostJsonAsync("""
            [{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},
             {"jsonrpc":"2.0","id":"b","method":"nope"},
             {"jsonrpc":"2.0","method":"eth_chainId"},
             5,
             {"jsonrpc":"2.0","id":4,"method":"net_version"}]
            """)).AsArray();
        Assert.Equal(4, response.Count); // the notification gets nothing
        Assert.Equal(1, (int)response[0]!["id"]!);
        Assert.Equal("0x385", (string?)RpcAssert.Result(response[0]));
        Assert.Equal("b", (string?)response[1]!["id"]);
        RpcAssert.Error(response[1], RpcErrorCodes.MethodNotFound);
        RpcAssert.Error(response[2], RpcErrorCodes.InvalidRequest);
        Assert.Equal("901", (string?)RpcAssert.Result(response[3]));
    }

    [Fact]
    public async Task An_empty_batch_is_one_invalid_request_not_an_array()
    {
        var response = await _t.PostJsonAsync("[]");
        Assert.IsType<JsonObject>(response);
        RpcAssert.Error(response, RpcErrorCodes.InvalidRequest, "empty batch");
    }

    [Fact]
    public async Task Notifications_get_no_response_at_all()
    {
        var (status, body) = await _t.PostAsync("""{"jsonrpc":"2.0","method":"eth_chainId"}""");
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal("", body);
        (status, body) = await _t.PostAsync("""[{"jsonrpc":"2.0","method":"eth_chainId"},{"jsonrpc":"2.0","method":"nope"}]""");
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal("", body);
    }

    [Fact]
    public async Task A_batch_of_the_limit_passes_and_one_more_is_refused()
    {
        static string Batch(int n) => "[" + string.Join(",", Enumerable.Range(0, n).Select(i => $$"""{"jsonrpc":"2.0","id":{{i}},"method":"eth_chainId"}""")) + "]";
        var ok = (await _t.PostJsonAsync(Batch(RpcServerOptions.DefaultMaxBatchLength))).AsArray();
        Assert.Equal(100, ok.Count);
        Assert.Equal(Enumerable.Range(0, 100), ok.Select(r => (int)r!["id"]!).Order());
        var refused = await _t.PostJsonAsync(Batch(101));
        Assert.IsType<JsonObject>(refused);
        var message = RpcAssert.Error(refused, RpcErrorCodes.InvalidRequest, "batch too large");
        Assert.Contains("101", message);
        Assert.Contains("100", message);
    }

    [Fact]
    public async Task A_body_one_byte_over_5_MiB_gets_413_with_a_json_rpc_error()
    {
        const int limit = 5 * 1024 * 1024;
        Assert.Equal(limit, RpcServerOptions.DefaultMaxRequestBodyBytes);
        // A valid call padded with whitespace to exactly the limit is accepted...
        var call = """{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}""";
        var atLimit = call + new string(' ', limit - call.Length);
        var (status, body) = await _t.PostAsync(atLimit);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("0x385", (string?)RpcAssert.Result(JsonNode.Parse(body)));
        // ...and one byte more is not.
        (status, body) = await _t.PostAsync(atLimit + " ");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        RpcAssert.Error(JsonNode.Parse(body), RpcErrorCodes.InvalidRequest, "too large");
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_refused_too()
    {
        await using var small = await RpcTestServer.StartAsync(o => o with { MaxRequestBodyBytes = 1000 });
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(new string(' ', 5000) + "{}")));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await small.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        RpcAssert.Error(JsonNode.Parse(await response.Content.ReadAsStringAsync()), RpcErrorCodes.InvalidRequest, "limit 1000");
    }

    [Fact]
    public async Task Deeply_nested_json_is_refused_as_a_parse_error()
    {
        var deep = new string('[', 200) + new string(']', 200);
        RpcAssert.Error(await _t.PostJsonAsync($$"""{"jsonrpc":"2.0","id":1,"method":"test_echo","params":[{{deep}}]}"""), RpcErrorCodes.ParseError);
    }

    [Fact]
    public async Task A_slow_handler_times_out_with_32002_and_the_connection_still_works()
    {
        await using var t = await RpcTestServer.StartAsync(o => o with { RequestTimeoutMs = 300 });
        var clock = Stopwatch.StartNew();
        RpcAssert.Error(await t.CallAsync("test_sleep", """["0x2710"]"""), RpcErrorCodes.RequestTimedOut, "timed out after 300 ms");
        RpcAssert.Error(await t.CallAsync("test_sleepIgnoringCancellation", """["0x2710"]"""), RpcErrorCodes.RequestTimedOut);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(2, t.Server.TimeoutCount);
        Assert.True((bool)RpcAssert.Result(await t.CallAsync("test_sleep", """["0x1"]"""))!);
    }

    [Fact]
    public async Task The_timeout_covers_a_whole_batch()
    {
        // 200 ms then 10 s against a 2 s budget: wide margins both ways, so a busy machine (devnet
        // tests start beside this one) cannot make the first call late or the second one early.
        await using var t = await RpcTestServer.StartAsync(o => o with { RequestTimeoutMs = 2000 });
        var response = (await t.PostJsonAsync("""
            [{"jsonrpc":"2.0","id":1,"method":"test_sleep","params":["0xc8"]},
             {"jsonrpc":"2.0","id":2,"method":"test_sleep","params":["0x2710"]},
             {"jsonrpc":"2.0","id":3,"method":"eth_chainId"}]
            """)).AsArray();
        Assert.True((bool)RpcAssert.Result(response[0])!);
        RpcAssert.Error(response[1], RpcErrorCodes.RequestTimedOut);
        RpcAssert.Error(response[2], RpcErrorCodes.RequestTimedOut);
    }

    [Fact]
    public async Task Health_cors_and_wrong_verbs()
    {
        using var health = await _t.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var body = JsonNode.Parse(await health.Content.ReadAsStringAsync())!;
        Assert.Equal("ok", (string?)body["status"]);
        Assert.Equal("0x385", (string?)body["chainId"]);

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/");
        preflight.Headers.Add("Origin", "http://dapp.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-custom");
        using var answer = await _t.Http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("*", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", answer.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Contains("x-custom", answer.Headers.GetValues("Access-Control-Allow-Headers").Single());

        using var get = await _t.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        RpcAssert.Error(JsonNode.Parse(await get.Content.ReadAsStringAsync()), RpcErrorCodes.InvalidRequest, "POST");

        using var post = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}""");
        using var postAnswer = await _t.Http.PostAsync("/any/path", post);
        Assert.Equal("*", postAnswer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("application/json", postAnswer.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Subscribing_over_http_is_a_clear_error()
    {
        RpcAssert.Error(await _t.CallAsync("eth_subscribe", """["newHeads"]"""), RpcErrorCodes.MethodNotSupported, "WebSocket");
    }

    [Fact]
    public async Task Concurrent_clients_all_get_their_own_answers()
    {
        var calls = Enumerable.Range(0, 64).Select(async i =>
        {
            var response = await _t.CallAsync("test_echo", $"[{i}]", id: i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return ((int)response["id"]!, (int)RpcAssert.Result(response)!);
        });
        foreach (var (id, echoed) in await Task.WhenAll(calls))
        {
            Assert.Equal(id, echoed);
        }
    }
}
