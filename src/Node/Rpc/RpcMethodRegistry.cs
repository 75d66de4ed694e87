using System.Collections.Frozen;

namespace Keel.Node.Rpc;

/// <summary>How a call arrived; some methods exist on one transport only (eth_subscribe).</summary>
public enum RpcTransport
{
    Http,
    WebSocket,
    /// <summary>Called in-process (tests, benchmarks): no socket behind it.</summary>
    InProcess,
}

/// <summary>
/// What a handler gets besides its parameters: the cancellation that fires when the request's
/// time is up or the client went away, the transport, the server's settings and, on a WebSocket,
/// the session that owns subscriptions.
/// </summary>
public readonly struct RpcContext(CancellationToken cancellation, RpcTransport transport, RpcServerOptions options, IRpcSession? session)
{
    /// <summary>Fires at the request deadline (<see cref="RpcServerOptions.RequestTimeout"/>) or when the client disconnects.</summary>
    public CancellationToken Cancellation { get; } = cancellation;
    public RpcTransport Transport { get; } = transport;
    public RpcServerOptions Options { get; } = options;

    /// <summary>The WebSocket session (subscriptions live on it); null over HTTP.</summary>
    public IRpcSession? Session { get; } = session;
}

/// <summary>The raw handler shape: every typed registration is compiled down to it.</summary>
public delegate ValueTask<RpcResult> RpcHandler(RpcParams parameters, RpcContext context);

/// <summary>One registered method: its name, handler and parameter names (for docs and rpc_modules).</summary>
public sealed class RpcMethod(string name, RpcHandler handler, IReadOnlyList<string> parameterNames)
{
    public string Name { get; } = name;
    public RpcHandler Handler { get; } = handler;
    public IReadOnlyList<string> ParameterNames { get; } = parameterNames;

    /// <summary>The namespace before the first underscore ("eth" for eth_chainId).</summary>
    public string Module { get; } = name[..Math.Max(0, name.IndexOf('_'))];
}

/// <summary>
/// The method table of one RPC server (one per rollup chain). Subsystems add their methods at
/// start-up, before the server starts; the table is then frozen, so dispatch reads an immutable
/// dictionary without locks and a late or duplicate registration is a start-up error, not a race.
/// Typed overloads bind positional parameters with <see cref="RpcParam"/> descriptors: a
/// missing, extra or malformed argument becomes -32602 naming the argument, before the handler runs.
/// </summary>
public sealed class RpcMethodRegistry
{
    /// <summary>Method names are short identifiers; this bounds what a request can make us look up.</summary>
    public const int MaxMethodNameChars = 64;

    private readonly Dictionary<string, RpcMethod> _building = new(StringComparer.Ordinal);
    private FrozenDictionary<string, RpcMethod>? _frozen;

    public bool IsFrozen => _frozen is not null;

    public IEnumerable<RpcMethod> Methods => (IEnumerable<RpcMethod>?)_frozen?.Values ?? _building.Values;

    /// <summary>Registers a raw handler that reads <see cref="RpcParams"/> itself.</summary>
    public RpcMethodRegistry Add(string name, RpcHandler handler, params string[] parameterNames)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ValidateName(name);
        if (_frozen is not null)
        {
            throw new InvalidOperationException($"RPC method {name} registered after the server started; register every method at start-up");
        }
        if (!_building.TryAdd(name, new RpcMethod(name, handler, parameterNames)))
        {
            throw new InvalidOperationException($"RPC method {name} is registered twice");
        }
        return this;
    }

    public RpcMethodRegistry Add(string name, Func<RpcContext, ValueTask<RpcResult>> handler) =>
        Add(name, (p, ctx) =>
        {
            p.ExpectAtMost(0);
            return handler(ctx);
        });

    public RpcMethodRegistry Add(string name, Func<RpcContext, RpcResult> handler) =>
        Add(name, (p, ctx) =>
        {
            p.ExpectAtMost(0);
            return new ValueTask<RpcResult>(handler(ctx));
        });

    public RpcMethodRegistry Add<T1>(string name, RpcParam<T1> p1, Func<T1, RpcContext, ValueTask<RpcResult>> handler) =>
        Add(name, (p, ctx) =>
        {
            p.ExpectAtMost(1);
            return handler(p.Get(0, p1), ctx);
        }, p1.Name);

    public RpcMethodRegistry Add<T1>(string name, RpcParam<T1> p1, Func<T1, RpcContext, RpcResult> handler) =>
        Add(name, (p, ctx) =>
        {
            p.ExpectAtMost(1);
            return new ValueTask<RpcResult>(handler(p.Get(0, p1), ctx));
        }, p1.Name);

    public RpcMethodRegistry Add<T1, T2>(string name, RpcParam<T1> p1, RpcParam<T2> p2, Func<T1, T2, RpcContext, ValueTask<RpcResult>> handler) =>
        Add(name, (p, ctx) =>
        {
            p.ExpectAtMost(2);
            return handler(p.Get(0, p1), p.Get(1, p2), ctx);
        }, p1.Name, p2.Name);

    public RpcMethodRegistry Add<T1, T2>(string name, RpcParam<T1> p1, RpcParam<T2> p2, Func<T1, T2, RpcContext, RpcResult> handler) =>
        Add(name, (p, ctx) =>
        {
            p.ExpectAtMost(2);
            return new ValueTask<RpcResult>(handler(p.Get(0, p1), p.Get(1, p2), ctx));
        }, p1.Name, p2.Name);

    public RpcMethodRegistry Add<T1, T2, T3>(string name, RpcParam<T1> p1, RpcParam<T2> p2, RpcParam<T3> p3,
        Func<T1, T2, T3, RpcContext, ValueTask<RpcResult>> handler) =>
        Add(name, (p, ctx) =>
        {
            p.ExpectAtMost(3);
            return handler(p.Get(0, p1), p.Get(1, p2), p.Get(2, p3), ctx);
        }, p1.Name, p2.Name, p3.Name);

    public RpcMethodRegistry Add<T1, T2, T3, T4>(string name, RpcParam<T1> p1, RpcParam<T2> p2, RpcParam<T3> p3, RpcParam<T4> p4,
        Func<T1, T2, T3, T4, RpcContext, ValueTask<RpcResult>> handler) =>
        Add(name, (p, ctx) =>
        {
            p.ExpectAtMost(4);
            return handler(p.Get(0, p1), p.Get(1, p2), p.Get(2, p3), p.Get(3, p4), ctx);
        }, p1.Name, p2.Name, p3.Name, p4.Name);

    public bool Contains(string name) => _frozen?.ContainsKey(name) ?? _building.ContainsKey(name);

    /// <summary>Ends registration; the server calls it when it starts (idempotent).</summary>
    public void Freeze() => _frozen ??= _building.ToFrozenDictionary(StringComparer.Ordinal);

    internal bool TryGet(string name, out RpcMethod method)
    {
        Freeze();
        return _frozen!.TryGetValue(name, out method!);
    }

    private static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxMethodNameChars)
        {
            throw new ArgumentException($"RPC method name must be 1..{MaxMethodNameChars} characters", nameof(name));
        }
        // JSON-RPC 2.0 reserves "rpc." for the protocol itself.
        if (name.StartsWith("rpc.", StringComparison.Ordinal) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"RPC method name {name} must be letters, digits and underscores", nameof(name));
        }
    }
}
