using System.CommandLine;
using System.Diagnostics;
using Keel.Core.Field;
using Keel.Node.Cli;
using Keel.Prover.Polynomials;

namespace Keel.Node.Bench;

/// <summary>`keel bench ntt`: forward and inverse NTT over Goldilocks, 2^16 to 2^22 points, one thread and all cores.</summary>
internal static class NttBench
{
    public const int MaxLogSize = 24;

    public static Command Create()
    {
        var minLog = new Option<int>("--min-log") { Description = "smallest size, log2", DefaultValueFactory = _ => 16 };
        var maxLog = new Option<int>("--max-log") { Description = $"largest size, log2 (at most {MaxLogSize})", DefaultValueFactory = _ => 22 };
        var repeat = new Option<int>("--repeat") { Description = "timed runs per row (the median is reported)", DefaultValueFactory = _ => 3 };
        var command = new Command("ntt", "NTT throughput over Goldilocks: forward and inverse, single- and multi-threaded.");
        command.Options.Add(minLog);
        command.Options.Add(maxLog);
        command.Options.Add(repeat);
        command.SetAction(parse =>
        {
            var lo = Math.Clamp(parse.GetValue(minLog), 1, MaxLogSize);
            var hi = Math.Clamp(parse.GetValue(maxLog), lo, MaxLogSize);
            var runs = Math.Clamp(parse.GetValue(repeat), 1, 100);
            var cores = Environment.ProcessorCount;
            var report = new BenchReport("ntt");
            var table = report.AddTable("Goldilocks NTT (radix-2, natural order in and out)", "size", "direction", "threads", "ms", "Melem/s", "speed-up", "cpu", "cpu ms");
            var rng = new Random(1);
            for (var log = lo; log <= hi; log++)
            {
                var n = 1 << log;
                var data = new ulong[n];
                for (var i = 0; i < n; i++)
                {
                    data[i] = Goldilocks.Canonicalize((ulong)rng.NextInt64());
                }
                foreach (var inverse in new[] { false, true })
                {
                    double single = 0;
                    foreach (var threads in cores > 1 ? new[] { 1, cores } : new[] { 1 })
                    {
                        var (ms, cpu) = Time(runs, threads, () =>
                        {
                            if (inverse)
                            {
                                Ntt.Inverse(data, threads);
                            }
                            else
                            {
                                Ntt.Forward(data, threads);
                            }
                        });
                        if (threads == 1)
                        {
                            single = ms;
                        }
                        table.AddRow($"2^{log}", inverse ? "inverse" : "forward", threads, ms, n / ms / 1e3, $"{single / ms:F2}x", $"{cpu * 100:F0}%", ms * cpu * threads);
                    }
                }
            }
            report.Notes.Add($"median of {runs} runs after a warm-up (two runs, 300 ms at least); cpu = process CPU time / (wall time x threads): well under 100% means other processes took the cores; cpu ms = CPU time one transform consumed (wall x cpu x threads), the figure least disturbed by a busy machine");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    /// <summary>Median wall milliseconds of <paramref name="runs"/> runs after a warm-up, and the CPU share per thread used.</summary>
    internal static (double Ms, double CpuShare) Time(int runs, int threads, Action action)
    {
        // Warm-up: at least two runs and 300 ms, so tiered compilation has produced optimized code.
        var warm = Stopwatch.StartNew();
        for (var w = 0; w < 2 || warm.ElapsedMilliseconds < 300; w++)
        {
            action();
        }
        var times = new double[runs];
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var total = Stopwatch.StartNew();
        for (var r = 0; r < runs; r++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[r] = sw.Elapsed.TotalMilliseconds;
        }
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart) / total.Elapsed / threads;
        Array.Sort(times);
        return (times[runs / 2], cpu);
    }
}
