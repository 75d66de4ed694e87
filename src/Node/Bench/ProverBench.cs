using System.CommandLine;
using System.Diagnostics;
using Keel.Core;
using Keel.Node.Cli;
using Keel.Prover.Examples;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Verification;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench prover`: the CPU STARK prover on the Fibonacci AIR (2^16 to 2^20 rows) and a
/// Poseidon2 hash chain: prove time with its stages, verify time, proof size, security bits.
/// </summary>
internal static class ProverBench
{
    private static readonly Address BenchProver = Address.Parse("0x00000000000000000000000000000000000b3c4e");

    public static Command Create()
    {
        var minLog = new Option<int>("--min-log") { Description = "smallest Fibonacci trace, log2 rows (clamped to 3..22)", DefaultValueFactory = _ => 16 };
        var maxLog = new Option<int>("--max-log") { Description = "largest Fibonacci trace, log2 rows (at most 22)", DefaultValueFactory = _ => 20 };
        var chainLog = new Option<int>("--chain-log") { Description = "Poseidon2 chain: log2 permutations (32 rows each); 0 skips it", DefaultValueFactory = _ => 10 };
        var path = new Option<bool>("--update") { Description = "also prove one account-tree update (the transfer AIR's building block)", DefaultValueFactory = _ => true };
        var txs = new Option<string>("--txs") { Description = "transfer AIR: prove random batches of these sizes, comma separated (e.g. 16,64,256); empty skips it", DefaultValueFactory = _ => "1" };
        var only = new Option<bool>("--transfers-only") { Description = "skip the Fibonacci, chain and update rows (with --txs)" };
        var wideLog = new Option<int>("--wide-log") { Description = "also prove the synthetic wide AIR (degree-7 S-box per column) with 2^N rows (clamped to 3..20); 0 skips it", DefaultValueFactory = _ => 15 };
        var wideWidth = new Option<int>("--wide-width") { Description = "columns of the synthetic wide AIR (clamped to 1..its maximum)", DefaultValueFactory = _ => 400 };
        var warmUp = new Option<bool>("--warm-up") { Description = "prove each statement once before timing it, on the same backend (steady state: warm JIT and recycled buffers)", DefaultValueFactory = _ => false };
        var threads = new Option<int>("--threads") { Description = "prover threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var command = new Command("prover", "STARK prover and verifier on the Fibonacci, Poseidon2-chain, tree-update, wide synthetic and transfer AIRs: times by stage, proof sizes, security, proven transfers per second.");
        command.Options.Add(minLog);
        command.Options.Add(maxLog);
        command.Options.Add(chainLog);
        command.Options.Add(threads);
        command.Options.Add(path);
        command.Options.Add(txs);
        command.Options.Add(only);
        command.Options.Add(wideLog);
        command.Options.Add(wideWidth);
        command.Options.Add(warmUp);
        command.SetAction(parse =>
        {
            var lo = Math.Clamp(parse.GetValue(minLog), 3, 22);
            var hi = Math.Clamp(parse.GetValue(maxLog), lo, 22);
            var backend = new CpuBackend(parse.GetValue(threads));
            var warm = parse.GetValue(warmUp);
            var options = ProofOptions.Default;
            var report = new BenchReport("prover");
            var table = report.AddTable($"STARK prover, CPU backend ({backend.Parallelism} threads), blowup {options.Blowup}, {options.Queries} queries, {options.GrindingBits} grinding bits, FRI folding {options.FoldingFactor}",
                "air", "rows", "columns", "prove ms", "prove cpu s", "verify ms", "proof bytes", "security bits", "cpu");
            var stages = report.AddTable("Prove time by stage: wall ms / process CPU s", ["air", "rows", .. ProvingTimings.StageNames, "total"]);
            if (!TryParseSizes(parse.GetValue(txs), out var sizes))
            {
                Console.Error.WriteLine($"--txs: comma-separated batch sizes from 1 to {Keel.Prover.Transfer.TransferAir.MaxTransfers}");
                return 2;
            }
            var skipEngine = parse.GetValue(only);
            for (var log = lo; log <= hi && !skipEngine; log++)
            {
                var n = 1 << log;
                var (trace, result) = FibonacciAir.BuildTrace(n);
                Run(table, stages, backend, options, warm, new FibonacciAir(n, result), trace);
            }
            var chain = parse.GetValue(chainLog);
            if (chain > 0 && !skipEngine)
            {
                var permutations = 1 << Math.Clamp(chain, 0, 17);
                ulong[] input = [0, 1, 2, 3, 4, 5, 6, 7];
                var (trace, output) = Poseidon2ChainAir.BuildTrace(permutations, input);
                Run(table, stages, backend, options, warm, new Poseidon2ChainAir(permutations, input, output), trace);
            }
            if (parse.GetValue(path) && !skipEngine)
            {
                var (air, trace) = RandomUpdate(7);
                Run(table, stages, backend, options, warm, air, trace);
            }
            var wide = parse.GetValue(wideLog);
            if (wide > 0 && !skipEngine)
            {
                var rows = 1 << Math.Clamp(wide, 3, 20);
                var width = Math.Clamp(parse.GetValue(wideWidth), 1, WideSyntheticAir.MaxWidth);
                Run(table, stages, backend, options, warm, new WideSyntheticAir(rows, width), WideSyntheticAir.BuildTrace(rows, width));
            }
            if (sizes.Count > 0)
            {
                var batches = report.AddTable("Transfer AIR (transfer-batch-v2): random batches from the devnet genesis, seed 1",
                    "transfers", "rows", "columns", "trace ms", "prove s", "prove cpu s", "verify ms", "proof bytes", "security bits", "transfers/s", "transfers/cpu-s");
                foreach (var size in sizes)
                {
                    var batch = Keel.Rollup.Testing.RandomBatchGenerator.FromGenesis(size, 1);
                    var witness = new Keel.Rollup.Execution.BatchExecutor(batch.State).Execute(batch.Parameters, batch.Transfers).Witness;
                    var sw = Stopwatch.StartNew();
                    var (air, trace) = Keel.Prover.Transfer.TransferTraceBuilder.Build(witness);
                    var traceMs = sw.Elapsed.TotalMilliseconds;
                    var r = Run(table, stages, backend, options, warm, air, trace);
                    batches.AddRow(size, $"2^{System.Numerics.BitOperations.Log2((uint)air.TraceLength)}", air.TraceWidth, traceMs, r.ProveMs / 1000, r.CpuSeconds, r.VerifyMs, r.ProofBytes, r.SecurityBits,
                        size / (r.ProveMs / 1000), size / r.CpuSeconds);
                }
                report.Notes.Add("transfers/s = transfers / prove wall time (trace generation excluded, it is the trace ms column); transfers/cpu-s = transfers / CPU seconds the proof took on all threads");
            }
            report.Notes.Add(warm
                ? "one timed run per row after one untimed proof of the same statement on the same backend (warm JIT, recycled buffers); prove excludes trace generation; verify includes parsing the proof bytes"
                : "one run per row (no warm-up beyond the first row); prove excludes trace generation; verify includes parsing the proof bytes");
            report.Notes.Add("security: Winterfell's conjectured formula min(128 - log2(LDE size), 128, log2(blowup) * queries + grinding) - 1");
            report.Notes.Add("Winterfell publishes no Fibonacci timing; its README's nearest figure is the Rescue hash chain: 2^16 hashes = a 2^20-row x 4-column trace (128-bit field f128; hash and FRI options are not stated with the table) proved in 2.5 s at 96 bits and 4 s at 128 bits on an 8-core Intel Core i9-9980KH @ 2.4 GHz (README, commit 23bad0d). Compare with the 2^20-row Fibonacci row above only with the core count and field in mind");
            report.Notes.Add("cpu = process CPU time / (wall time x threads) while proving: well under 100% means other processes took the cores; prove cpu s = CPU time the proof consumed on all threads together");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    /// <summary>A 160-level update of random leaves along a random path (values do not matter for timing).</summary>
    private static (Keel.Prover.Transfer.MerklePathAir, ulong[][]) RandomUpdate(int seed)
    {
        var rng = new Random(seed);
        ulong Element() => Keel.Core.Field.Goldilocks.Canonicalize((ulong)rng.NextInt64());
        var bits = new byte[Keel.Prover.Transfer.MerklePathAir.Depth];
        var siblings = new ulong[bits.Length][];
        for (var h = 0; h < bits.Length; h++)
        {
            bits[h] = (byte)rng.Next(2);
            siblings[h] = [Element(), Element(), Element(), Element()];
        }
        var limbs = new ulong[Keel.Prover.Transfer.MerklePathAir.AddressLimbs];
        for (var h = 0; h < bits.Length; h++)
        {
            limbs[h / 32] |= (ulong)bits[h] << (h % 32);
        }
        ulong[] oldLeaf = [Element(), Element(), Element(), Element()];
        ulong[] newLeaf = [Element(), Element(), Element(), Element()];
        var (trace, roots) = Keel.Prover.Transfer.MerklePathAir.BuildTrace(bits, [oldLeaf, newLeaf], siblings);
        return (new Keel.Prover.Transfer.MerklePathAir(limbs, oldLeaf, roots[0], newLeaf, roots[1]), trace);
    }

    private static bool TryParseSizes(string? text, out List<int> sizes)
    {
        sizes = [];
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 1 || n > Keel.Prover.Transfer.TransferAir.MaxTransfers)
            {
                return false;
            }
            sizes.Add(n);
        }
        return true;
    }

    private readonly record struct RunResult(double ProveMs, double CpuSeconds, double VerifyMs, int ProofBytes, int SecurityBits);

    private static RunResult Run(BenchTable table, BenchTable stages, CpuBackend backend, ProofOptions options, bool warmUp, Keel.Prover.Air.IAir air, ulong[][] trace)
    {
        var prover = new StarkProver(backend);
        if (warmUp)
        {
            prover.Prove(air, trace, BenchProver, options);
        }
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var proof = prover.Prove(air, trace, BenchProver, options);
        var proveMs = sw.Elapsed.TotalMilliseconds;
        process.Refresh();
        var cpuSeconds = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        var cpu = cpuSeconds / sw.Elapsed.TotalSeconds / backend.Parallelism;
        var bytes = proof.ToBytes();
        sw.Restart();
        StarkVerifier.Verify(air, bytes, BenchProver);
        var verifyMs = sw.Elapsed.TotalMilliseconds;
        var ctx = new AirContext(air, options);
        var rows = $"2^{ctx.LogTraceLength}";
        table.AddRow(air.Name, rows, air.TraceWidth, proveMs, cpuSeconds, verifyMs, bytes.Length, ctx.SecurityBits, $"{cpu * 100:F0}%");
        var t = prover.LastTimings!;
        static string Cell(TimeSpan wall, TimeSpan cpu) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{wall.TotalMilliseconds:F0} / {cpu.TotalSeconds:F2}");
        stages.AddRow([air.Name, rows, .. t.Stages.Select(st => Cell(st.Wall, st.Cpu)), Cell(t.Total, t.TotalCpu)]);
        return new RunResult(proveMs, cpuSeconds, verifyMs, bytes.Length, ctx.SecurityBits);
    }
}
