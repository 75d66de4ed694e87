using System.Numerics;
using System.Text.Json;

namespace Keel.Node.Rpc;

/// <summary>
/// The positional parameters of one call (the request's "params" array, or none). Values are
/// views into the request document and live only until the handler's task completes: handlers
/// that keep a value longer bind it (typed parameters are copies) or Clone() the element.
/// </summary>
public readonly struct RpcParams
{
    private readonly JsonElement _array;

    internal RpcParams(JsonElement array)
    {
        _array = array;
        Count = array.ValueKind == JsonValueKind.Array ? array.GetArrayLength() : 0;
    }

    public static RpcParams Empty => default;

    public int Count { get; }

    /// <summary>The raw element at <paramref name="index"/>, or an Undefined element past the end.</summary>
    public JsonElement this[int index] => index < Count ? _array[index] : default;

    /// <summary>True when argument <paramref name="index"/> is present and not JSON null.</summary>
    public bool Has(int index) => index < Count && _array[index].ValueKind != JsonValueKind.Null;

    /// <summary>Binds argument <paramref name="index"/>; failures are -32602 errors naming the argument.</summary>
    public T Get<T>(int index, RpcParam<T> param) => param.Bind(this, index);

    /// <summary>Fails with -32602 when more than <paramref name="max"/> arguments were sent.</summary>
    public void ExpectAtMost(int max)
    {
        if (Count > max)
        {
            throw RpcErrors.InvalidParams(max == 0
                ? $"too many arguments: this method takes none, got {Count}"
                : $"too many arguments, want at most {max}, got {Count}");
        }
    }
}

/// <summary>Thrown by a parameter reader with the reason only; the binder adds which argument.</summary>
public sealed class RpcParamException(string reason) : Exception(reason);

/// <summary>Reads one JSON value into a typed parameter or throws <see cref="RpcParamException"/>.</summary>
public delegate T RpcParamReader<T>(JsonElement value);

/// <summary>
/// A typed positional parameter: a name (for error messages and docs), a reader and whether it may
/// be left out (then <see cref="Default"/> is used; JSON null counts as left out, as in geth).
/// </summary>
public sealed class RpcParam<T>(string name, RpcParamReader<T> reader, bool optional = false, T defaultValue = default!)
{
    public string Name { get; } = name;
    public bool IsOptional { get; } = optional;
    public T Default { get; } = defaultValue;

    /// <summary>The same parameter, optional, with <paramref name="defaultValue"/> when absent or null.</summary>
    public RpcParam<T> Optional(T defaultValue) => new(Name, reader, true, defaultValue);

    internal T Bind(in RpcParams parameters, int index)
    {
        if (!parameters.Has(index))
        {
            if (IsOptional)
            {
                return Default;
            }
            throw RpcErrors.InvalidParams($"missing value for required argument {index} ({Name})");
        }
        try
        {
            return reader(parameters[index]);
        }
        catch (RpcParamException e)
        {
            throw RpcErrors.InvalidParams($"invalid argument {index} ({Name}): {e.Message}");
        }
    }
}

/// <summary>Which block a state query reads: a tag, a number or (EIP-1898) a hash.</summary>
public enum BlockTag
{
    Number,
    Latest,
    Pending,
    Earliest,
    Safe,
    Finalized,
    Hash,
}

/// <summary>A block parameter: "latest" | "pending" | "earliest" | "safe" | "finalized" | QUANTITY | EIP-1898 object.</summary>
public readonly record struct BlockSelector(BlockTag Tag, ulong Number = 0, byte[]? Hash = null, bool RequireCanonical = false)
{
    public static BlockSelector Latest => new(BlockTag.Latest);
    public static BlockSelector Pending => new(BlockTag.Pending);
    public static BlockSelector Earliest => new(BlockTag.Earliest);
    public static BlockSelector AtNumber(ulong number) => new(BlockTag.Number, number);

    public override string ToString() => Tag switch
    {
        BlockTag.Number => RpcHex.EncodeQuantity(Number),
        BlockTag.Hash => RpcHex.EncodeData(Hash),
        _ => Tag.ToString().ToLowerInvariant(),
    };
}

/// <summary>The parameter kinds of the Ethereum JSON-RPC, each with a strict reader.</summary>
public static class RpcParam
{
    /// <summary>Default bound on a DATA argument (a raw transaction, call data): below the body limit.</summary>
    public const int MaxDataBytes = 1024 * 1024;

    /// <summary>Default bound on a plain string argument (subscription kinds, ids).</summary>
    public const int MaxStringChars = 256;

    public static RpcParam<ulong> Quantity(string name) => new(name, ReadQuantity);

