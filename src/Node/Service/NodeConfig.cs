using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Core;
using Keel.Libp2p;

namespace Keel.Node.Service;

/// <summary>A configuration file or a set of options a node refuses, with what is wrong.</summary>
public sealed class NodeConfigException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One committee member as every node must know it: the signing address, its stake, and where its libp2p host is.</summary>
public sealed record ValidatorEntry(Address Address, long Stake, PeerId PeerId, Multiaddr P2pAddress);

/// <summary>
/// What one node runs with (<c>keel node --config FILE</c>, or built by <c>keel devnet</c>). The JSON
/// file form, with paths relative to the file:
/// <code>
/// { "network": "devnet", "networkId": 1, "keyFile": "node.key", "dataDir": "data",
///   "p2p": { "host": "127.0.0.1", "port": 30400 }, "bootnodes": [ "/ip4/…/tcp/…/p2p/…" ],
///   "rpc": { "port": 9545 }, "chains": [ 901, 902 ], "blockTimeMs": 50,
///   "validators": [ { "address": "0x…", "stake": 1, "peerId": "12D3…", "p2p": "/ip4/127.0.0.1/tcp/30400/p2p/12D3…" } ] }
/// </code>
/// </summary>
public sealed record NodeConfig
{
    public const int DefaultP2pPort = 30400;
    public const int DefaultRpcPort = 9545;
    public const int DefaultBlockTimeMs = 15;
    public const int DefaultMetricsPort = 9464;
    public const int DefaultMaxTxsPerBlock = 1_000;
    public const int MaxChains = 64;
    public const long MaxConfigFileBytes = 1024 * 1024;

    public string Network { get; init; } = "devnet";

    /// <summary>Signed into every consensus message: validators of different networks never accept each other's votes.</summary>
    public ulong NetworkId { get; init; } = 1;

    public required string KeyFile { get; init; }

    public required string DataDir { get; init; }

    public string P2pHost { get; init; } = "127.0.0.1";

    public int P2pPort { get; init; } = DefaultP2pPort;

    public IReadOnlyList<Multiaddr> Bootnodes { get; init; } = [];

    /// <summary>JSON-RPC port of the first chain (the next chains take the next ports); -1 serves no RPC.</summary>
    public int RpcPort { get; init; } = DefaultRpcPort;

    public IReadOnlyList<ulong> Chains { get; init; } = [901, 902];

    /// <summary>
    /// Transactions of one rollup in one block. Bounds the work of one round (every validator checks
    /// every transaction before voting), so a backlog drains in steady rounds instead of one block too
    /// large to check before the round times out. Every validator must use the same value.
    /// </summary>
    public int MaxTxsPerBlock { get; init; } = DefaultMaxTxsPerBlock;

    /// <summary>Run the rollup executor (Poseidon2 state tree, state roots) over committed blocks in the background.</summary>
    public bool Execute { get; init; } = true;

    /// <summary>A JSON file served as GET /devnet/info on the first RPC port (set by `keel devnet --processes` for validator 0).</summary>
    public string? DevnetInfoFile { get; init; }

    /// <summary>Prometheus port (GET /metrics); -1 serves none.</summary>
    public int MetricsPort { get; init; } = DefaultMetricsPort;

    /// <summary>Minimum interval between blocks (the consensus MinBlockIntervalMs).</summary>
    public int BlockTimeMs { get; init; } = DefaultBlockTimeMs;

    public required IReadOnlyList<ValidatorEntry> Validators { get; init; }

    /// <exception cref="NodeConfigException">a value is out of range</exception>
    public void Validate()
    {
        if (Chains.Count == 0 || Chains.Count > MaxChains || Chains.Distinct().Count() != Chains.Count || Chains.Contains(0UL))
        {
            throw new NodeConfigException($"chains must be 1..{MaxChains} distinct non-zero chain ids");
        }
        if (Validators.Count == 0)
        {
            throw new NodeConfigException("the validator set is empty");
        }
        if (P2pPort is < 0 or > 65535)
        {
            throw new NodeConfigException($"p2p port {P2pPort} is out of range");
        }
        if (RpcPort is < -1 or > 65535 || (RpcPort > 0 && RpcPort + Chains.Count - 1 > 65535))
        {
            throw new NodeConfigException($"rpc port {RpcPort} is out of range for {Chains.Count} chains");
        }
        if (MetricsPort is < -1 or > 65535)
        {
            throw new NodeConfigException($"metrics port {MetricsPort} is out of range");
        }
        if (MaxTxsPerBlock is < 1 or > 65_536)
        {
            throw new NodeConfigException($"maxTxsPerBlock {MaxTxsPerBlock} must be 1..65536");
        }
        if (BlockTimeMs is < 1 or > 60_000)
        {
            throw new NodeConfigException($"blockTimeMs {BlockTimeMs} must be 1..60000");
        }
        if (string.IsNullOrWhiteSpace(Network) || Network.Contains('/'))
        {
            throw new NodeConfigException($"network name '{Network}' must be non-empty and contain no '/'");
        }
    }

