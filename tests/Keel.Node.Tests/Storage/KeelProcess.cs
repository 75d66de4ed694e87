using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Keel.Node.Tests.Storage;

/// <summary>Starts the real `keel` executable (built beside the tests) as a child process.</summary>
internal static partial class KeelProcess
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    /// <summary>Sends a POSIX signal (Process.Kill only sends SIGKILL, which tests no shutdown path).</summary>
    public static void Signal(Process process, int signal) =>
        Assert.True(Kill(process.Id, signal) == 0, $"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

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
