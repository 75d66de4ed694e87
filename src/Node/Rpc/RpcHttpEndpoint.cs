using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Keel.Node.Rpc;

/// <summary>
/// The HTTP face of an <see cref="RpcServer"/>: POST on any path is JSON-RPC, a WebSocket upgrade
/// on any path opens a session (as geth and anvil serve both on one port), GET /health answers
/// 200, OPTIONS answers CORS preflights. Any origin is allowed: browser wallets and dapps talk to
/// a devnet from wherever they are served.
/// </summary>
public static class RpcHttpEndpoint
{
    public const string HealthPath = "/health";

    /// <summary>How long browsers may cache a preflight answer.</summary>
    public const int CorsMaxAgeSeconds = 86_400;

    /// <summary>
    /// An oversized body is read and thrown away up to this many bytes before the 413 goes out:
    /// a client still sending would otherwise see a reset connection instead of the error. Beyond
    /// it the connection is closed after the answer.
    /// </summary>
    public const int MaxDrainBytes = 16 * 1024 * 1024;

    /// <summary>First buffer for a body without Content-Length; it grows up to the body limit.</summary>
    private const int InitialBodyBufferBytes = 4096;

    /// <summary>Serves one HTTP request (the terminal middleware of an RPC port).</summary>
    public static async Task HandleAsync(HttpContext context, RpcServer server)
    {
        var request = context.Request;
        var response = context.Response;
        AddCorsHeaders(context);

        if (HttpMethods.IsOptions(request.Method))
        {
            response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        if (context.WebSockets.IsWebSocketRequest)
        {
            await RpcWebSocketSession.AcceptAsync(context, server).ConfigureAwait(false);
            return;
        }
        if (HttpMethods.IsGet(request.Method) && request.Path.Equals(HealthPath, StringComparison.OrdinalIgnoreCase))
        {
            await WriteJsonAsync(response, StatusCodes.Status200OK, HealthBody(server)).ConfigureAwait(false);
            return;
        }
        if (!HttpMethods.IsPost(request.Method))
        {
            response.Headers.Allow = "POST, GET, OPTIONS";
            await WriteJsonAsync(response, StatusCodes.Status405MethodNotAllowed,
                server.ErrorBody(RpcErrorCodes.InvalidRequest, "JSON-RPC takes POST (or a WebSocket upgrade); GET /health for a liveness check")).ConfigureAwait(false);
            return;
        }
        await HandlePostAsync(context, server).ConfigureAwait(false);
    }

    private static async Task HandlePostAsync(HttpContext context, RpcServer server)
    {
        var limit = server.Options.MaxRequestBodyBytes;
        var declared = context.Request.ContentLength;
        // We count bytes ourselves (bodies without Content-Length included), so Kestrel's own
        // limit must not cut in first with a bare 413 that carries no JSON-RPC error.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }
        if (declared > limit)
        {
            await TooLargeAsync(context, server, declared.Value, limit, 0).ConfigureAwait(false);
            return;
        }

        var body = ArrayPool<byte>.Shared.Rent((int)Math.Min(declared ?? InitialBodyBufferBytes, limit) + 1);
        var length = 0;
        try
        {
            var reader = context.Request.BodyReader;
            while (true)
            {
                var read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                var buffer = read.Buffer;
                if (length + buffer.Length > limit)
                {
                    var seen = length + buffer.Length;
                    reader.AdvanceTo(buffer.End);
                    await TooLargeAsync(context, server, seen, limit, read.IsCompleted ? -1 : seen).ConfigureAwait(false);
                    return;
                }
                if (length + buffer.Length > body.Length)
                {
                    var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(body.Length * 2L, length + buffer.Length), limit + 1L));
                    body.AsSpan(0, length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(body);
                    body = grown;
                }
                buffer.CopyTo(body.AsSpan(length));
                length += (int)buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            using var output = new RpcBufferWriter();
            var answered = await server.ProcessAsync(body.AsMemory(0, length), output, RpcTransport.Http, null, context.RequestAborted)
                .ConfigureAwait(false);
            if (!answered)
            {
                // Only notifications: JSON-RPC 2.0 says to return nothing at all.
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = output.WrittenCount;
            await context.Response.Body.WriteAsync(output.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await TooLargeAsync(context, server, limit + 1L, limit, -1).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>
    /// Answers 413 with a JSON-RPC error. <paramref name="alreadyRead"/> bytes of the body were
    /// consumed (-1: the body is done or unusable); the rest is drained up to <see cref="MaxDrainBytes"/>.
    /// </summary>
    private static async Task TooLargeAsync(HttpContext context, RpcServer server, long size, int limit, long alreadyRead)
    {
        var message = $"request body too large: {(size > limit ? $"over {limit}" : size.ToString(System.Globalization.CultureInfo.InvariantCulture))} bytes, limit {limit}";
        if (alreadyRead >= 0 && !await TryDrainAsync(context, alreadyRead).ConfigureAwait(false))
        {
            context.Response.Headers.Connection = "close";
        }
        await WriteJsonAsync(context.Response, StatusCodes.Status413PayloadTooLarge,
            server.ErrorBody(RpcErrorCodes.InvalidRequest, message)).ConfigureAwait(false);
    }

    private static async Task<bool> TryDrainAsync(HttpContext context, long alreadyRead)
    {
        if (context.Request.ContentLength is { } declared && declared > MaxDrainBytes)
        {
            return false;
        }
        var reader = context.Request.BodyReader;
        var drained = alreadyRead;
        try
        {
            while (drained <= MaxDrainBytes)
            {
                var read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                drained += read.Buffer.Length;
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return true;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
        }
        return false;
    }

    internal static void AddCorsHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlAllowMethods = "POST, GET, OPTIONS";
        var asked = context.Request.Headers.AccessControlRequestHeaders;
        headers.AccessControlAllowHeaders = asked.Count > 0 ? asked : "Content-Type";
        headers.AccessControlMaxAge = CorsMaxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static async Task WriteJsonAsync(HttpResponse response, int status, byte[] body)
    {
        if (response.HasStarted)
        {
            return;
        }
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body).ConfigureAwait(false);
    }

    private static byte[] HealthBody(RpcServer server)
    {
        using var output = new RpcBufferWriter();
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("status"u8, "ok"u8);
            writer.WritePropertyName("chainId"u8);
            RpcHex.WriteQuantity(writer, server.Options.ChainId);
            writer.WriteString("clientVersion"u8, RpcServer.ClientVersion);
            writer.WriteEndObject();
        }
        return output.ToArray();
    }
}
