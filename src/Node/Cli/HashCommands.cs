using System.CommandLine;
using System.Text;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Node.Cli;

/// <summary>`keel hash ...`: hash functions on the command line; each hash is a subcommand.</summary>
internal static class HashCommands
{
    public static Command Create()
    {
        var hash = new Command("hash", "Hash text or hex bytes.");
        hash.Subcommands.Add(CreateKeccak());
        return hash;
    }

    private static Command CreateKeccak()
    {
        var text = new Argument<string?>("TEXT")
        {
            Description = "text to hash (its UTF-8 bytes)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var hex = new Option<string?>("--hex") { Description = "hash these bytes, given as hex (0x optional), instead of TEXT" };
        var command = new Command("keccak", "Keccak-256 (Ethereum's), printed as 0x-prefixed hex.");
        command.Arguments.Add(text);
        command.Options.Add(hex);
        command.SetAction(parse =>
        {
            var textValue = parse.GetValue(text);
            var hexValue = parse.GetValue(hex);
            if ((textValue is null) == (hexValue is null))
            {
                parse.InvocationConfiguration.Error.WriteLine("error: give either TEXT or --hex HEX (exactly one)");
                return 2;
            }
            return KeysCommands.Run(parse, () =>
            {
                var input = hexValue is not null ? Hex.Decode(hexValue) : Encoding.UTF8.GetBytes(textValue!);
                parse.InvocationConfiguration.Output.WriteLine(Keccak256.HashToHash32(input).ToString());
            });
        });
        return command;
    }
}
