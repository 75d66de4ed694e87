using System.Diagnostics;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Node.Rpc;

/// <summary>
/// One JSON-RPC 2.0 server: the method table, subscription hub and limits of one rollup chain.
/// Transport-independent here (request bytes in, response bytes out); <see cref="RpcHttpEndpoint"/>
/// puts it on HTTP and WebSocket and <see cref="RpcServerHost"/> on its own Kestrel port.
/// </summary>
public sealed partial class RpcServer
{
    /// <summary>Relaxed escaping: responses go to RPC clients, never into HTML, and "\u0022" in messages helps nobody.</summary>
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    private static ReadOnlySpan<byte> JsonRpcVersion => "2.0"u8;

    private ILogger _logger;
    private readonly JsonDocumentOptions _documentOptions;
    private long _requests;
    private long _calls;
    private long _internalErrors;
    private long _timeouts;
    private long _slowConsumerDisconnects;
    private int _webSocketConnections;

    public RpcServer(RpcServerOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = logger ?? NullLogger.Instance;
        _documentOptions = new JsonDocumentOptions { MaxDepth = options.MaxJsonDepth };
        ChainTag = new KeyValuePair<string, object?>("chain", options.ChainId);
        Methods = new RpcMethodRegistry();
        Subscriptions = new RpcSubscriptionHub(ChainTag);
        RpcStandardMethods.Register(this);
    }

    public RpcServerOptions Options { get; }

    /// <summary>Register methods here before the server starts.</summary>
    public RpcMethodRegistry Methods { get; }

    /// <summary>Publish subscription events here (any thread, never blocks).</summary>
    public RpcSubscriptionHub Subscriptions { get; }

    /// <summary>web3_clientVersion: "keel/" and the informational version without the source hash.</summary>
    public static string ClientVersion { get; } = "keel/" + ProductVersion();

    /// <summary>HTTP requests and WebSocket messages processed.</summary>
    public long RequestCount => Interlocked.Read(ref _requests);
    /// <summary>Method calls processed (a batch of 10 counts 10).</summary>
    public long CallCount => Interlocked.Read(ref _calls);
    public long InternalErrorCount => Interlocked.Read(ref _internalErrors);
    public long TimeoutCount => Interlocked.Read(ref _timeouts);
    public long SlowConsumerDisconnectCount => Interlocked.Read(ref _slowConsumerDisconnects);
    public int WebSocketConnectionCount => Volatile.Read(ref _webSocketConnections);

    internal ILogger Logger => _logger;

    /// <summary>Sets the logger when the server was built before its host (no-op if it has one).</summary>
    internal void AttachLogger(ILogger logger)
    {
        if (_logger == NullLogger.Instance)
        {
            _logger = logger;
        }
    }

    /// <summary>
    /// Runs a request in-process, without a socket (tests of a subsystem's methods, tools): the
    /// same parsing, limits (except the body size, which belongs to the transports) and errors as
    /// over HTTP. Returns the response JSON, or null when there is nothing to answer.
    /// </summary>
    public async Task<byte[]?> ExecuteAsync(ReadOnlyMemory<byte> request, CancellationToken cancellation = default)
    {
        Methods.Freeze();
        using var output = new RpcBufferWriter();
        return await ProcessAsync(request, output, RpcTransport.InProcess, null, cancellation).ConfigureAwait(false)
            ? output.ToArray()
            : null;
    }

