using System.Diagnostics;
using System.Threading.Channels;

namespace Keel.Libp2p.Interop;

/// <summary>
/// A js-libp2p peer (devnet/interop/peer.mjs, on the versions pinned in devnet/package.json) in a
/// child process: stdout lines become events, commands go in on stdin, and the process tree is
/// always killed on dispose. The interop tests and `keel bench p2p` drive it; it lives here so
/// that both use one driver.
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

    /// <summary>The repository root: the first directory above the working directory or the binaries that holds devnet/interop/peer.mjs.</summary>
    public static string RepoRoot
    {
        get
        {
            foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "devnet", "interop", "peer.mjs")))
                    {
                        return dir.FullName;
                    }
                }
            }
            throw new InvalidOperationException("cannot find devnet/interop/peer.mjs above the working directory or the binaries: run from the repository");
        }
    }

    public static string Script
    {
        get
        {
            var root = RepoRoot;
            if (!Directory.Exists(Path.Combine(root, "devnet", "node_modules", "libp2p")))
            {
                throw new InvalidOperationException("devnet/node_modules is missing: run devnet/setup.sh (tests/run.sh does)");
            }
            return Path.Combine(root, "devnet", "interop", "peer.mjs");
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

    /// <summary>CPU time the node process has used so far (benchmarks divide by it on busy machines).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
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