    public static RpcParam<BigInteger> BigQuantity(string name, int maxBits = 256) =>
        new(name, e => ReadBigQuantity(e, maxBits));

    public static RpcParam<byte[]> Data(string name, int maxBytes = MaxDataBytes) =>
        new(name, e => ReadData(e, -1, maxBytes));

    /// <summary>A 20-byte address (0x + 40 hex digits; case is not checked here).</summary>
    public static RpcParam<byte[]> Address(string name) => new(name, e => ReadData(e, 20, 20));

    /// <summary>A 32-byte hash (block, transaction, storage slot).</summary>
    public static RpcParam<byte[]> Hash(string name) => new(name, e => ReadData(e, 32, 32));

    /// <summary>A block selector; optional with "latest" as default, as every state query treats it.</summary>
    public static RpcParam<BlockSelector> Block(string name) => new(name, ReadBlock, true, BlockSelector.Latest);

    public static RpcParam<bool> Bool(string name) => new(name, e => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new RpcParamException($"want a boolean, got {Describe(e)}"),
    });

    public static RpcParam<string> String(string name, int maxChars = MaxStringChars) => new(name, e =>
    {
        if (e.ValueKind != JsonValueKind.String)
        {
            throw new RpcParamException($"want a string, got {Describe(e)}");
        }
        var s = e.GetString()!;
        return s.Length <= maxChars ? s : throw new RpcParamException($"string of {s.Length} characters is longer than {maxChars}");
    });

    /// <summary>Any JSON value (call objects, filters), cloned so it outlives the request.</summary>
    public static RpcParam<JsonElement> Json(string name) => new(name, e => e.Clone());

    public static RpcParam<T> Custom<T>(string name, RpcParamReader<T> reader) => new(name, reader);

    // ---- readers, reusable in custom parameters -------------------------------------------------

    public static ulong ReadQuantity(JsonElement e)
    {
        var text = ExpectString(e, "a hex quantity");
        return RpcHex.TryParseQuantity(text, out var value, out var error) ? value : throw new RpcParamException(error!);
    }

    public static BigInteger ReadBigQuantity(JsonElement e, int maxBits)
    {
        var text = ExpectString(e, "a hex quantity");
        return RpcHex.TryParseQuantity(text, maxBits, out var value, out var error) ? value : throw new RpcParamException(error!);
    }

    public static byte[] ReadData(JsonElement e, int exactBytes, int maxBytes)
    {
        var text = ExpectString(e, exactBytes == 20 ? "a hex address" : "hex data");
        return RpcHex.TryParseData(text, exactBytes, maxBytes, out var value, out var error) ? value : throw new RpcParamException(error!);
    }

    public static BlockSelector ReadBlock(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            return ReadBlockObject(e);
        }
        var text = ExpectString(e, "a block number or tag");
        switch (text)
        {
            case "latest": return BlockSelector.Latest;
            case "pending": return BlockSelector.Pending;
            case "earliest": return BlockSelector.Earliest;
            case "safe": return new BlockSelector(BlockTag.Safe);
            case "finalized": return new BlockSelector(BlockTag.Finalized);
        }
        if (text.Length >= 2 && text[0] == '0' && text[1] is 'x' or 'X')
        {
            return RpcHex.TryParseQuantity(text, out var n, out var error)
                ? BlockSelector.AtNumber(n)
                : throw new RpcParamException(error!);
        }
        throw new RpcParamException($"want a block number (hex) or one of latest, pending, earliest, safe, finalized; got \"{Truncate(text)}\"");
    }

    // EIP-1898: {"blockNumber": QUANTITY} or {"blockHash": DATA, "requireCanonical": bool}.
    private static BlockSelector ReadBlockObject(JsonElement e)
    {
        var hasNumber = e.TryGetProperty("blockNumber", out var number);
        var hasHash = e.TryGetProperty("blockHash", out var hash);
        if (hasNumber == hasHash)
        {
            throw new RpcParamException("a block object needs exactly one of blockNumber and blockHash");
        }
        if (hasNumber)
        {
            var selector = ReadBlock(number);
            return selector.Tag == BlockTag.Hash ? throw new RpcParamException("blockNumber must be a number or tag") : selector;
        }
        var canonical = e.TryGetProperty("requireCanonical", out var rc) && rc.ValueKind == JsonValueKind.True;
        if (e.TryGetProperty("requireCanonical", out rc) && rc.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new RpcParamException("requireCanonical must be a boolean");
        }
        return new BlockSelector(BlockTag.Hash, 0, ReadData(hash, 32, 32), canonical);
    }

    private static string ExpectString(JsonElement e, string want) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new RpcParamException($"want {want} as a JSON string, got {Describe(e)}");

    internal static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {Truncate(e.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
