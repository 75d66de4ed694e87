using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Keel.Core;
using Keel.Core.Field;
using Keel.Core.Hashing;
using Keel.Prover;
using Keel.Prover.Air;
using Keel.Prover.Examples;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Transfer;
using Keel.Prover.Verification;
using Keel.Rollup.Execution;
using Keel.Rollup.Testing;
using Keel.Rollup.Witness;

namespace Keel.Node.Cli;

/// <summary>`keel prove`, `keel verify` and `keel hash poseidon2`.</summary>
internal static class ProverCommands
{
    /// <summary>Exit codes of `keel verify`.</summary>
    public const int ExitValid = 0;
    public const int ExitRejected = 1;
    public const int ExitMalformed = 2;

    /// <summary>Bound on elements accepted by `keel hash poseidon2` for the sponge.</summary>
    public const int MaxHashInputElements = 1 << 16;

    /// <summary>Adds `prove` and `verify` to the root, and `poseidon2` under the existing `hash` command.</summary>
    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(CreateProve());
        root.Subcommands.Add(CreateVerify());
        var hash = root.Subcommands.FirstOrDefault(c => c.Name == "hash");
        if (hash is null)
        {
            hash = new Command("hash", "Hash functions.");
            root.Subcommands.Add(hash);
        }
        hash.Subcommands.Add(CreatePoseidon2Hash());
    }

    private static Command CreateProve()
    {
        var air = new Option<string>("--air") { Description = $"which AIR to prove: {string.Join(", ", AirCatalog.Names)}", DefaultValueFactory = _ => FibonacciAir.AirName };
        var rows = new Option<int>("--rows") { Description = "Fibonacci: trace rows (a power of two, 8 to 2^24)", DefaultValueFactory = _ => 1 << 16 };
        var permutations = new Option<int>("--permutations") { Description = "Poseidon2 chain: permutations (a power of two; 32 rows each)", DefaultValueFactory = _ => 64 };
        var prover = new Option<string>("--prover-address") { Description = "the prover's address, bound into the proof", Required = true };
        var output = new Option<string>("--out") { Description = "proof file to write", Required = true };
        var queries = new Option<int>("--queries") { Description = "FRI queries", DefaultValueFactory = _ => ProofOptions.Default.Queries };
        var blowup = new Option<int>("--log-blowup") { Description = "log2 of the LDE blowup", DefaultValueFactory = _ => ProofOptions.Default.LogBlowup };
        var grinding = new Option<int>("--grinding") { Description = "proof-of-work bits", DefaultValueFactory = _ => ProofOptions.Default.GrindingBits };
        var randomBatch = new Option<int?>("--random-batch") { Description = $"transfer AIR: prove N random transfers from the devnet genesis (1 to {TransferAir.MaxTransfers})" };
        var seed = new Option<int>("--seed") { Description = "transfer AIR: seed of --random-batch", DefaultValueFactory = _ => 1 };
        var witnessPath = new Option<string?>("--witness") { Description = "transfer AIR: prove a batch witness file (keel-transfer-witness JSON)" };
        var cmd = new Command("prove", "Prove an AIR and write a proof file: an example AIR, or the transfer AIR of a batch (--random-batch N or --witness FILE).");
        foreach (var o in new Option[] { air, rows, permutations, prover, output, queries, blowup, grinding, randomBatch, seed, witnessPath })
        {
            cmd.Options.Add(o);
        }
        cmd.SetAction(parse =>
        {
            try
            {
                var address = Address.Parse(parse.GetValue(prover)!);
                var options = new ProofOptions(parse.GetValue(blowup), parse.GetValue(queries), parse.GetValue(grinding));
                options.Validate();
                var name = parse.GetValue(air)!;
                IAir statement;
                ulong[][] trace;
                var sw = Stopwatch.StartNew();
                var batchSize = parse.GetValue(randomBatch);
                var witnessFile = parse.GetValue(witnessPath);
                if (batchSize is not null || witnessFile is not null)
                {
                    name = TransferAir.AirName;
                }
                switch (name)
                {
                    case TransferAir.AirName:
                    {
                        BatchWitness witness;
                        if (witnessFile is not null)
                        {
                            witness = WitnessSerializer.ReadFile(witnessFile);
                        }
                        else
                        {
                            var count = batchSize ?? 1;
                            if (count < 1 || count > TransferAir.MaxTransfers)
                            {
                                Console.Error.WriteLine($"--random-batch must be 1 to {TransferAir.MaxTransfers}");
                                return 2;
                            }
                            var batch = RandomBatchGenerator.FromGenesis(count, parse.GetValue(seed));
                            witness = new BatchExecutor(batch.State).Execute(batch.Parameters, batch.Transfers).Witness;
                        }
                        (var transferAir, trace) = TransferTraceBuilder.Build(witness);
                        statement = transferAir;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"batch: {transferAir.Statement.Count} transfers, pre-state root {witness.PreStateRoot}, post-state root {witness.PostStateRoot}, commitment {witness.BatchCommitment}"));
                        break;
                    }
                    case FibonacciAir.AirName or "fibonacci":
                    {
                        var n = parse.GetValue(rows);
                        if (n < 8 || n > 1 << AirContext.MaxLogTraceLength || (n & (n - 1)) != 0)
                        {
                            Console.Error.WriteLine($"--rows must be a power of two from 8 to 2^{AirContext.MaxLogTraceLength}");
                            return 2;
                        }
                        (trace, var result) = FibonacciAir.BuildTrace(n);
                        statement = new FibonacciAir(n, result);
                        break;
                    }
                    case Poseidon2ChainAir.AirName or "poseidon2-chain":
                    {
                        var p = parse.GetValue(permutations);
                        if (p < 1 || p > (1 << AirContext.MaxLogTraceLength) / Poseidon2ChainAir.CycleRows || (p & (p - 1)) != 0)
                        {
                            Console.Error.WriteLine("--permutations must be a power of two and at most 2^19");
                            return 2;
                        }
                        ulong[] input = [0, 1, 2, 3, 4, 5, 6, 7];
                        (trace, var output2) = Poseidon2ChainAir.BuildTrace(p, input);
                        statement = new Poseidon2ChainAir(p, input, output2);
                        break;
                    }
                    default:
                        Console.Error.WriteLine($"unknown AIR '{name}' (known: {string.Join(", ", AirCatalog.Names)})");
                        return 2;
                }
                var traceTime = sw.Elapsed;
                var ctx = new AirContext(statement, options);
                sw.Restart();
                var proof = new StarkProver().Prove(statement, trace, address, options).ToBytes();
                var proveTime = sw.Elapsed;
                var file = new ProofFile(statement.Name, statement.TraceLength, [.. statement.PublicInputs], address, proof);
                File.WriteAllBytes(parse.GetValue(output)!, file.ToBytes());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"proved {statement.Name}: {statement.TraceLength} rows x {statement.TraceWidth} columns, trace {traceTime.TotalMilliseconds:F0} ms, prove {proveTime.TotalMilliseconds:F0} ms"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"proof: {proof.Length} bytes, conjectured security {ctx.SecurityBits} bits (blowup {options.Blowup}, {options.Queries} queries, {options.GrindingBits} grinding bits), prover {address}"));
                return 0;
            }
            catch (Exception e) when (e is FormatException or ArgumentException or AirDefinitionException or TraceException or IOException or UnauthorizedAccessException
                or TransferWitnessException or Keel.Rollup.RollupException)
            {
                Console.Error.WriteLine($"prove failed: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }

    private static Command CreateVerify()
    {
        var proofPath = new Option<string>("--proof") { Description = "proof file written by `keel prove`", Required = true };
        var minSecurity = new Option<int>("--min-security") { Description = "reject proofs below this many bits of conjectured security", DefaultValueFactory = _ => StarkVerifier.DefaultMinSecurityBits };
        var cmd = new Command("verify", "Verify a proof file: prints `valid` (exit 0) or the reason (exit 1 rejected, 2 malformed).");
        cmd.Options.Add(proofPath);
        cmd.Options.Add(minSecurity);
        cmd.SetAction(parse =>
        {
            ProofFile file;
            IAir air;
            try
            {
                var info = new FileInfo(parse.GetValue(proofPath)!);
                if (!info.Exists)
                {
                    Console.Error.WriteLine($"invalid: no such file {info.FullName}");
                    return ExitMalformed;
                }
                if (info.Length > ProofFile.MaxFileBytes)
                {
                    Console.Error.WriteLine($"invalid: file of {info.Length} bytes exceeds {ProofFile.MaxFileBytes}");
                    return ExitMalformed;
                }
                file = ProofFile.FromBytes(File.ReadAllBytes(info.FullName));
                air = AirCatalog.Create(file.AirName, file.TraceLength, file.PublicInputs);
            }
            catch (Exception e) when (e is ProofFormatException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"invalid: malformed proof file: {e.Message}");
                return ExitMalformed;
            }
            try
            {
                var sw = Stopwatch.StartNew();
                var proof = StarkProof.FromBytes(file.Proof);
                StarkVerifier.Verify(air, proof, file.Prover, parse.GetValue(minSecurity));
                var ctx = new AirContext(air, proof.Options);
                Console.WriteLine("valid");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{file.AirName}: {file.TraceLength} rows, prover {file.Prover}, conjectured security {ctx.SecurityBits} bits, {file.Proof.Length} bytes, verified in {sw.Elapsed.TotalMilliseconds:F1} ms"));
                return ExitValid;
            }
            catch (ProofFormatException e)
            {
                Console.Error.WriteLine($"invalid: malformed proof: {e.Message}");
                return ExitMalformed;
            }
            catch (Exception e) when (e is ProofRejectedException or AirDefinitionException)
            {
                Console.Error.WriteLine($"invalid: {e.Message}");
                return ExitRejected;
            }
        });
        return cmd;
    }

    /// <summary>`keel hash poseidon2 --width 8|12 a,b,c,...`: the permuted state; `--sponge` hashes any number of elements instead.</summary>
    public static Command CreatePoseidon2Hash()
    {
        var width = new Option<int>("--width") { Description = "permutation width: 8 or 12 (16 also works)", DefaultValueFactory = _ => 12 };
        var sponge = new Option<bool>("--sponge") { Description = "hash any number of elements with the width-12 sponge (prints the 4-element digest)" };
        var input = new Argument<string>("elements") { Description = "comma-separated field elements (decimal or 0x hex), exactly --width of them unless --sponge" };
        var cmd = new Command("poseidon2", "Poseidon2 over Goldilocks (Plonky3 >= 0.5 constants): prints the permuted state, comma separated, decimal.");
        cmd.Options.Add(width);
        cmd.Options.Add(sponge);
        cmd.Arguments.Add(input);
        cmd.SetAction(parse =>
        {
            try
            {
                var parts = parse.GetValue(input)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length > MaxHashInputElements)
                {
                    Console.Error.WriteLine($"at most {MaxHashInputElements} elements");
                    return 2;
                }
                var values = parts.Select(p => Goldilocks.Parse(p).Value).ToArray();
                ulong[] result;
                if (parse.GetValue(sponge))
                {
                    result = Poseidon2.Hash(values);
                }
                else
                {
                    var w = parse.GetValue(width);
                    if (values.Length != w)
                    {
                        Console.Error.WriteLine($"width {w} needs exactly {w} elements, got {values.Length}");
                        return 2;
                    }
                    Poseidon2.ForWidth(w).Permute(values);
                    result = values;
                }
                Console.WriteLine(string.Join(",", result.Select(v => v.ToString(CultureInfo.InvariantCulture))));
                return 0;
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                Console.Error.WriteLine($"hash poseidon2: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }
}
