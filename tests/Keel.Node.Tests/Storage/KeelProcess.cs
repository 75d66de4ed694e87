using System.Diagnostics;

namespace Keel.Node.Tests.Storage;

/// <summary>Starts the real `keel` executable (built beside the tests) as a child process.</summary>
internal static class KeelProcess
{
    public static Process Start(params string[] arguments) => Start(new Dictionary<string, string>(), arguments);

    /// <summary>Starts keel with extra environment variables set for the child only.</summary>
    public static Process Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        // The dotnet host that runs the tests also runs keel.dll; `dotnet test` exports its path.
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath!
            : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "keel.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("could not start keel");
    }
}
