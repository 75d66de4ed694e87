using System.Globalization;
using System.Text.Json.Nodes;

namespace Keel.Node.Rpc;

/// <summary>
/// The methods every Keel RPC server has from the start, needing nothing but the server itself:
/// identity (web3_clientVersion, eth_chainId, net_version, net_listening, rpc_modules) and the
/// subscription entry points (eth_subscribe, eth_unsubscribe).
/// </summary>
internal static class RpcStandardMethods
{
    /// <summary>The version string each module reports in rpc_modules (as geth does).</summary>
    private const string ModuleVersion = "1.0";

    private static readonly RpcParam<string> SubscriptionKind = RpcParam.String("subscription kind");
    private static readonly RpcParam<string> SubscriptionId = RpcParam.String("subscription id");

    public static void Register(RpcServer server)
    {
        var chainId = server.Options.ChainId;
        var netVersion = chainId.ToString(CultureInfo.InvariantCulture);
        var methods = server.Methods;

        methods.Add("web3_clientVersion", _ => RpcResult.String(RpcServer.ClientVersion));
        methods.Add("eth_chainId", _ => RpcResult.Quantity(chainId));
        methods.Add("net_version", _ => RpcResult.String(netVersion));
        methods.Add("net_listening", _ => RpcResult.Bool(true));

        JsonObject? modules = null;
        methods.Add("rpc_modules", _ =>
        {
            // The table is frozen before the first call, so the answer never changes: build it once.
            modules ??= BuildModules(methods);
            return RpcResult.Json(modules.DeepClone());
        });

        methods.Add("eth_subscribe", (p, ctx) =>
        {
            if (ctx.Session is null)
            {
                throw RpcErrors.MethodNotSupported("eth_subscribe needs a WebSocket connection: notifications cannot be sent over HTTP");
            }
            p.ExpectAtMost(2);
            var kind = p.Get(0, SubscriptionKind);
            object? filter;
            try
            {
                if (!server.Subscriptions.TryParseFilter(kind, p[1], out filter))
                {
                    throw RpcErrors.InvalidParams(
                        $"invalid argument 0 (subscription kind): no subscription kind \"{kind}\"; supported: {string.Join(", ", server.Subscriptions.Kinds.Order(StringComparer.Ordinal))}");
                }
            }
            catch (RpcParamException e)
            {
                throw RpcErrors.InvalidParams($"invalid argument 1 (filter): {e.Message}");
            }
            return new ValueTask<RpcResult>(RpcResult.String(ctx.Session.Subscribe(kind, filter)));
        }, "kind", "filter");

        methods.Add("eth_unsubscribe", SubscriptionId, (id, ctx) =>
        {
            if (ctx.Session is null)
            {
                throw RpcErrors.MethodNotSupported("eth_unsubscribe needs a WebSocket connection: subscriptions live on one");
            }
            return RpcResult.Bool(ctx.Session.Unsubscribe(id));
        });
    }

    private static JsonObject BuildModules(RpcMethodRegistry methods)
    {
        var modules = new JsonObject();
        foreach (var module in methods.Methods.Select(m => m.Module).Where(m => m.Length > 0).Distinct().Order(StringComparer.Ordinal))
        {
            modules[module] = ModuleVersion;
        }
        return modules;
    }
}
