using System.CommandLine;
using System.Diagnostics;
using Keel.Libp2p;
using Keel.Node.Keys;
using Keel.Node.Service;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Cli;

/// <summary>`keel node --config FILE` (one validator as its own process) and `keel devnet` (a whole committee on loopback).</summary>
internal static class NodeCommands
{
    /// <summary>How long a child node gets to exit after the devnet parent asks it to stop.</summary>
    public const int ChildStopTimeoutMs = 10_000;

    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(CreateNode());
        root.Subcommands.Add(CreateDevnet());
    }

    private static Option<string> LogLevelOption() => new("--log-level")
    {
        Description = "console log level: trace, debug, information, warning, error",
        DefaultValueFactory = _ => "warning",
    };

    private static Command CreateNode()
    {
        var config = new Option<string>("--config") { Description = "node config file (JSON; see docs/operators.md)", Required = true };
        var bootnodes = new Option<string[]>("--bootnodes") { Description = "multiaddrs to dial at start (added to the config's)", AllowMultipleArgumentsPerToken = true };
        var logLevel = LogLevelOption();
        var parentPid = new Option<int?>("--parent-pid") { Description = "exit when this process is gone (set by `keel devnet --processes`)", Hidden = true };
        var command = new Command("node", "Run one validator or full node: consensus, sequencer, libp2p, RocksDB and the JSON-RPC servers of its chains.");
        command.Options.Add(config);
        command.Options.Add(bootnodes);
        command.Options.Add(logLevel);
        command.Options.Add(parentPid);
        command.SetAction(async (parse, ct) => await Guard(parse, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            // File, then KEEL_ environment variables (NodeConfig.Overridable), then flags.
            var environment = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
                .AddEnvironmentVariables(Keel.Node.Hosting.KeelHost.EnvironmentPrefix).Build();
            var loaded = NodeConfig.Load(parse.GetValue(config)!, environment);
            var extra = (parse.GetValue(bootnodes) ?? []).Select(ParseMultiaddr).ToList();
            loaded = loaded with { Bootnodes = [.. loaded.Bootnodes, .. extra] };
            var level = ParseLevel(parse.GetValue(logLevel)!);
            using var loggers = CreateLoggers(level);
            await using var node = new SequencerNode(loaded, loggers);
            await node.StartAsync(ct);
            Func<System.Text.Json.Nodes.JsonObject>? info = loaded.DevnetInfoFile is { } infoFile
                ? () => System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(infoFile)) as System.Text.Json.Nodes.JsonObject ?? []
                : null;
            await using var endpoints = await NodeEndpoints.StartAsync(node, loaded.RpcPort, loaded.MetricsPort, info, level, ct);
            output.WriteLine($"validator {node.ValidatorIndex} {node.Address} peer {node.PeerId}");
            foreach (var address in node.ListenAddresses)
            {
                output.WriteLine($"p2p: {(address.PeerId is null ? address.WithPeerId(node.PeerId!) : address)}");
            }
            foreach (var rpc in endpoints.Rpc)
            {
                output.WriteLine($"rpc chain {rpc.ChainId}: {rpc.Http} {rpc.WebSocket}");
            }
            if (endpoints.MetricsUri is { } metrics)
            {
                output.WriteLine($"metrics: {metrics}");
            }
            output.WriteLine("ready");
            output.Flush();
            using var orphaned = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (parse.GetValue(parentPid) is { } parent)
            {
                _ = WatchParentAsync(parent, orphaned);
            }
            await WaitForStop(orphaned.Token);
        }));
        return command;
    }

    /// <summary>How often a child node checks that the devnet that started it is still there.</summary>
    public const int ParentPollMs = 500;

    /// <summary>Stops a child node whose devnet parent is gone (even killed with SIGKILL, when no cleanup ran).</summary>
    private static async Task WatchParentAsync(int pid, CancellationTokenSource stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var parent = Process.GetProcessById(pid);
                if (parent.HasExited)
                {
                    break;
                }
            }
            catch (ArgumentException)
            {
                break; // no such process
            }
            await Task.Delay(ParentPollMs).ConfigureAwait(false);
        }
        stop.Cancel();
    }

    private static Command CreateDevnet()
    {
        var validators = new Option<int>("--validators") { Description = "validators in the committee", DefaultValueFactory = _ => 4 };
        var rollups = new Option<string>("--rollups") { Description = "comma-separated chain ids of the transfer rollups", DefaultValueFactory = _ => "901,902" };
        var dataDir = new Option<string>("--data-dir") { Description = "where keys, configs and databases live; a restart resumes from it", DefaultValueFactory = _ => Path.Combine(".data", "devnet") };
        var fresh = new Option<bool>("--fresh") { Description = "delete the data directory first and start new chains" };
        var blockTime = new Option<int>("--block-time") { Description = "minimum block interval in milliseconds", DefaultValueFactory = _ => NodeConfig.DefaultBlockTimeMs };
        var rpcPort = new Option<int>("--rpc-port") { Description = "JSON-RPC port of the first rollup (the next rollups take the next ports)", DefaultValueFactory = _ => NodeConfig.DefaultRpcPort };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Prometheus port", DefaultValueFactory = _ => NodeConfig.DefaultMetricsPort };
        var p2pPort = new Option<int>("--p2p-port") { Description = "libp2p port of the first validator (the next validators take the next ports)", DefaultValueFactory = _ => NodeConfig.DefaultP2pPort };
        var processes = new Option<bool>("--processes") { Description = "run every validator as its own `keel node` process (each serves its own RPC)" };
        var initOnly = new Option<bool>("--init-only") { Description = "write keys and configs, print the config paths, and exit" };
        var logLevel = LogLevelOption();
        var command = new Command("devnet", "Start a shared-sequencer devnet: N validators on loopback, transfer rollups with funded dev accounts, JSON-RPC per rollup.");
        foreach (var o in new Option[] { validators, rollups, dataDir, fresh, blockTime, rpcPort, metricsPort, p2pPort, processes, initOnly, logLevel })
        {
            command.Options.Add(o);
        }
        command.SetAction(async (parse, ct) => await Guard(parse, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = new DevnetOptions
            {
                Validators = parse.GetValue(validators),
                Rollups = ParseChains(parse.GetValue(rollups)!),
                DataDir = Path.GetFullPath(parse.GetValue(dataDir)!),
                BlockTimeMs = parse.GetValue(blockTime),
                RpcPort = parse.GetValue(rpcPort),
                MetricsPort = parse.GetValue(metricsPort),
                P2pPort = parse.GetValue(p2pPort),
                Processes = parse.GetValue(processes),
            };
            var configs = DevnetLayout.Prepare(options, parse.GetValue(fresh));
            if (parse.GetValue(initOnly))
            {
                for (var i = 0; i < configs.Count; i++)
                {
                    output.WriteLine($"config {i}: {DevnetLayout.ConfigPath(options.DataDir, i)}");
                }
                return;
            }
            var level = ParseLevel(parse.GetValue(logLevel)!);
            if (options.Processes)
            {
                await RunProcesses(options, configs, output, ct);
            }
            else
            {
                await RunInProcess(options, configs, level, output, ct);
            }
        }));
        return command;
    }

    private static async Task RunInProcess(DevnetOptions options, IReadOnlyList<NodeConfig> configs, LogLevel level, TextWriter output, CancellationToken ct)
    {
        using var loggers = CreateLoggers(level);
        var nodes = new List<SequencerNode>();
        NodeEndpoints? endpoints = null;
        try
        {
            foreach (var config in configs)
            {
                var node = new SequencerNode(config, loggers);
                nodes.Add(node);
                await node.StartAsync(ct);
            }
            IReadOnlyList<ChainEndpoint> rpc = [];
            Uri? metrics = null;
            endpoints = await NodeEndpoints.StartAsync(nodes[0], configs[0].RpcPort, configs[0].MetricsPort,
                () => DevnetLayout.Info(configs, rpc, metrics, options.DataDir), level, ct);
            rpc = endpoints.Rpc;
            metrics = endpoints.MetricsUri;
            PrintDevnet(output, configs, rpc, metrics, options.DataDir);
            await WaitForStop(ct);
        }
        finally
        {
            if (endpoints is not null)
            {
                await endpoints.DisposeAsync();
            }
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task RunProcesses(DevnetOptions options, IReadOnlyList<NodeConfig> configs, TextWriter output, CancellationToken ct)
    {
        var children = new List<Process>();
        void KillChildren()
        {
            foreach (var child in children.Where(c => !c.HasExited))
            {
                child.Kill(entireProcessTree: true);
            }
        }
        // SIGTERM/SIGINT end the parent quickly; the children go with it (they also watch the parent's pid).
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => KillChildren());
        using var onInt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, _ => KillChildren());
        try
        {
            var rpc = configs[0].Chains.Select((c, i) => new ChainEndpoint(c, new Uri($"http://127.0.0.1:{configs[0].RpcPort + i}/"), new Uri($"ws://127.0.0.1:{configs[0].RpcPort + i}/"))).ToList();
            var metrics = configs[0].MetricsPort >= 0 ? new Uri($"http://127.0.0.1:{configs[0].MetricsPort}/metrics") : null;
            if (configs[0].DevnetInfoFile is { } infoFile)
            {
                File.WriteAllText(infoFile, DevnetLayout.Info(configs, rpc, metrics, options.DataDir).ToJsonString());
            }
            for (var i = 0; i < configs.Count; i++)
            {
                var child = Process.Start(SelfStartInfo("node", "--config", DevnetLayout.ConfigPath(options.DataDir, i), "--parent-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                    ?? throw new NodeConfigException("could not start a node process");
                children.Add(child);
                output.WriteLine($"validator {i}: pid {child.Id}");
            }
            PrintDevnet(output, configs, rpc, metrics, options.DataDir);
            await Task.WhenAny(WaitForStop(ct), Task.WhenAll(children.Select(c => c.WaitForExitAsync(CancellationToken.None))));
        }
        finally
        {
            foreach (var child in children.Where(c => !c.HasExited))
            {
                child.Kill(entireProcessTree: true);
                child.WaitForExit(ChildStopTimeoutMs);
            }
        }
    }

    /// <summary>Starts this same executable (or `dotnet keel.dll` when run that way) with the given arguments.</summary>
    internal static ProcessStartInfo SelfStartInfo(params string[] args)
    {
        var info = new ProcessStartInfo { UseShellExecute = false };
        var processPath = Environment.ProcessPath ?? throw new NodeConfigException("cannot find this executable's path");
        info.FileName = processPath;
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            info.ArgumentList.Add(typeof(NodeCommands).Assembly.Location);
        }
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        return info;
    }

    private static void PrintDevnet(TextWriter output, IReadOnlyList<NodeConfig> configs, IReadOnlyList<ChainEndpoint> rpc, Uri? metrics, string dataDir)
    {
        output.WriteLine($"keel devnet: {configs.Count} validators, rollups {string.Join(", ", configs[0].Chains)}, data in {dataDir}");
        foreach (var r in rpc)
        {
            output.WriteLine($"  rollup {r.ChainId}: {r.Http}  {r.WebSocket}");
        }
        if (rpc.Count > 0)
        {
            output.WriteLine($"  info: {new Uri(rpc[0].Http, "/devnet/info")}");
        }
        if (metrics is not null)
        {
            output.WriteLine($"  metrics: {metrics}");
        }
        for (var i = 0; i < configs[0].Validators.Count; i++)
        {
            var v = configs[0].Validators[i];
            output.WriteLine($"  validator {i}: {v.Address} {v.P2pAddress}");
        }
        output.WriteLine("  funded accounts (10000 ETH on every rollup; public test keys, never use them elsewhere):");
        foreach (var (address, key) in DevnetLayout.FundedAccounts())
        {
            output.WriteLine($"    {address} {key}");
        }
        output.WriteLine("ready");
        output.Flush();
    }

    private static async Task WaitForStop(CancellationToken ct)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal static IReadOnlyList<ulong> ParseChains(string text)
    {
        var result = new List<ulong>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ulong.TryParse(part, out var id) || id == 0)
            {
                throw new NodeConfigException($"--rollups: '{part}' is not a chain id");
            }
            result.Add(id);
        }
        return result.Count > 0 ? result : throw new NodeConfigException("--rollups: give at least one chain id");
    }

    private static Multiaddr ParseMultiaddr(string text) =>
        Multiaddr.TryParse(text, out var address) && address is not null ? address : throw new NodeConfigException($"--bootnodes: '{text}' is not a multiaddr");

    private static LogLevel ParseLevel(string text) =>
        Enum.TryParse<LogLevel>(text, ignoreCase: true, out var level) ? level : throw new NodeConfigException($"--log-level: unknown level '{text}'");

    private static ILoggerFactory CreateLoggers(LogLevel level) => LoggerFactory.Create(b => b
        .SetMinimumLevel(level)
        .AddFilter("Microsoft", LogLevel.Warning)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        }));

    private static async Task<int> Guard(ParseResult parse, Func<Task> body)
    {
        try
        {
            await body();
            return 0;
        }
        catch (Exception e) when (e is NodeConfigException or KeyFileException or Libp2pException or IOException or System.Net.Sockets.SocketException
            or Keel.Consensus.ConsensusException or Keel.Sequencer.SequencerException or Keel.Core.Storage.StorageException)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
