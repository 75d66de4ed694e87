using System.Text.Json.Nodes;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Libp2p;
using Keel.Node.Keys;
using Keel.Rollup.Genesis;

namespace Keel.Node.Service;

/// <summary>What <c>keel devnet</c> is asked for.</summary>
public sealed record DevnetOptions
{
    public const int MaxValidators = 64;

    public int Validators { get; init; } = 4;
    public IReadOnlyList<ulong> Rollups { get; init; } = [901, 902];
    public required string DataDir { get; init; }
    public int BlockTimeMs { get; init; } = NodeConfig.DefaultBlockTimeMs;
    public int RpcPort { get; init; } = NodeConfig.DefaultRpcPort;
    public int MetricsPort { get; init; } = NodeConfig.DefaultMetricsPort;
    public int P2pPort { get; init; } = NodeConfig.DefaultP2pPort;
    public string Network { get; init; } = "devnet";

    /// <summary>Separate processes: every validator serves its own RPC (ports spaced by the chain count) and metrics (consecutive).</summary>
    public bool Processes { get; init; }
}

/// <summary>
/// The files of a devnet under its data directory: <c>devnet.json</c> (the manifest) and one folder per
/// validator with its key file, its node config and its RocksDB directory. Created once; a later start
/// without --fresh reads them back, so the same keys resume the same chains.
/// </summary>
public static class DevnetLayout
{
    public const string ManifestFile = "devnet.json";

    /// <summary>The /devnet/info body a --processes devnet writes for validator 0 to serve.</summary>
    public const string InfoFile = "devnet-info.json";

    /// <summary>The private keys of the genesis-funded anvil accounts: printing them is what a devnet is for.</summary>
    public static IReadOnlyList<string> DevAccountKeys => RollupGenesis.AnvilDevKeys;

    /// <summary>The funded accounts whose keys derive to the rollup genesis addresses (all ten, unless the genesis changed).</summary>
    public static IReadOnlyList<(Address Address, string PrivateKey)> FundedAccounts()
    {
        var funded = RollupGenesis.Devnet().Allocations.Select(a => a.Key).ToHashSet();
        var result = new List<(Address, string)>();
        foreach (var key in DevAccountKeys)
        {
            var address = Address.FromPublicKey(Secp256k1.GetPublicKey(Hex.Decode(key)));
            if (funded.Contains(address))
            {
                result.Add((address, key));
            }
        }
        return result;
    }

    public static string ValidatorDir(string dataDir, int index) => Path.Combine(dataDir, $"validator-{index}");

    public static string ConfigPath(string dataDir, int index) => Path.Combine(ValidatorDir(dataDir, index), "node.json");

    /// <summary>
    /// Creates the devnet's files (fresh) or loads them (resume). A resume with a different validator
    /// count or rollup set is refused: those are fixed by the chains already committed.
    /// </summary>
    public static IReadOnlyList<NodeConfig> Prepare(DevnetOptions options, bool fresh)
    {
        if (options.Validators < 1 || options.Validators > DevnetOptions.MaxValidators)
        {
            throw new NodeConfigException($"--validators must be 1..{DevnetOptions.MaxValidators}");
        }
        var dataDir = Path.GetFullPath(options.DataDir);
        var manifest = Path.Combine(dataDir, ManifestFile);
        if (fresh && Directory.Exists(dataDir))
        {
            Directory.Delete(dataDir, recursive: true);
        }
        if (File.Exists(manifest))
        {
            var existing = Enumerable.Range(0, options.Validators).Select(i => NodeConfig.Load(ConfigPath(dataDir, i))).ToList();
            var first = existing[0];
            if (first.Validators.Count != options.Validators || !first.Chains.SequenceEqual(options.Rollups))
            {
                throw new NodeConfigException(
                    $"{dataDir} holds a devnet of {first.Validators.Count} validators and rollups {string.Join(",", first.Chains)}; start with --fresh to replace it");
            }
            return existing;
        }

        Directory.CreateDirectory(dataDir);
        var keys = new List<(KeyFile Key, PeerId Peer, string KeyPath)>();
        for (var i = 0; i < options.Validators; i++)
        {
            var dir = ValidatorDir(dataDir, i);
            Directory.CreateDirectory(dir);
            var key = KeyFile.Generate();
            Cli.P2pNodeKey.EnsurePresent(key);
            var keyPath = Path.Combine(dir, "node.key");
            key.Save(keyPath, overwrite: true);
            keys.Add((key, Cli.P2pNodeKey.Read(key)!.PeerId, keyPath));
        }
        var validators = keys.Select((k, i) => new ValidatorEntry(k.Key.Address, 1, k.Peer,
            Multiaddr.Parse($"/ip4/127.0.0.1/tcp/{options.P2pPort + i}/p2p/{k.Peer}"))).ToList();
        var configs = new List<NodeConfig>();
        for (var i = 0; i < options.Validators; i++)
        {
            var config = new NodeConfig
            {
                Network = options.Network,
                KeyFile = keys[i].KeyPath,
                DataDir = ValidatorDir(dataDir, i),
                P2pHost = "127.0.0.1",
                P2pPort = options.P2pPort + i,
                RpcPort = options.Processes || i == 0 ? options.RpcPort + i * options.Rollups.Count : -1,
                MetricsPort = options.Processes || i == 0 ? options.MetricsPort + i : -1,
                DevnetInfoFile = options.Processes && i == 0 ? Path.Combine(dataDir, InfoFile) : null,
                Chains = options.Rollups,
                BlockTimeMs = options.BlockTimeMs,
                Validators = validators,
            };
            config.Validate();
            File.WriteAllText(ConfigPath(dataDir, i), config.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            configs.Add(config);
        }
        File.WriteAllText(manifest, new JsonObject
        {
            ["network"] = options.Network,
            ["validators"] = options.Validators,
            ["rollups"] = new JsonArray([.. options.Rollups.Select(r => (JsonNode)r)]),
            ["processes"] = options.Processes,
        }.ToJsonString());
        return configs;
    }

    /// <summary>The body of GET /devnet/info.</summary>
    public static JsonObject Info(IReadOnlyList<NodeConfig> configs, IReadOnlyList<ChainEndpoint> rpc, Uri? metrics, string dataDir) => new()
    {
        ["network"] = configs[0].Network,
        ["dataDir"] = dataDir,
        ["rollups"] = new JsonArray([.. rpc.Select(r => (JsonNode)new JsonObject
        {
            ["chainId"] = r.ChainId,
            ["rpc"] = r.Http.ToString(),
            ["ws"] = r.WebSocket.ToString(),
        })]),
        ["validators"] = new JsonArray([.. configs[0].Validators.Select((v, i) => (JsonNode)new JsonObject
        {
            ["index"] = i,
            ["address"] = v.Address.ToString(),
            ["peerId"] = v.PeerId.ToString(),
            ["p2p"] = v.P2pAddress.ToString(),
            ["rpcPort"] = configs[i].RpcPort,
        })]),
        ["metrics"] = metrics?.ToString(),
        ["accounts"] = new JsonArray([.. FundedAccounts().Select(a => (JsonNode)new JsonObject
        {
            ["address"] = a.Address.ToString(),
            ["privateKey"] = a.PrivateKey,
        })]),
    };
}
