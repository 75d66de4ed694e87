using System.CommandLine;
using Keel.Node.Cli;

namespace Keel.Node.Tests.Cli;

/// <summary>Runs `keel ARGS` in process with its output and error text captured.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = KeelCli.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return new Result(exitCode, output.ToString(), error.ToString());
    }
}
