using System.Globalization;
using System.Text.Json;
using Keel.Core;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Witness;

/// <summary>
/// The batch witness file (JSON, UTF-8), format "keel-transfer-witness" version 1. Integers are
/// Ethereum-style hex quantities ("0x1a"), addresses EIP-55, digests "0x" + four 16-digit field
/// elements. A Merkle path lists only the siblings that are not the empty-subtree root of their
/// height, as {"level": h, "node": digest} in increasing level order; every other level is empty.
/// The full layout is in docs/rollup.md. Reading is strict: an unknown version, a missing field,
/// a value out of range or a path out of order is a <see cref="WitnessFormatException"/>.
/// </summary>
public static class WitnessSerializer
{
    public const string FormatName = "keel-transfer-witness";

    /// <summary>Largest witness file accepted (a full batch of 65,536 transfers with dense paths
    /// stays below this).</summary>
    public const long MaxWitnessBytes = 512L * 1024 * 1024;

    private const int MaxJsonDepth = 16;

    private static readonly Dictionary<TransferStatus, string> StatusNames = new()
    {
        [TransferStatus.Applied] = "applied",
        [TransferStatus.FeeCapBelowBaseFee] = "fee-cap-below-base-fee",
        [TransferStatus.NonceMismatch] = "nonce-mismatch",
        [TransferStatus.InsufficientBalance] = "insufficient-balance",
    };

    public static string StatusName(TransferStatus status) => StatusNames[status];

    // ---------------------------------------------------------------- writing

    public static byte[] ToUtf8(BatchWitness witness, RollupHasher? hasher = null, bool indented = false)
    {
        using var ms = new MemoryStream();
        Write(witness, ms, hasher, indented);
        return ms.ToArray();
    }

    public static string ToJson(BatchWitness witness, RollupHasher? hasher = null, bool indented = false) =>
        System.Text.Encoding.UTF8.GetString(ToUtf8(witness, hasher, indented));