    /// <summary>
    /// Processes one request body (a call or a batch) and writes the answer into
    /// <paramref name="output"/>. Returns false when there is nothing to send (notifications only).
    /// </summary>
    internal async ValueTask<bool> ProcessAsync(ReadOnlyMemory<byte> body, RpcBufferWriter output, RpcTransport transport,
        IRpcSession? session, CancellationToken aborted)
    {
        Interlocked.Increment(ref _requests);
        RpcMetrics.Requests.Add(1, ChainTag);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, _documentOptions);
        }
        catch (JsonException e)
        {
            WriteSingleError(output, RpcErrorCodes.ParseError, $"parse error: {ParseErrorReason(e)}");
            return true;
        }

        using (document)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            var timeout = Options.RequestTimeout;
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                deadline.CancelAfter(timeout);
            }
            var started = Stopwatch.GetTimestamp();
            var context = new RpcContext(deadline.Token, transport, Options, session);
            using var writer = new Utf8JsonWriter(output, WriterOptions);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                return await WriteEntryAsync(root, output, writer, context, deadline, started).ConfigureAwait(false);
            }

            var length = root.GetArrayLength();
            if (length == 0)
            {
                WriteSingleError(output, RpcErrorCodes.InvalidRequest, "empty batch");
                return true;
            }
            if (length > Options.MaxBatchLength)
            {
                WriteSingleError(output, RpcErrorCodes.InvalidRequest, $"batch too large: {length} requests, limit {Options.MaxBatchLength}");
                return true;
            }

            output.Write("["u8);
            var responses = 0;
            foreach (var entry in root.EnumerateArray())
            {
                var mark = output.WrittenCount;
                if (responses > 0)
                {
                    output.Write(","u8);
                }
                writer.Reset(output);
                bool wrote;
                if (mark > Options.MaxBatchResponseBytes)
                {
                    WriteError(writer, IdOf(entry), RpcErrorCodes.LimitExceeded,
                        $"batch response too large: over {Options.MaxBatchResponseBytes} bytes; send fewer calls per batch");
                    writer.Flush();
                    wrote = true;
                }
                else
                {
                    wrote = await WriteEntryAsync(entry, output, writer, context, deadline, started).ConfigureAwait(false);
                }
                if (wrote)
                {
                    responses++;
                }
                else
                {
                    output.Truncate(mark);
                }
            }
            if (responses == 0)
            {
                output.Truncate(0);
                return false;
            }
            output.Write("]"u8);
            return true;
        }
    }

    /// <summary>
    /// One call into <paramref name="output"/> (flushed on return). A result whose serialization
    /// throws halfway is cut off and replaced by an internal error, so the response stays valid JSON.
    /// </summary>
    private async ValueTask<bool> WriteEntryAsync(JsonElement request, RpcBufferWriter output, Utf8JsonWriter writer,
        RpcContext context, CancellationTokenSource deadline, long started)
    {
        writer.Flush();
        var mark = output.WrittenCount;
        try
        {
            var wrote = await WriteCallAsync(request, writer, context, deadline, started).ConfigureAwait(false);
            writer.Flush();
            return wrote;
        }
        catch (RpcResultWriteException e)
        {
            output.Truncate(mark);
            writer.Reset(output);
            var (code, message, data) = Classify(e.InnerException!, e.Method, deadline);
            WriteError(writer, e.Id, code, message, data);
            writer.Flush();
            return true;
        }
    }

    /// <summary>Validates and runs one call; writes its response unless it is a notification.</summary>
    private async ValueTask<bool> WriteCallAsync(JsonElement request, Utf8JsonWriter writer, RpcContext context,
        CancellationTokenSource deadline, long started)
    {
        Interlocked.Increment(ref _calls);
        RpcMetrics.Calls.Add(1, ChainTag);
        if (request.ValueKind != JsonValueKind.Object)
        {
            WriteError(writer, default, RpcErrorCodes.InvalidRequest, "invalid request: want a JSON object");
            return true;
        }
        var hasId = request.TryGetProperty("id", out var id);
        if (hasId && id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
        {
            WriteError(writer, default, RpcErrorCodes.InvalidRequest, "invalid request: id must be a string, a number or null");
            return true;
        }
        if (!request.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || !version.ValueEquals(JsonRpcVersion))
        {
            WriteError(writer, id, RpcErrorCodes.InvalidRequest, "invalid request: jsonrpc must be \"2.0\"");
            return true;
        }
        if (!request.TryGetProperty("method", out var methodElement) || methodElement.ValueKind != JsonValueKind.String)
        {
            WriteError(writer, id, RpcErrorCodes.InvalidRequest, "invalid request: method must be a string");
            return true;
        }
        var parameters = RpcParams.Empty;
        if (request.TryGetProperty("params", out var paramsElement))
        {
            switch (paramsElement.ValueKind)
            {
                case JsonValueKind.Array:
                    parameters = new RpcParams(paramsElement);
                    break;
                case JsonValueKind.Null:
                    break;
                case JsonValueKind.Object:
                    WriteError(writer, id, RpcErrorCodes.InvalidParams, "named parameters are not supported: send params as an array");
                    return hasId;
                default:
                    WriteError(writer, id, RpcErrorCodes.InvalidRequest, "invalid request: params must be an array");
                    return true;
            }
        }

        var name = methodElement.GetString()!;
        if (name.Length > RpcMethodRegistry.MaxMethodNameChars || !Methods.TryGet(name, out var method))
        {
            var shown = name.Length > RpcMethodRegistry.MaxMethodNameChars ? name[..RpcMethodRegistry.MaxMethodNameChars] + "..." : name;
            WriteError(writer, id, RpcErrorCodes.MethodNotFound, $"the method {shown} does not exist/is not available");
            return hasId;
        }

        RpcResult result;
        try
        {
            result = await InvokeAsync(method, parameters, context, deadline, started).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (code, message, data) = Classify(e, name, deadline);
            if (hasId)
            {
                WriteError(writer, id, code, message, data);
            }
            return hasId;
        }
        if (!hasId)
        {
            return false;
        }
        writer.WriteStartObject();
        writer.WriteString("jsonrpc"u8, JsonRpcVersion);
        writer.WritePropertyName("id"u8);
        id.WriteTo(writer);
        writer.WritePropertyName("result"u8);
        try
        {
            result.WriteTo(writer);
        }
        catch (Exception e)
        {
            throw new RpcResultWriteException(name, id, e);
        }
        writer.WriteEndObject();
        return true;
    }

    private async ValueTask<RpcResult> InvokeAsync(RpcMethod method, RpcParams parameters, RpcContext context,
        CancellationTokenSource deadline, long started)
    {
        var timeout = Options.RequestTimeout;
        // The clock, not only the token: the token's timer may fire a moment after a call that
        // timed out by the clock, and later calls of the batch must not slip through in between.
        if (deadline.IsCancellationRequested || (timeout != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(started) >= timeout))
        {
            throw new TimeoutException();
        }
        var callStarted = Stopwatch.GetTimestamp();
        try
        {
            return await InvokeWithTimeoutAsync(method, parameters, context, started, timeout).ConfigureAwait(false);
        }
        finally
        {
            if (RpcMetrics.CallDuration.Enabled)
            {
                RpcMetrics.CallDuration.Record(Stopwatch.GetElapsedTime(callStarted).TotalSeconds, ChainTag,
                    new KeyValuePair<string, object?>("method", method.Name));
            }
        }
    }

    private async ValueTask<RpcResult> InvokeWithTimeoutAsync(RpcMethod method, RpcParams parameters, RpcContext context, long started, TimeSpan timeout)
    {
        var pending = method.Handler(parameters, context);
        if (pending.IsCompletedSuccessfully)
        {
            return pending.Result;
        }
        var task = pending.AsTask();
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return await task.ConfigureAwait(false);
        }
        var left = timeout - Stopwatch.GetElapsedTime(started);
        try
        {
            // A handler that ignores its token still gets answered at the deadline; it keeps
            // running in the background, so its eventual failure must be observed, not lost.
            return await task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    private (int Code, string Message, System.Text.Json.Nodes.JsonNode? Data) Classify(Exception e, string method, CancellationTokenSource deadline)
    {
        switch (e)
        {
            case RpcException rpc:
                return (rpc.Code, rpc.Message, rpc.ErrorData);
            case TimeoutException:
            case OperationCanceledException when deadline.IsCancellationRequested:
                Interlocked.Increment(ref _timeouts);
                return (RpcErrorCodes.RequestTimedOut, $"request timed out after {Options.RequestTimeoutMs} ms", null);
            default:
                Interlocked.Increment(ref _internalErrors);
                var reference = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()))[..12];
                LogHandlerFailed(_logger, method, reference, e);
                return (RpcErrorCodes.InternalError, $"internal error (reference {reference} in the node log)", null);
        }
    }

    /// <summary>Writes an error response and counts it.</summary>
    private void WriteError(Utf8JsonWriter writer, JsonElement id, int code, string message, System.Text.Json.Nodes.JsonNode? data = null)
    {
        CountError(code);
        WriteErrorObject(writer, id, code, message, data);
    }

    internal void CountError(int code) => RpcMetrics.Errors.Add(1, ChainTag, new KeyValuePair<string, object?>("code", code));

    internal static void WriteErrorObject(Utf8JsonWriter writer, JsonElement id, int code, string message, System.Text.Json.Nodes.JsonNode? data = null)
    {
        writer.WriteStartObject();
        writer.WriteString("jsonrpc"u8, JsonRpcVersion);
        writer.WritePropertyName("id"u8);
        if (id.ValueKind == JsonValueKind.Undefined)
        {
            writer.WriteNullValue();
        }
        else
        {
            id.WriteTo(writer);
        }
        writer.WriteStartObject("error"u8);
        writer.WriteNumber("code"u8, code);
        writer.WriteString("message"u8, message);
        if (data is not null)
        {
            writer.WritePropertyName("data"u8);
            data.WriteTo(writer);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>An error response with id null, replacing whatever was in <paramref name="output"/>.</summary>
    internal void WriteSingleError(RpcBufferWriter output, int code, string message)
    {
        output.Truncate(0);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        WriteError(writer, default, code, message);
    }

    /// <summary>A whole error body (413, 503, 405 answers), counted as an error of this server.</summary>
    internal byte[] ErrorBody(int code, string message)
    {
        using var output = new RpcBufferWriter();
        WriteSingleError(output, code, message);
        return output.ToArray();
    }

    internal bool TryOpenWebSocket()
    {
        while (true)
        {
            var current = Volatile.Read(ref _webSocketConnections);
            if (current >= Options.MaxWebSocketConnections)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _webSocketConnections, current + 1, current) == current)
            {
                RpcMetrics.WebSocketConnections.Add(1, ChainTag);
                return true;
            }
        }
    }

    internal void CloseWebSocket()
    {
        Interlocked.Decrement(ref _webSocketConnections);
        RpcMetrics.WebSocketConnections.Add(-1, ChainTag);
    }

    internal void CountSlowConsumer()
    {
        Interlocked.Increment(ref _slowConsumerDisconnects);
        RpcMetrics.SlowConsumerDisconnects.Add(1, ChainTag);
    }

    /// <summary>The chain tag every metric of this server carries.</summary>
    internal KeyValuePair<string, object?> ChainTag { get; }

    private static JsonElement IdOf(JsonElement entry) =>
        entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("id", out var id)
            && id.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null ? id : default;

    private static string ParseErrorReason(JsonException e) =>
        e.LineNumber is { } line && e.BytePositionInLine is { } pos
            ? $"invalid JSON at line {line + 1}, byte {pos + 1}"
            : "invalid JSON";

    private static string ProductVersion()
    {
        var version = typeof(RpcServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(RpcServer).Assembly.GetName().Version?.ToString() ?? "0.0.0";
        var plus = version.IndexOf('+');
        return plus >= 0 ? version[..plus] : version;
    }

    /// <summary>A result that threw while being serialized, with what is needed to answer in its place.</summary>
    private sealed class RpcResultWriteException(string method, JsonElement id, Exception inner) : Exception("result serialization failed", inner)
    {
        public string Method { get; } = method;
        public JsonElement Id { get; } = id;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "rpc: {Method} failed (reference {Reference})")]
    private static partial void LogHandlerFailed(ILogger logger, string method, string reference, Exception exception);
}
