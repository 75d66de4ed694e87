using System.Net;
using System.Net.Sockets;

namespace Keel.Node.Service;

/// <summary>Finds free loopback ports for throwaway devnets (benchmarks, tests): a bounded search, never a guarantee.</summary>
public static class LoopbackPorts
{
    public const int MaxAttempts = 200;
    private const int LowPort = 20_000;
    /// <summary>Stays below Linux's default ephemeral range (32768+), where outgoing connections take ports.</summary>
    private const int PortSpan = 12_000;

    /// <summary>A run of <paramref name="count"/> consecutive ports that were all free a moment ago.</summary>
    public static int FindConsecutiveFree(int count)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var start = LowPort + Random.Shared.Next(0, PortSpan - count);
            var listeners = new List<TcpListener>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, start + i);
                    listener.Start();
                    listeners.Add(listener);
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
        throw new NodeConfigException($"no run of {count} free loopback ports found in {MaxAttempts} attempts");
    }
}
