using Keel.Node.Tests.Storage;

namespace Keel.Node.Tests.Hosting;

/// <summary>
/// A long-running command stops cleanly (exit 0, its own shutdown path) on SIGTERM and SIGINT,
/// which is how service managers and Ctrl+C stop a node.
/// </summary>
public class ShutdownTests
{
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(KeelProcess.SigTerm)]
    [InlineData(KeelProcess.SigInt)]
    public async Task P2p_listen_exits_zero_on_a_termination_signal(int signal)
    {
        using var process = KeelProcess.Start("p2p", "listen", "--port", "0", "--host", "127.0.0.1", "--topic", "shutdown-test");
        try
        {
            using var started = new CancellationTokenSource(StartWait);
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(started.Token);
            }
            while (line is not null && !line.StartsWith("listening: ", StringComparison.Ordinal));
            Assert.NotNull(line);

            KeelProcess.Signal(process, signal);
            using var stopped = new CancellationTokenSource(StopWait);
            await process.WaitForExitAsync(stopped.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
