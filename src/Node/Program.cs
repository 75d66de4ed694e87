using System.CommandLine;
using System.Runtime.InteropServices;
using Keel.Node.Cli;

namespace Keel.Node;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var shutdown = new CancellationTokenSource();
        // The runtime's default on SIGTERM/SIGINT ends the process at once (exit 143/130),
        // mid-write. The first signal instead cancels the running command so it closes its
        // stores and sockets and returns its own exit code; a second signal ends it the default way.
        void Stop(PosixSignalContext context)
        {
            if (!shutdown.IsCancellationRequested)
            {
                context.Cancel = true;
                shutdown.Cancel();
            }
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
        return await KeelCli.Build().Parse(args).InvokeAsync(invocation, shutdown.Token).ConfigureAwait(false);
    }
}
