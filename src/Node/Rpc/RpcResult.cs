using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keel.Node.Rpc;

/// <summary>Something that writes itself as one JSON value (a block, a receipt) without a JsonNode tree.</summary>
public interface IRpcJsonWritable
{
    void WriteTo(Utf8JsonWriter writer);
}

/// <summary>
/// The value a handler returns, written straight into the response: the common Ethereum shapes
/// (QUANTITY, DATA, string, bool, null) cost no allocation beyond the response buffer; objects
/// come as a JsonNode, an <see cref="IRpcJsonWritable"/> or pre-serialized UTF-8 JSON.
/// </summary>
public readonly struct RpcResult
{
    private enum Kind : byte { Null, Quantity, BigQuantity, Data, String, Bool, Node, Writable, RawJson }

    private readonly Kind _kind;
    private readonly ulong _number;
    private readonly object? _ref;
    private readonly ReadOnlyMemory<byte> _bytes;

    private RpcResult(Kind kind, ulong number = 0, object? reference = null, ReadOnlyMemory<byte> bytes = default)
    {
        _kind = kind;
        _number = number;
        _ref = reference;
        _bytes = bytes;
    }

    /// <summary>JSON null: what Ethereum clients expect for a block, transaction or receipt that is not there.</summary>
    public static RpcResult Null => default;

    public static RpcResult Quantity(ulong value) => new(Kind.Quantity, value);

    /// <summary>A QUANTITY from big-endian unsigned bytes (up to 64 bytes; a U256 is 32).</summary>
    public static RpcResult Quantity(ReadOnlyMemory<byte> bigEndian) =>
        bigEndian.Length <= 64 ? new(Kind.BigQuantity, bytes: bigEndian) : throw new ArgumentException("a quantity is at most 64 bytes");

    public static RpcResult Quantity(BigInteger value) =>
        value.Sign >= 0 ? Quantity(value.ToByteArray(isUnsigned: true, isBigEndian: true)) : throw new ArgumentOutOfRangeException(nameof(value), "a quantity is never negative");

    public static RpcResult Data(ReadOnlyMemory<byte> data) => new(Kind.Data, bytes: data);

    public static RpcResult String(string? value) => value is null ? Null : new(Kind.String, reference: value);

    public static RpcResult Bool(bool value) => new(Kind.Bool, value ? 1UL : 0UL);

    public static RpcResult Json(JsonNode? node) => node is null ? Null : new(Kind.Node, reference: node);

    public static RpcResult Writable(IRpcJsonWritable? value) => value is null ? Null : new(Kind.Writable, reference: value);

    /// <summary>Pre-serialized JSON (a cached block): checked for well-formedness as it is written.</summary>
    public static RpcResult RawJson(ReadOnlyMemory<byte> utf8Json) => new(Kind.RawJson, bytes: utf8Json);

    public static ValueTask<RpcResult> Completed(RpcResult result) => new(result);

    public bool IsNull => _kind == Kind.Null;

    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (_kind)
        {
            case Kind.Null: writer.WriteNullValue(); break;
            case Kind.Quantity: RpcHex.WriteQuantity(writer, _number); break;
            case Kind.BigQuantity: RpcHex.WriteQuantity(writer, _bytes.Span); break;
            case Kind.Data: RpcHex.WriteData(writer, _bytes.Span); break;
            case Kind.String: writer.WriteStringValue((string)_ref!); break;
            case Kind.Bool: writer.WriteBooleanValue(_number != 0); break;
            case Kind.Node: ((JsonNode)_ref!).WriteTo(writer); break;
            case Kind.Writable: ((IRpcJsonWritable)_ref!).WriteTo(writer); break;
            case Kind.RawJson: writer.WriteRawValue(_bytes.Span); break;
        }
    }

    public override string ToString()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteTo(writer);
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