    /// <summary>
    /// The settings an operator may override without editing the file, by configuration path
    /// ("section:key"; as environment variables KEEL_p2p__port=30500, KEEL_dataDir=/var/lib/keel,
    /// names case-insensitive). Precedence: the file, then these, then flags such as --bootnodes.
    /// Lists (validators, bootnodes, chains) stay in the file: a flat variable cannot say them clearly.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, OverrideKind> Overridable = new Dictionary<string, OverrideKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["network"] = OverrideKind.Text,
        ["networkId"] = OverrideKind.Number,
        ["keyFile"] = OverrideKind.Text,
        ["dataDir"] = OverrideKind.Text,
        ["p2p:host"] = OverrideKind.Text,
        ["p2p:port"] = OverrideKind.Number,
        ["rpc:port"] = OverrideKind.Number,
        ["metrics:port"] = OverrideKind.Number,
        ["blockTimeMs"] = OverrideKind.Number,
        ["maxTxsPerBlock"] = OverrideKind.Number,
        ["execute"] = OverrideKind.Flag,
    };

    public enum OverrideKind
    {
        Text,
        Number,
        Flag,
    }

    /// <summary>Reads the file and applies <paramref name="overrides"/> (for <c>keel node</c>: the KEEL_ environment).</summary>
    public static NodeConfig Load(string path, Microsoft.Extensions.Configuration.IConfiguration? overrides)
    {
        var full = Path.GetFullPath(path);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(ReadConfigText(path, full)) as JsonObject ?? throw new NodeConfigException("the config must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new NodeConfigException($"config file {path} is not valid JSON: {e.Message}", e);
        }
        if (overrides is not null)
        {
            ApplyOverrides(root, overrides);
        }
        return Parse(root.ToJsonString(), Path.GetDirectoryName(full)!);
    }

    private static void ApplyOverrides(JsonObject root, Microsoft.Extensions.Configuration.IConfiguration overrides)
    {
        foreach (var (path, kind) in Overridable)
        {
            if (overrides[path] is not { } text)
            {
                continue;
            }
            JsonNode value = kind switch
            {
                OverrideKind.Number when long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) => n,
                OverrideKind.Flag when bool.TryParse(text, out var b) => b,
                OverrideKind.Text => text,
                _ => throw new NodeConfigException($"override {path} = '{text}' is not a {(kind == OverrideKind.Number ? "non-negative integer" : "true/false")}"),
            };
            var parts = path.Split(':');
            var parent = root;
            foreach (var section in parts[..^1])
            {
                var existing = parent.FirstOrDefault(kv => string.Equals(kv.Key, section, StringComparison.OrdinalIgnoreCase));
                if (existing.Value is JsonObject child)
                {
                    parent = child;
                }
                else
                {
                    var created = new JsonObject();
                    parent[existing.Key ?? section] = created;
                    parent = created;
                }
            }
            var key = parent.FirstOrDefault(kv => string.Equals(kv.Key, parts[^1], StringComparison.OrdinalIgnoreCase)).Key ?? parts[^1];
            parent[key] = value;
        }
    }

    private static string ReadConfigText(string path, string full)
    {
        var info = new FileInfo(full);
        if (!info.Exists)
        {
            throw new NodeConfigException($"config file {path} does not exist");
        }
        if (info.Length > MaxConfigFileBytes)
        {
            throw new NodeConfigException($"config file {path} is larger than {MaxConfigFileBytes} bytes");
        }
        return File.ReadAllText(full);
    }

    public static NodeConfig Load(string path) => Load(path, overrides: null);

    public static NodeConfig Parse(string json, string baseDirectory)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? throw new NodeConfigException("the config must be a JSON object");
        string Resolve(string p) => Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(baseDirectory, p));
        var p2p = root["p2p"] as JsonObject;
        var rpc = root["rpc"] as JsonObject;
        var validators = root["validators"] as JsonArray ?? throw new NodeConfigException("validators (an array) is required");
        var config = new NodeConfig
        {
            Network = Str(root, "network") ?? "devnet",
            NetworkId = (ulong)(Num(root, "networkId") ?? 1),
            KeyFile = Resolve(Str(root, "keyFile") ?? throw new NodeConfigException("keyFile is required")),
            DataDir = Resolve(Str(root, "dataDir") ?? throw new NodeConfigException("dataDir is required")),
            P2pHost = (p2p is null ? null : Str(p2p, "host")) ?? "127.0.0.1",
            P2pPort = (int)((p2p is null ? null : Num(p2p, "port")) ?? DefaultP2pPort),
            RpcPort = (int)((rpc is null ? null : Num(rpc, "port")) ?? DefaultRpcPort),
            MetricsPort = (int)((root["metrics"] is JsonObject metrics ? Num(metrics, "port") : null) ?? DefaultMetricsPort),
            Bootnodes = [.. (root["bootnodes"] as JsonArray ?? []).Select(n => ParseAddress(n?.GetValue<string>(), "bootnode"))],
            Chains = root["chains"] is JsonArray chains ? [.. chains.Select(c => c!.GetValue<ulong>())] : [901UL, 902UL],
            BlockTimeMs = (int)(Num(root, "blockTimeMs") ?? DefaultBlockTimeMs),
            MaxTxsPerBlock = (int)(Num(root, "maxTxsPerBlock") ?? DefaultMaxTxsPerBlock),
            DevnetInfoFile = Str(root, "devnetInfoFile") is { } info ? Resolve(info) : null,
            Execute = root["execute"] is JsonValue execute ? execute.GetValue<bool>() : true,
            Validators = [.. validators.Select((v, i) => ParseValidator(v as JsonObject ?? throw new NodeConfigException($"validator {i} is not an object"), i))],
        };
        config.Validate();
        return config;
    }

    public JsonObject ToJson() => new()
    {
        ["network"] = Network,
        ["networkId"] = NetworkId,
        ["keyFile"] = KeyFile,
        ["dataDir"] = DataDir,
        ["p2p"] = new JsonObject { ["host"] = P2pHost, ["port"] = P2pPort },
        ["bootnodes"] = new JsonArray([.. Bootnodes.Select(b => (JsonNode)b.ToString())]),
        ["rpc"] = new JsonObject { ["port"] = RpcPort },
        ["metrics"] = new JsonObject { ["port"] = MetricsPort },
        ["chains"] = new JsonArray([.. Chains.Select(c => (JsonNode)c)]),
        ["blockTimeMs"] = BlockTimeMs,
        ["maxTxsPerBlock"] = MaxTxsPerBlock,
        ["devnetInfoFile"] = DevnetInfoFile,
        ["execute"] = Execute,
        ["validators"] = new JsonArray([.. Validators.Select(v => (JsonNode)new JsonObject
        {
            ["address"] = v.Address.ToString(),
            ["stake"] = v.Stake,
            ["peerId"] = v.PeerId.ToString(),
            ["p2p"] = v.P2pAddress.ToString(),
        })]),
    };

    private static ValidatorEntry ParseValidator(JsonObject o, int i)
    {
        var addressText = Str(o, "address") ?? throw new NodeConfigException($"validator {i}: address is required");
        if (!Address.TryParse(addressText, out var address))
        {
            throw new NodeConfigException($"validator {i}: '{addressText}' is not an address");
        }
        var peerText = Str(o, "peerId") ?? throw new NodeConfigException($"validator {i}: peerId is required");
        if (!PeerId.TryParse(peerText, out var peer) || peer is null)
        {
            throw new NodeConfigException($"validator {i}: '{peerText}' is not a peer id");
        }
        var p2p = ParseAddress(Str(o, "p2p"), $"validator {i} p2p");
        if (p2p.PeerId is null)
        {
            p2p = p2p.WithPeerId(peer);
        }
        return new ValidatorEntry(address, Num(o, "stake") ?? 1, peer, p2p);
    }

    private static Multiaddr ParseAddress(string? text, string what)
    {
        if (text is null || !Multiaddr.TryParse(text, out var address) || address is null)
        {
            throw new NodeConfigException($"{what}: '{text}' is not a multiaddr");
        }
        return address;
    }

    private static string? Str(JsonObject o, string name)
    {
        try
        {
            return o[name]?.GetValue<string>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new NodeConfigException($"{name} must be a string");
        }
    }

    private static long? Num(JsonObject o, string name)
    {
        try
        {
            return o[name]?.GetValue<long>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new NodeConfigException($"{name} must be an integer");
        }
    }
}
