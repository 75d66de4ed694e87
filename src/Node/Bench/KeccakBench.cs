using System.CommandLine;
using System.Diagnostics;
using Keel.Core.Crypto;
using Keel.Node.Cli;
using Org.BouncyCastle.Crypto.Digests;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench keccak`: Keel's Keccak-256 against BouncyCastle's KeccakDigest in the same run, on
/// 32-byte inputs (Merkle nodes, addresses: cost per call dominates) and 1 MiB inputs (payload
/// hashes: throughput of the permutation dominates). Single-threaded.
/// </summary>
internal static class KeccakBench
{
    private const int SmallInputBytes = 32;
    private const int LargeInputBytes = 1 << 20;

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds")
        {
            Description = "measuring time per row in seconds",
            DefaultValueFactory = _ => 1.0,
        };
        var command = new Command("keccak", "Keccak-256 throughput (32 B and 1 MiB inputs), with BouncyCastle for comparison.");
        command.Options.Add(seconds);
        command.SetAction(parse =>
        {
            var budget = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(seconds), 0.05, 60));
            var report = new BenchReport("keccak");
            var table = report.AddTable("Keccak-256, one thread", "implementation", "input", "hashes/s", "MB/s", "MB/cpu-s", "vs BouncyCastle", "cpu");
            foreach (var size in new[] { SmallInputBytes, LargeInputBytes })
            {
                var input = new byte[size];
                new Random(size).NextBytes(input);
                var output = new byte[Keccak256.HashSize];
                var digest = new KeccakDigest(256);

                var keel = Measure(budget, () => Keccak256.Hash(input, output));
                var bouncy = Measure(budget, () =>
                {
                    digest.BlockUpdate(input, 0, input.Length);
                    digest.DoFinal(output, 0);
                });
                var label = size == SmallInputBytes ? "32 B" : "1 MiB";
                table.AddRow("Keel Keccak256", label, keel.PerSecond, keel * size / 1e6, keel.PerCpuSecond * size / 1e6, $"{keel / bouncy:F2}x", keel.CpuText);
                table.AddRow("BouncyCastle KeccakDigest", label, bouncy.PerSecond, bouncy * size / 1e6, bouncy.PerCpuSecond * size / 1e6, "1.00x", bouncy.CpuText);
            }
            report.Notes.Add($"each row hashes the same input repeatedly for about {budget.TotalSeconds:F2} s after a warm-up; shared machines make single runs noisy, so compare rows of one run; cpu = process CPU time / wall time while measuring (well under 100% means the machine was busy and rates are low); MB/cpu-s divides by CPU time instead, an estimate for an idle core");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    /// <summary>One measurement: calls per wall-clock second, and the share of that time this process was on a CPU.</summary>
    internal readonly record struct Rate(double PerSecond, double CpuShare)
    {
        public static implicit operator double(Rate rate) => rate.PerSecond;

        /// <summary>"97%": well below 100% means other processes took the CPU and the rate is low by about that much.</summary>
        public string CpuText => $"{Math.Min(CpuShare, 9.99) * 100:F0}%";

        /// <summary>Calls per second of this process's CPU time: an estimate of the rate on an idle core.</summary>
        public double PerCpuSecond => CpuShare > 0 ? PerSecond / CpuShare : PerSecond;
    }

    /// <summary>Calls per second: a short warm-up (JIT tiering), then batches until the budget is spent.</summary>
    internal static Rate Measure(TimeSpan budget, Action action)
    {
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < budget / 5)
        {
            action();
        }
        long calls = 0;
        var batch = 1;
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < budget)
        {
            for (var i = 0; i < batch; i++)
            {
                action();
            }
            calls += batch;
            if (batch < 1 << 16)
            {
                batch *= 2;
            }
        }
        var wall = watch.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuStart;
        return new Rate(calls / wall.TotalSeconds, cpu / wall);
    }
}
