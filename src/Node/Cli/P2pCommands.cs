using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Keel.Core;
using Keel.Libp2p;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Gossipsub;
using Keel.Libp2p.Host;
using Keel.Node.Keys;
using Microsoft.Extensions.Logging;

namespace Keel.Node.Cli;

/// <summary>
/// `keel p2p listen|publish|ping`: operator debugging over the real libp2p stack, so that a node
/// can be checked against any libp2p tool (js-libp2p, go-libp2p) from a shell.
/// </summary>
internal static class P2pCommands
{
    public const int DefaultPort = 30400;
    public const string DefaultNetwork = "devnet";
    public const int DefaultWaitMs = 20_000;

    public static Command Create()
    {
        var p2p = new Command("p2p", "libp2p debugging: listen for gossip, publish, ping (Noise, yamux, gossipsub v1.1).");
        p2p.Subcommands.Add(CreateListen());
        p2p.Subcommands.Add(CreatePublish());
        p2p.Subcommands.Add(CreatePing());
        return p2p;
    }

    private static Option<string?> KeyOption() => new("--key")
    {
        Description = "key file (from `keel keys new`) whose ed25519 node key is the peer identity; the key is added when missing. Without it, a fresh identity",
    };

    private static Option<string> NetworkOption() => new("--network")
    {
        Description = "network name used to expand short topics to /keel/<network>/<topic>/1",
        DefaultValueFactory = _ => DefaultNetwork,
    };

    private static Option<bool> VerboseOption() => new("--verbose")
    {
        Description = "log connection events and dropped input to standard error",
    };

    /// <summary>A topic starting with '/' is used as given; a short name becomes /keel/&lt;network&gt;/&lt;name&gt;/1.</summary>
    internal static string ExpandTopic(string topic, string network) =>
        topic.StartsWith('/') ? topic : Topics.Versioned(network, topic);

