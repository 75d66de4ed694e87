using System.Net;
using System.Net.Sockets;
using Keel.Node.Service;

namespace Keel.Node.Tests.Devnet;

/// <summary>Temporary directories, free loopback ports and the repository root for devnet tests.</summary>
internal static class DevnetHarness
{
    // Below Linux's ephemeral range (32768+), where outgoing connections would take ports from under us.
    private static int _nextBase = Random.Shared.Next(0, 12_000);

    /// <summary>A run of <paramref name="count"/> consecutive ports that were free a moment ago (bounded search).</summary>
    public static int ConsecutiveFreePorts(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var start = Interlocked.Add(ref _nextBase, count + 7) % 12_000 + 20_000;
            var listeners = new List<TcpListener>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var l = new TcpListener(IPAddress.Loopback, start + i);
                    l.Start();
                    listeners.Add(l);
                }
                return start;
            }
            catch (SocketException)
            {
            }
            finally
            {
                foreach (var l in listeners)
                {
                    l.Stop();
                }
            }
        }
        throw new InvalidOperationException("no run of free ports found");
    }

    public static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"keel-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Node.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("repository root (Node.sln) not found above the test directory");
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            }
            await Task.Delay(50);
        }
    }

    public static DevnetOptions Options(string dir, int validators = 4, bool processes = false, int? rpcPort = null) => new()
    {
        DataDir = dir,
        Validators = validators,
        P2pPort = ConsecutiveFreePorts(validators),
        RpcPort = rpcPort ?? 0,
        MetricsPort = processes ? ConsecutiveFreePorts(validators) : 0,
        Processes = processes,
        BlockTimeMs = 50,
    };
}
