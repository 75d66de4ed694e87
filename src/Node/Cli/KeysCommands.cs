using System.CommandLine;
using Keel.Core;
using Keel.Node.Keys;

namespace Keel.Node.Cli;

/// <summary>`keel keys new|import|show`: the node's key file (see <see cref="KeyFile"/>).</summary>
internal static class KeysCommands
{
    public static Command Create()
    {
        var keys = new Command("keys", "Create, import and show node key files (JSON, mode 0600).");
        keys.Subcommands.Add(CreateNew());
        keys.Subcommands.Add(CreateImport());
        keys.Subcommands.Add(CreateShow());
        return keys;
    }

    private static Option<string> OutOption() => new("--out")
    {
        Description = "key file to write (created with mode 0600)",
        Required = true,
    };

    private static Option<bool> ForceOption() => new("--force")
    {
        Description = "replace the file if it exists",
    };

    private static Command CreateNew()
    {
        var output = OutOption();
        var force = ForceOption();
        var command = new Command("new", "Generate a new secp256k1 key and write a key file.");
        command.Options.Add(output);
        command.Options.Add(force);
        command.SetAction(parse => Run(parse, () =>
        {
            var key = KeyFile.Generate();
            P2pNodeKey.EnsurePresent(key);
            var path = parse.GetValue(output)!;
            key.Save(path, parse.GetValue(force));
            Describe(parse, key);
            parse.InvocationConfiguration.Output.WriteLine($"file: {path}");
        }));
        return command;
    }

    private static Command CreateImport()
    {
        var output = OutOption();
        var force = ForceOption();
        var privateKey = new Option<string>("--private-key")
        {
            Description = "the secp256k1 private key as 32 bytes of hex (0x optional); '-' reads it from standard input",
            Required = true,
        };
        var command = new Command("import", "Write a key file for an existing secp256k1 private key.");
        command.Options.Add(privateKey);
        command.Options.Add(output);
        command.Options.Add(force);
        command.SetAction(parse => Run(parse, () =>
        {
            var hex = parse.GetValue(privateKey)!;
            if (hex == "-")
            {
                // Keeps the key out of the process list and shell history.
                hex = Console.In.ReadLine() ?? "";
            }
            var key = KeyFile.FromPrivateKeyHex(hex);
            var path = parse.GetValue(output)!;
            key.Save(path, parse.GetValue(force));
            Describe(parse, key);
            parse.InvocationConfiguration.Output.WriteLine($"file: {path}");
        }));
        return command;
    }

    private static Command CreateShow()
    {
        var file = new Argument<string>("FILE") { Description = "key file to read" };
        var command = new Command("show", "Print the address and public key of a key file (never the private key).");
        command.Arguments.Add(file);
        command.SetAction(parse => Run(parse, () =>
        {
            var path = parse.GetValue(file)!;
            var key = KeyFile.Load(path);
            // Files from before the p2p node key get one, so that `show` always has a peer id.
            if (P2pNodeKey.EnsurePresent(key))
            {
                key.Save(path, overwrite: true);
            }
            Describe(parse, key);
        }));
        return command;
    }

    private static void Describe(ParseResult parse, KeyFile key)
    {
        var output = parse.InvocationConfiguration.Output;
        output.WriteLine($"address: {key.Address}");
        output.WriteLine($"public-key: {Hex.Encode(key.Secp256k1PublicKey(compressed: true))}");
        try
        {
            if (P2pNodeKey.Read(key) is { } nodeKey)
            {
                output.WriteLine($"peer-id: {nodeKey.PeerId}");
            }
        }
        catch (KeyFileException e)
        {
            // The account key is still shown; only the p2p identity is unusable.
            parse.InvocationConfiguration.Error.WriteLine($"warning: {e.Message}");
        }
    }

    /// <summary>Runs a command body; an expected failure is one line on stderr and exit code 1, never a stack trace.</summary>
    internal static int Run(ParseResult parse, Action body)
    {
        try
        {
            body();
            return 0;
        }
        catch (Exception e) when (e is KeyFileException or HexFormatException or Keel.Libp2p.MalformedDataException or NativeLibraryMissingException or IOException or UnauthorizedAccessException)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
