using System.Diagnostics;
using System.Threading.Channels;

namespace Keel.Libp2p.Tests.Support;

/// <summary>
/// A js-libp2p peer (devnet/interop/peer.mjs) in a child process: stdout lines become events,
/// commands go in on stdin, and the process tree is always killed on dispose.
/// </summary>
public sealed class JsPeer : IAsyncDisposable
{
    public const int DefaultWaitMs = 20_000;
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _seen = [];

    private JsPeer(Process process)
    {
        _process = process;
    }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Node.sln")))
            {
                dir = dir.Parent;
            }
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Node.sln) above the test binaries");
        }
    }

    public static string Script
    {
        get
        {
            var script = Path.Combine(RepoRoot, "devnet", "interop", "peer.mjs");
            var modules = Path.Combine(RepoRoot, "devnet", "node_modules", "libp2p");
            if (!Directory.Exists(modules))
            {
                throw new InvalidOperationException("devnet/node_modules is missing: run devnet/setup.sh (tests/run.sh does)");
            }
            return script;
        }
    }

    public string PeerId { get; private set; } = "";
    public string ListenAddress { get; private set; } = "";
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }
    }

    public static async Task<JsPeer> StartAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Script)!,
        };
        psi.ArgumentList.Add(Script);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var peer = new JsPeer(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                peer._lines.Writer.TryComplete();
                return;
            }
            lock (peer._seen)
            {
                peer._seen.Add(e.Data);
            }
            peer._lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (peer._seen)
                {
                    peer._seen.Add("stderr: " + e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            peer.PeerId = (await peer.WaitForAsync("PEER ")).Split(' ')[1];
            peer.ListenAddress = (await peer.WaitForAsync("LISTEN ")).Split(' ')[1];
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
        return peer;
    }

    /// <summary>Waits for the next line starting with <paramref name="prefix"/> (earlier other lines are skipped).</summary>
    public async Task<string> WaitForAsync(string prefix, int timeoutMs = DefaultWaitMs)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token);
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
                if (line.StartsWith("ERROR", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"js peer: {line}\n{string.Join('\n', Output)}");
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"js peer printed no '{prefix}' within {timeoutMs} ms; output:\n{string.Join('\n', Output)}");
        }
    }

    public async Task SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            using var cts = new CancellationTokenSource(5_000);
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
        }
        _process.Dispose();
    }
}
