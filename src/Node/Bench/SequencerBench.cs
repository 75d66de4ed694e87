using System.CommandLine;
using System.Diagnostics;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Node.Cli;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Application;
using Keel.Sequencer.Availability;
using Keel.Sequencer.Namespaces;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench sequencer`: the consensus critical path of the sequencer for one block of N transfers
/// from N distinct senders: mempool admission, building the proposal, checking it as a validator
/// (with the transactions already in its mempool, as after gossip, and with an empty mempool, which
/// adds one signature recovery per transfer), the Poseidon2 batch commitment alone, and commit.
/// Single-threaded; the median of several fresh runs per row.
/// </summary>
internal static class SequencerBench
{
    private const ulong ChainId = 901;
    private const int Runs = 5;

    public static Command Create()
    {
        var transfers = new Option<int>("--transfers")
        {
            Description = "transfers per block",
            DefaultValueFactory = _ => 2_000,
        };
        var command = new Command("sequencer", "Sequencer critical path per block: admission, prepare, process (warm and cold mempool), commit.");
        command.Options.Add(transfers);
        command.SetAction(parse =>
        {
            var n = Math.Clamp(parse.GetValue(transfers), 1, 10_000);
            var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var report = new BenchReport("sequencer");
            var table = report.AddTable($"one block of {n} transfers (1 namespace, {n} senders), one thread (cold sender recovery: all cores), median of {Runs}", "step", "ms/block", "us/transfer", "transfers/s");
            var keys = Enumerable.Range(0, n).Select(i => Keccak256.Hash(BitConverter.GetBytes(i + 1))).ToArray();
            var senders = keys.Select(k => Address.FromPublicKey(Secp256k1.GetPublicKey(k))).ToArray();
            var genesisAccounts = new RollupGenesis(senders.Select(a => KeyValuePair.Create(a, (UInt128)1_000_000_000_000_000_000UL)));
            var raws = keys.Select((k, i) => TransactionSigner.Sign(new UnsignedTransaction(2, ChainId, 0, senders[(i + 1) % n], 1_000UL, 2_000_000_000UL, 1_000_000_000UL), k)).ToArray();
            var namespaces = new NamespaceSet([NamespaceConfig.Transfer(ChainId, Address.Zero) with { MaxTxsPerBlock = 10_000, MaxBlockBytes = 4 * 1024 * 1024 - 4096 }]);
            var genesis = Block.CreateGenesis(1_700_000_000_000);

            SequencerApplication NewApp(bool withMempool)
            {
                var app = new SequencerApplication(new SequencerOptions
                {
                    Namespaces = namespaces,
                    Genesis = genesis,
                    BlockStore = new InMemoryBlockStore(),
                    GenesisAccounts = new Dictionary<ulong, RollupGenesis> { [ChainId] = genesisAccounts },
                });
                if (withMempool)
                {
                    foreach (var raw in raws)
                    {
                        app.Submit(ChainId, raw);
                    }
                }
                return app;
            }

            Block Build(SequencerApplication app)
            {
                var content = app.PrepareProposal(new ProposalContext(genesis, 1, 1, genesis.TimestampMs + 100));
                return new Block(1, 1, genesis.Hash, genesis.TimestampMs + 100, Address.Zero, content.AppHeader, content.Payload);
            }

            var block = Build(NewApp(true));
            var admit = Median(() => NewApp(false), app => { foreach (var raw in raws) { app.Submit(ChainId, raw); } });
            var prepare = Median(() => NewApp(true), app => Build(app));
            var warm = Median(() => NewApp(true), app => Check(app.ProcessProposal(block)));
            var cold = Median(() => NewApp(false), app => Check(app.ProcessProposal(block)));
            var transfersDecoded = raws.Select(r => TransferDecoder.Decode(r, ChainId)).ToList();
            var commitment = Median(() => 0, _ => BatchCommitment.Compute(RollupHasher.Shared, namespaces[0].RollupParameters, transfersDecoded));
            var commit = Median(() => { var app = NewApp(true); Check(app.ProcessProposal(block)); return app; }, app => app.Commit(block, new QuorumCertificate(1, block.Hash, [1], [new byte[65]])));

            void Row(string step, double ms) => table.AddRow(step, $"{ms:F2}", $"{ms * 1000 / n:F1}", $"{n / (ms / 1000):F0}");
            Row("mempool admission (decode, recover sender, checks)", admit);
            Row("PrepareProposal (select, validate, commit, table)", prepare);
            Row("ProcessProposal, txs already in mempool", warm);
            Row("ProcessProposal, empty mempool (recovers senders)", cold);
            Row("  of which: Poseidon2 batch commitment", commitment);
            Row("Commit (store, state, mempool update)", commit);
            var cpuShare = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalMilliseconds / wall.Elapsed.TotalMilliseconds;
            report.Notes.Add($"block payload {block.Payload.Length} bytes; process CPU time / wall time over the run: {cpuShare * 100:F0}% (well under 100% means the machine was busy and the times are high by about that factor); compare rows of one run");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    private static void Check(bool accepted)
    {
        if (!accepted)
        {
            throw new InvalidOperationException("the benchmark block was refused");
        }
    }

    private static double Median<T>(Func<T> setup, Action<T> measured)
    {
        var times = new List<double>();
        for (var run = 0; run < Runs + 1; run++)
        {
            var state = setup();
            var watch = Stopwatch.StartNew();
            measured(state);
            if (run > 0)
            {
                times.Add(watch.Elapsed.TotalMilliseconds); // the first run warms the JIT
            }
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
