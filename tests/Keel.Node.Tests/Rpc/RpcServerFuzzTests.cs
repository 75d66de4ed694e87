using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Keel.Node.Rpc;

namespace Keel.Node.Tests.Rpc;

/// <summary>Bad input never crashes the dispatcher: every body gets a well-formed JSON-RPC answer or none.</summary>
public class RpcServerFuzzTests
{
    private static readonly RpcServer Server = CreateServer();

    private static RpcServer CreateServer()
    {
        var server = new RpcServer(new RpcServerOptions { ChainId = 901, RequestTimeoutMs = 2_000 });
        server.Methods.Add("test_typed", RpcParam.Address("address"), RpcParam.Block("block"), RpcParam.Quantity("n").Optional(0),
            (a, b, n, _) => new ValueTask<RpcResult>(RpcResult.Quantity(n)));
        return server;
    }

    [Fact]
    public void Random_bytes_get_a_well_formed_answer()
    {
        Prop.ForAll<byte[]>(body => IsWellFormed(body)).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Random_request_shaped_json_gets_a_well_formed_answer()
    {
        var pieces = new[]
        {
            "1", "\"x\"", "null", "true", "[]", "{}", "\"0x\"", "\"0x0\"", "\"0x01\"", "\"latest\"",
            "\"0x00000000000000000000000000000000000000aa\"", "-1", "1e400", "{\"blockHash\":\"0x12\"}",
        };
        var methods = new[] { "eth_chainId", "test_typed", "eth_subscribe", "eth_unsubscribe", "nope", "rpc_modules", "" };
        var piece = Gen.Elements(pieces);
        var request =
            from method in Gen.Elements(methods)
            from hasId in Gen.Elements(true, false)
            from id in piece
            from count in Gen.Choose(0, 4)
            from args in Gen.ListOf(piece, count)
            from version in Gen.Elements("\"2.0\"", "\"1.0\"", "2")
            select $$"""{"jsonrpc":{{version}},{{(hasId ? $"\"id\":{id}," : "")}}"method":"{{method}}","params":[{{string.Join(",", args)}}]}""";
        var batch = from count in Gen.Choose(0, 5) from calls in Gen.ListOf(request, count) select "[" + string.Join(",", calls) + "]";
        var body = Gen.OneOf(request, batch);
        Prop.ForAll(body.ToArbitrary(), text => IsWellFormed(Encoding.UTF8.GetBytes(text))).QuickCheckThrowOnFailure();
    }

    private static bool IsWellFormed(byte[] body)
    {
        var answer = Server.ExecuteAsync(body).GetAwaiter().GetResult();
        if (answer is null)
        {
            return true; // notifications only
        }
        var node = JsonNode.Parse(answer);
        return node switch
        {
            JsonObject single => IsResponse(single),
            JsonArray batch => batch.Count > 0 && batch.All(r => r is JsonObject o && IsResponse(o)),
            _ => false,
        };
    }

    private static bool IsResponse(JsonObject response)
    {
        if ((string?)response["jsonrpc"] != "2.0" || !response.ContainsKey("id"))
        {
            return false;
        }
        var hasResult = response.ContainsKey("result");
        var error = response["error"] as JsonObject;
        if (hasResult == (error is not null))
        {
            return false;
        }
        // Handler bugs would show as -32603; none of these inputs may reach one.
        return error is null || (error["code"]!.GetValueKind() == JsonValueKind.Number
            && (int)error["code"]! != RpcErrorCodes.InternalError
            && !string.IsNullOrEmpty((string?)error["message"]));
    }
}
