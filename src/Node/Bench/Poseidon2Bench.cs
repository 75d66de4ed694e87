using System.CommandLine;
using System.Diagnostics;
using Keel.Core.Hashing;
using Keel.Node.Cli;

namespace Keel.Node.Bench;

/// <summary>`keel bench poseidon2`: permutations per second for widths 8, 12 and 16, plus the compression and sponge built on them.</summary>
internal static class Poseidon2Bench
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "measuring time per row in seconds", DefaultValueFactory = _ => 1.0 };
        var command = new Command("poseidon2", "Poseidon2 (Goldilocks, Plonky3 >= 0.5 constants) permutations per second, one thread and all cores.");
        command.Options.Add(seconds);
        command.SetAction(parse =>
        {
            var budget = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(seconds), 0.05, 60));
            var cores = Environment.ProcessorCount;
            var report = new BenchReport("poseidon2");
            var table = report.AddTable("Poseidon2 over Goldilocks", "operation", "threads", "per second", "ns each", "cpu", "per cpu-second");
            var cases = new (string Name, Func<Action> Make)[]
            {
                ("permute width 8", () => { var s = new ulong[8]; return () => Poseidon2.Width8.Permute(s); }),
                ("permute width 12", () => { var s = new ulong[12]; return () => Poseidon2.Width12.Permute(s); }),
                ("permute width 16", () => { var s = new ulong[16]; return () => Poseidon2.Width16.Permute(s); }),
                ("compress 2x4 -> 4 (width 8)", () => { var l = new ulong[4]; var r = new ulong[4]; var o = new ulong[4]; return () => Poseidon2.Compress(l, r, o); }),
                ("sponge hash of 64 elements (width 12)", () => { var input = new ulong[64]; var d = new ulong[4]; return () => Poseidon2.Hash(input, d); }),
            };
            foreach (var (name, make) in cases)
            {
                foreach (var threads in cores > 1 ? new[] { 1, cores } : new[] { 1 })
                {
                    var (rate, cpu) = Measure(budget, threads, make);
                    table.AddRow(name, threads, rate, 1e9 / rate * threads, $"{cpu * 100:F0}%", rate / Math.Max(cpu * threads, 1e-9));
                }
            }
            report.Notes.Add("ns each is per call per thread; cpu = process CPU time / (wall time x threads): well under 100% means other processes took the cores; per cpu-second = calls per second of CPU time this process got, the figure least disturbed by a busy machine");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    /// <summary>Calls per second summed over <paramref name="threads"/> threads, each with its own state from <paramref name="make"/>.</summary>
    private static (double Rate, double Cpu) Measure(TimeSpan budget, int threads, Func<Action> make)
    {
        var warm = make();
        // Long enough for tiered compilation to reach optimized code (it waits ~100 ms after 30 calls).
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromMilliseconds(Math.Max(400, budget.TotalMilliseconds / 5)))
        {
            warm();
        }
        var counts = new long[threads];
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var action = make();
            long calls = 0;
            while (watch.Elapsed < budget)
            {
                for (var i = 0; i < 256; i++)
                {
                    action();
                }
                calls += 256;
            }
            counts[t] = calls;
        });
        var wall = watch.Elapsed;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart) / wall / threads;
        return (counts.Sum() / wall.TotalSeconds, cpu);
    }
}