    private static Command CreateListen()
    {
        var port = new Option<int>("--port") { Description = "TCP port to listen on (0 picks a free one)", DefaultValueFactory = _ => DefaultPort };
        var host = new Option<string>("--host") { Description = "IP address to listen on", DefaultValueFactory = _ => "0.0.0.0" };
        var topics = new Option<string[]>("--topic") { Description = "topic to subscribe to (repeatable)", AllowMultipleArgumentsPerToken = false };
        var dial = new Option<string[]>("--dial") { Description = "peer multiaddr to stay connected to (repeatable)" };
        var key = KeyOption();
        var network = NetworkOption();
        var verbose = VerboseOption();
        var command = new Command("listen", "Listen for peers and print every gossip message received: `message <topic> <from> <data>`.");
        foreach (var o in new Option[] { port, host, topics, dial, key, network, verbose })
        {
            command.Options.Add(o);
        }
        command.SetAction(async (parse, ct) => await RunAsync(parse, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var identity = LoadIdentity(parse.GetValue(key));
            if (!IPAddress.TryParse(parse.GetValue(host), out var ip))
            {
                throw new ArgumentException($"--host is not an IP address: {parse.GetValue(host)}");
            }
            var listen = Multiaddr.FromEndPoint(new IPEndPoint(ip, parse.GetValue(port)));
            var statics = (parse.GetValue(dial) ?? []).Select(Multiaddr.Parse).ToList();
            using var loggers = CreateLoggers(parse.GetValue(verbose));
            await using var node = Libp2pHost.Create(new Libp2pHostOptions { Identity = identity, ListenAddresses = [listen], StaticPeers = statics }, loggers);
            await using var router = new GossipsubRouter(node);
            router.MessageReceived += m =>
                output.WriteLine($"message {m.Topic} {m.Author} {Encoding.UTF8.GetString(m.Data)}");
            await node.StartAsync(ct);
            foreach (var t in parse.GetValue(topics) ?? [])
            {
                await router.SubscribeAsync(ExpandTopic(t, parse.GetValue(network)!));
            }
            output.WriteLine($"peer-id: {node.PeerId}");
            foreach (var address in node.AdvertisedAddresses)
            {
                output.WriteLine($"listening: {address}");
            }
            output.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
        }));
        return command;
    }

    private static Command CreatePublish()
    {
        var dial = new Option<string>("--dial") { Description = "multiaddr of the peer to publish through", Required = true };
        var topic = new Option<string>("--topic") { Description = "topic to publish on", Required = true };
        var data = new Option<string>("--data") { Description = "message text (UTF-8)", Required = true };
        var wait = new Option<int>("--wait-ms") { Description = "how long to wait for the connection and the peer's subscription", DefaultValueFactory = _ => DefaultWaitMs };
        var key = KeyOption();
        var network = NetworkOption();
        var verbose = VerboseOption();
        var command = new Command("publish", "Connect, wait until the peer subscribes to the topic, publish one signed message, print `published`.");
        foreach (var o in new Option[] { dial, topic, data, wait, key, network, verbose })
        {
            command.Options.Add(o);
        }
        command.SetAction(async (parse, ct) => await RunAsync(parse, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var target = Multiaddr.Parse(parse.GetValue(dial)!);
            var fullTopic = ExpandTopic(parse.GetValue(topic)!, parse.GetValue(network)!);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(parse.GetValue(wait));
            using var loggers = CreateLoggers(parse.GetValue(verbose));
            await using var node = Libp2pHost.Create(new Libp2pHostOptions { Identity = LoadIdentity(parse.GetValue(key)) }, loggers);
            await using var router = new GossipsubRouter(node);
            await node.StartAsync(timeout.Token);
            try
            {
                await node.DialAsync(target, timeout.Token);
                await router.WaitForTopicPeerAsync(fullTopic, timeout.Token);
                var peers = await router.PublishAsync(fullTopic, Encoding.UTF8.GetBytes(parse.GetValue(data)!), timeout.Token);
                await router.FlushAsync(timeout.Token);
                output.WriteLine(peers > 0 ? "published" : "published to no peers");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new Libp2pException($"no peer subscribed to {fullTopic} within {parse.GetValue(wait)} ms");
            }
        }));
        return command;
    }

    private static Command CreatePing()
    {
        var address = new Argument<string>("MULTIADDR") { Description = "peer to ping, e.g. /ip4/127.0.0.1/tcp/30400/p2p/12D3KooW..." };
        var count = new Option<int>("--count") { Description = "number of pings", DefaultValueFactory = _ => 1 };
        var verbose = VerboseOption();
        var command = new Command("ping", "Connect and measure round trips with /ipfs/ping/1.0.0.");
        command.Arguments.Add(address);
        command.Options.Add(count);
        command.Options.Add(verbose);
        command.SetAction(async (parse, ct) => await RunAsync(parse, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var loggers = CreateLoggers(parse.GetValue(verbose));
            await using var node = Libp2pHost.Create(new Libp2pHostOptions { Identity = Ed25519IdentityKey.Generate() }, loggers);
            await node.StartAsync(ct);
            var connection = await node.DialAsync(Multiaddr.Parse(parse.GetValue(address)!), ct);
            output.WriteLine($"peer-id: {connection.RemotePeer}");
            for (var i = 0; i < Math.Max(1, parse.GetValue(count)); i++)
            {
                var rtt = await node.Ping.PingAsync(connection, ct);
                output.WriteLine($"ping: {rtt.TotalMilliseconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)} ms");
            }
        }));
        return command;
    }

    private static ILoggerFactory CreateLoggers(bool verbose) => LoggerFactory.Create(b => b
        .AddSimpleConsole(o => o.SingleLine = true)
        .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning)
        .Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    private static IdentityKey LoadIdentity(string? path) =>
        path is null ? Ed25519IdentityKey.Generate() : P2pNodeKey.LoadOrAdd(path).Key;

    private static async Task<int> RunAsync(ParseResult parse, Func<Task> body)
    {
        try
        {
            await body();
            return 0;
        }
        catch (Exception e) when (e is Libp2pException or KeyFileException or ArgumentException or IOException or SocketException or OperationCanceledException)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}

/// <summary>
/// The libp2p node key inside the node's key file: an <c>"ed25519"</c> field holding the 32-byte
/// seed as 0x-hex, next to the secp256k1 account key. Older files without it get one on first use.
/// </summary>
internal static class P2pNodeKey
{
    public const string Field = "ed25519";

    public static Ed25519IdentityKey? Read(KeyFile file)
    {
        if (file.OtherFields[Field] is not JsonValue value || !value.TryGetValue<string>(out var hex))
        {
            return null;
        }
        try
        {
            return Ed25519IdentityKey.FromSeed(Hex.Decode(hex));
        }
        catch (Exception e) when (e is HexFormatException or MalformedDataException)
        {
            throw new KeyFileException($"the \"{Field}\" node key is not a 32-byte hex seed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Adds a fresh node key to <paramref name="file"/> when the field is absent; true when it did.
    /// A malformed field is left as it is (it may be the operator's data); <see cref="Read"/> reports it.
    /// </summary>
    public static bool EnsurePresent(KeyFile file)
    {
        if (file.OtherFields.ContainsKey(Field))
        {
            return false;
        }
        file.OtherFields[Field] = Hex.Encode(Ed25519IdentityKey.Generate().Seed);
        return true;
    }

    /// <summary>Loads the key file at <paramref name="path"/>, adding and saving a node key when missing.</summary>
    public static (Ed25519IdentityKey Key, bool Added) LoadOrAdd(string path)
    {
        var file = KeyFile.Load(path);
        var added = EnsurePresent(file);
        if (added)
        {
            file.Save(path, overwrite: true);
        }
        return (Read(file)!, added);
    }
}