    public static void Write(BatchWitness witness, Stream output, RollupHasher? hasher = null, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(witness);
        ArgumentNullException.ThrowIfNull(output);
        hasher ??= RollupHasher.Shared;
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented, SkipValidation = false });
        var p = witness.Parameters;
        w.WriteStartObject();
        w.WriteString("format", FormatName);
        w.WriteNumber("version", BatchWitness.FormatVersion);
        w.WriteString("chainId", Quantity(p.ChainId));
        w.WriteString("baseFeePerGas", Quantity(p.BaseFeePerGas));
        w.WriteString("feeRecipient", p.FeeRecipient.ToString());
        w.WriteString("preStateRoot", witness.PreStateRoot.ToString());
        w.WriteStartArray("transfers");
        foreach (var t in witness.Transfers)
        {
            var tx = t.Transfer;
            w.WriteStartObject();
            w.WriteNumber("type", tx.Type);
            w.WriteString("hash", tx.Hash.ToString());
            w.WriteString("from", tx.From.ToString());
            w.WriteString("to", tx.To.ToString());
            w.WriteString("value", Quantity(tx.Value));
            w.WriteString("nonce", Quantity(tx.Nonce));
            w.WriteString("maxFeePerGas", Quantity(tx.MaxFeePerGas));
            w.WriteString("maxPriorityFeePerGas", Quantity(tx.MaxPriorityFeePerGas));
            w.WriteString("gasLimit", Quantity(tx.GasLimit));
            w.WriteString("status", StatusNames[t.Status]);
            w.WriteString("effectiveGasPrice", Quantity(t.EffectiveGasPrice));
            w.WritePropertyName("sender");
            WriteOpening(w, t.Sender, hasher);
            w.WritePropertyName("receiver");
            if (t.Receiver is null)
                w.WriteNullValue();
            else
                WriteOpening(w, t.Receiver, hasher);
            w.WriteString("stateRootAfter", t.StateRootAfter.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WritePropertyName("feeRecipientUpdate");
        WriteOpening(w, witness.FeeRecipient.Opening, hasher, witness.FeeRecipient.Tips);
        w.WriteString("postStateRoot", witness.PostStateRoot.ToString());
        w.WriteString("batchCommitment", witness.BatchCommitment.ToString());
        w.WriteEndObject();
    }

    private static void WriteOpening(Utf8JsonWriter w, AccountOpening o, RollupHasher hasher, UInt128? tips = null)
    {
        w.WriteStartObject();
        w.WriteString("balance", Quantity(o.Before.Balance));
        w.WriteString("nonce", Quantity(o.Before.Nonce));
        if (tips is UInt128 t)
            w.WriteString("tips", Quantity(t));
        w.WriteStartArray("siblings");
        for (int level = 0; level < RollupHasher.TreeDepth; level++)
        {
            if (o.Path.IsEmptySibling(level))
                continue;
            w.WriteStartObject();
            w.WriteNumber("level", level);
            w.WriteString("node", o.Path[level].ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string Quantity(UInt128 v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- reading

    public static BatchWitness ReadFile(string path, RollupHasher? hasher = null)
    {
        FileInfo info;
        try
        {
            info = new FileInfo(path);
            if (!info.Exists)
                throw new WitnessFormatException($"Witness file '{path}' does not exist.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new WitnessFormatException($"Cannot open witness file '{path}': {e.Message}", e);
        }
        if (info.Length > MaxWitnessBytes)
            throw new WitnessFormatException($"Witness file '{path}' is {info.Length} bytes, above the limit of {MaxWitnessBytes}.");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WitnessFormatException($"Cannot read witness file '{path}': {e.Message}", e);
        }
        return Parse(bytes, hasher);
    }

    public static BatchWitness Parse(string json, RollupHasher? hasher = null) =>
        Parse(System.Text.Encoding.UTF8.GetBytes(json), hasher);

    public static BatchWitness Parse(ReadOnlyMemory<byte> utf8, RollupHasher? hasher = null)
    {
        hasher ??= RollupHasher.Shared;
        if (utf8.Length > MaxWitnessBytes)
            throw new WitnessFormatException($"Witness is {utf8.Length} bytes, above the limit of {MaxWitnessBytes}.");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw new WitnessFormatException($"Witness is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = Object(doc.RootElement, "witness");
            if (String(root, "format") != FormatName)
                throw new WitnessFormatException($"Not a {FormatName} file.");
            var version = Prop(root, "version");
            if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int v) || v != BatchWitness.FormatVersion)
                throw new WitnessFormatException($"Unsupported witness version {version}; this build reads version {BatchWitness.FormatVersion}.");

            var parameters = new RollupParameters(
                U64(root, "chainId"),
                U128(root, "baseFeePerGas"),
                AddressField(root, "feeRecipient"));
            var transfersJson = Prop(root, "transfers");
            if (transfersJson.ValueKind != JsonValueKind.Array)
                throw new WitnessFormatException("'transfers' must be an array.");
            int count = transfersJson.GetArrayLength();
            if (count > BatchCommitment.MaxTransfers)
                throw new WitnessFormatException($"{count} transfers, above the limit of {BatchCommitment.MaxTransfers}.");
            var transfers = new List<TransferWitness>(count);
            int index = 0;
            foreach (var t in transfersJson.EnumerateArray())
            {
                transfers.Add(ReadTransfer(Object(t, $"transfers[{index}]"), parameters.ChainId, hasher, index));
                index++;
            }
            var feeJson = Object(Prop(root, "feeRecipientUpdate"), "feeRecipientUpdate");
            var fee = new FeeRecipientWitness(ReadOpening(feeJson, hasher, "feeRecipientUpdate"), U128(feeJson, "tips"));
            return new BatchWitness(parameters, DigestField(root, "preStateRoot"), transfers, fee,
                DigestField(root, "postStateRoot"), DigestField(root, "batchCommitment"));
        }
    }

    private static TransferWitness ReadTransfer(JsonElement t, ulong chainId, RollupHasher hasher, int index)
    {
        string where = $"transfers[{index}]";
        var typeElement = Prop(t, "type", where);
        if (typeElement.ValueKind != JsonValueKind.Number || !typeElement.TryGetByte(out byte type))
            throw new WitnessFormatException($"{where}.type must be 0 or 2.");
        Transfer tx;
        try
        {
            tx = new Transfer(type, chainId,
                AddressField(t, "from", where), AddressField(t, "to", where),
                U128(t, "value", where), U64(t, "nonce", where),
                U128(t, "maxFeePerGas", where), U128(t, "maxPriorityFeePerGas", where),
                U64(t, "gasLimit", where), HashField(t, "hash", where));
        }
        catch (InvalidTransferException e)
        {
            throw new WitnessFormatException($"{where}: {e.Message}", e);
        }
        string statusText = String(t, "status", where);
        var status = StatusNames.FirstOrDefault(kv => kv.Value == statusText);
        if (status.Value is null)
            throw new WitnessFormatException($"{where}.status '{statusText}' is not one of {string.Join(", ", StatusNames.Values)}.");
        var sender = ReadOpening(Object(Prop(t, "sender", where), where + ".sender"), hasher, where + ".sender");
        var receiverJson = Prop(t, "receiver", where);
        AccountOpening? receiver = receiverJson.ValueKind == JsonValueKind.Null
            ? null
            : ReadOpening(Object(receiverJson, where + ".receiver"), hasher, where + ".receiver");
        return new TransferWitness(tx, status.Key, U128(t, "effectiveGasPrice", where), sender, receiver,
            DigestField(t, "stateRootAfter", where));
    }

    private static AccountOpening ReadOpening(JsonElement o, RollupHasher hasher, string where)
    {
        ulong nonce = U64(o, "nonce", where);
        if (nonce > Account.MaxNonce)
            throw new WitnessFormatException($"{where}.nonce {nonce} is above {Account.MaxNonce}.");
        var account = new Account(U128(o, "balance", where), nonce);
        var siblingsJson = Prop(o, "siblings", where);
        if (siblingsJson.ValueKind != JsonValueKind.Array)
            throw new WitnessFormatException($"{where}.siblings must be an array.");
        if (siblingsJson.GetArrayLength() > RollupHasher.TreeDepth)
            throw new WitnessFormatException($"{where}.siblings has more than {RollupHasher.TreeDepth} entries.");
        var siblings = new Digest[RollupHasher.TreeDepth];
        for (int level = 0; level < siblings.Length; level++)
            siblings[level] = hasher.EmptySubtree(level);
        int previous = -1;
        foreach (var s in siblingsJson.EnumerateArray())
        {
            var entry = Object(s, where + ".siblings[]");
            var levelElement = Prop(entry, "level", where + ".siblings[]");
            if (levelElement.ValueKind != JsonValueKind.Number || !levelElement.TryGetInt32(out int level)
                || level < 0 || level >= RollupHasher.TreeDepth)
                throw new WitnessFormatException($"{where}.siblings: level must be an integer in 0..{RollupHasher.TreeDepth - 1}.");
            if (level <= previous)
                throw new WitnessFormatException($"{where}.siblings: levels must be strictly increasing ({level} after {previous}).");
            previous = level;
            siblings[level] = DigestField(entry, "node", where + ".siblings[]");
        }
        return new AccountOpening(account, new MerklePath(hasher, siblings));
    }

    private static JsonElement Object(JsonElement e, string where) =>
        e.ValueKind == JsonValueKind.Object ? e : throw new WitnessFormatException($"{where} must be a JSON object.");

    private static JsonElement Prop(JsonElement e, string name, string where = "witness") =>
        e.TryGetProperty(name, out var v) ? v : throw new WitnessFormatException($"{where}: missing field '{name}'.");

    private static string String(JsonElement e, string name, string where = "witness")
    {
        var v = Prop(e, name, where);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new WitnessFormatException($"{where}.{name} must be a string.");
    }

    private static UInt128 U128(JsonElement e, string name, string where = "witness")
    {
        string s = String(e, name, where);
        if (!TryParseQuantity(s, 32, out var value))
            throw new WitnessFormatException($"{where}.{name} '{Clip(s)}' is not a hex quantity below 2^128.");
        return value;
    }

    private static ulong U64(JsonElement e, string name, string where = "witness")
    {
        string s = String(e, name, where);
        if (!TryParseQuantity(s, 16, out var value))
            throw new WitnessFormatException($"{where}.{name} '{Clip(s)}' is not a hex quantity below 2^64.");
        return (ulong)value;
    }

    private static bool TryParseQuantity(string s, int maxDigits, out UInt128 value)
    {
        value = 0;
        if (s.Length < 3 || s.Length > 2 + maxDigits || s[0] != '0' || s[1] != 'x')
            return false;
        return UInt128.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static Address AddressField(JsonElement e, string name, string where = "witness")
    {
        string s = String(e, name, where);
        return Address.TryParse(s, out var a) ? a : throw new WitnessFormatException($"{where}.{name} '{Clip(s)}' is not an address (or has a wrong EIP-55 checksum).");
    }

    private static Hash32 HashField(JsonElement e, string name, string where)
    {
        string s = String(e, name, where);
        return Hash32.TryParse(s, out var h) ? h : throw new WitnessFormatException($"{where}.{name} '{Clip(s)}' is not a 32-byte hash.");
    }

    private static Digest DigestField(JsonElement e, string name, string where = "witness")
    {
        string s = String(e, name, where);
        return Digest.TryParse(s, out var d) ? d : throw new WitnessFormatException($"{where}.{name} '{Clip(s)}' is not a digest (0x + 64 hex digits, four canonical field elements).");
    }

    private static string Clip(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
