using System.CommandLine;
using System.Diagnostics;
using Keel.Consensus;
using Keel.Consensus.Codec;
using Keel.Consensus.Crypto;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Consensus.Storage;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Node.Cli;

namespace Keel.Node.Bench;

/// <summary>
/// `keel bench consensus`: a whole committee in one process and one thread over an in-memory network,
/// with real secp256k1 signing and verification and every message encoded and decoded by the wire
/// codec. Two runs per configuration: one on the wall clock with zero network delay (throughput and
/// latency in ms are then pure processing cost), and one on virtual time with a constant one-way delay
/// and no processing cost (latency divided by that delay is the protocol's latency in message delays).
/// </summary>
internal static class ConsensusBench
{
    /// <summary>One-way delay of the virtual-time run.</summary>
    private const long VirtualDelayMs = 10;

    /// <summary>Virtual time each message-delay run covers.</summary>
    private const long VirtualRunMs = 2_000;

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "wall-clock seconds per configuration", DefaultValueFactory = _ => 3.0 };
        var command = new Command("consensus", "BFT consensus: commits/s and commit latency (ms and message delays), 4 and 7 validators, empty and 1 MB blocks.");
        command.Options.Add(seconds);
        command.SetAction(parse =>
        {
            var duration = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(seconds), 0.5, 600));
            var report = new BenchReport("consensus");
            var table = report.AddTable("consensus, one process, in-memory network, real secp256k1",
                "validators", "block bytes", "commits/s", "commits/CPU-s", "payload MB/s", "latency p50 ms", "latency p99 ms", "latency msg delays", "commits");
            foreach (var validators in new[] { 4, 7 })
            {
                foreach (var payload in new[] { 0, 1 << 20 })
                {
                    var real = new BenchCluster(validators, payload, virtualTime: false).Run(duration);
                    var virt = new BenchCluster(validators, payload, virtualTime: true).Run(TimeSpan.FromMilliseconds(VirtualRunMs));
                    var delays = virt.Latencies.Count == 0 ? double.NaN : virt.Latencies.Average() / VirtualDelayMs;
                    table.AddRow(validators, payload, real.CommitsPerSecond, real.CommitsPerCpuSecond, real.CommitsPerSecond * payload / 1e6,
                        Percentile(real.Latencies, 0.50), Percentile(real.Latencies, 0.99), Math.Round(delays, 2), real.Commits);
                }
            }
            report.Notes.Add($"wall-clock runs: {duration.TotalSeconds:F1} s each, zero network delay, all validators on one thread (so commits/s is the whole committee's CPU cost, not one node's)");
            report.Notes.Add("each message is encoded once per send and decoded (block hash recomputed) per recipient; signatures are recoverable secp256k1 via libsecp256k1, verified by address recovery");
            report.Notes.Add($"latency: from the leader's proposal to each validator's commit, over all validators; message delays: the same cluster on virtual time with a constant {VirtualDelayMs} ms one-way delay and free processing, mean latency / {VirtualDelayMs} ms");
            report.Notes.Add("commits/CPU-s divides commits by the process's CPU time in the run (all threads, GC included): on a shared machine it is steadier than commits/s, which also counts time the process waited for a core");
            report.Notes.Add("the machine is shared with other work: expect noise between runs; compare rows of one run");
            return BenchCommands.Emit(parse, report);
        });
        return command;
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToList();
        return Math.Round(sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))], 2);
    }

    private sealed record Result(long Commits, double CommitsPerSecond, double CommitsPerCpuSecond, List<double> Latencies);

    private sealed class BenchCluster : IConsensusObserver
    {
        private const long EpochMs = 1_700_000_000_000;
        private const ulong NetworkId = 31_337;

        private readonly bool _virtual;
        private readonly ConsensusNode[] _nodes;
        private readonly long[] _wakeAt;
        private readonly PriorityQueue<(int To, int From, byte[] Bytes), (long Time, long Seq)> _queue = new();
        private readonly Dictionary<Hash32, long> _proposedAt = [];
        private readonly List<double> _latencies = [];
        private readonly Stopwatch _wall = new();
        private long _seq;
        private long _virtualNow;
        private long _commits;
        private long _firstCommitTicks = -1;
        private long _lastCommitTicks;

        public BenchCluster(int validators, int payloadBytes, bool virtualTime)
        {
            _virtual = virtualTime;
            var keys = Enumerable.Range(1, validators).Select(i => Keccak256.Hash(BitConverter.GetBytes(0xbe00 + i))).ToArray();
            var membership = StaticMembership.EqualStake(keys.Select(k => Address.FromPublicKey(Secp256k1.GetPublicKey(k))));
            var verifier = new Secp256k1SignatureVerifier(membership, NetworkId);
            var config = new ConsensusConfig
            {
                NetworkId = NetworkId,
                MinBlockIntervalMs = 0,
                MaxEmptyIntervalMs = 0,
                RoundTimeoutMs = 5_000,
                MaxRoundTimeoutMs = 20_000,
                // Blocks can come faster than one per millisecond here; timestamps then run ahead of the clock.
                MaxClockDriftMs = 60_000,
            };
            var payload = new byte[payloadBytes];
            new Random(1).NextBytes(payload);
            var genesis = Block.CreateGenesis(EpochMs - 1);
            _nodes = new ConsensusNode[validators];
            _wakeAt = new long[validators];
            Array.Fill(_wakeAt, long.MaxValue);
            for (var i = 0; i < validators; i++)
            {
                _nodes[i] = new ConsensusNode(config, membership, new Secp256k1ConsensusSigner(keys[i], i, NetworkId), verifier,
                    new Endpoint(this, i), new InMemoryConsensusStore { RetainCommittedBlocks = 16 }, new BenchApplication(payload),
                    new Clock(this, i), new DeterministicRandom((ulong)i), genesis, this);
            }
        }

        private long NowMs => _virtual ? EpochMs + _virtualNow : EpochMs + _wall.ElapsedMilliseconds;

        private long NowTicks => _virtual ? _virtualNow : Stopwatch.GetTimestamp();

        public Result Run(TimeSpan duration)
        {
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            _wall.Start();
            foreach (var node in _nodes)
            {
                node.Start();
            }
            var limitMs = (long)duration.TotalMilliseconds;
            var spin = new SpinWait();
            while (_virtual ? _virtualNow < limitMs : _wall.ElapsedMilliseconds < limitMs)
            {
                if (_virtual)
                {
                    StepVirtual();
                    continue;
                }
                var worked = false;
                if (_queue.TryDequeue(out var message, out _))
                {
                    Deliver(message);
                    worked = true;
                }
                worked |= FireDueTimers();
                if (!worked)
                {
                    spin.SpinOnce();
                }
            }
            double rate;
            if (_virtual)
            {
                rate = _commits * 1000.0 / limitMs;
            }
            else
            {
                var span = (_lastCommitTicks - _firstCommitTicks) / (double)Stopwatch.Frequency;
                rate = _commits > 1 && span > 0 ? (_commits - 1) / span : 0;
            }
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            return new Result(_commits, Math.Round(rate, 1), cpu > 0 ? Math.Round(_commits / cpu, 1) : double.NaN, _latencies);
        }

        private void StepVirtual()
        {
            var nextTimer = _wakeAt.Min();
            if (_queue.TryPeek(out var next, out var key) && EpochMs + key.Time <= nextTimer)
            {
                _queue.Dequeue();
                _virtualNow = Math.Max(_virtualNow, key.Time);
                Deliver(next);
                return;
            }
            if (nextTimer == long.MaxValue)
            {
                _virtualNow = long.MaxValue / 2; // nothing left to happen
                return;
            }
            _virtualNow = Math.Max(_virtualNow, nextTimer - EpochMs);
            FireDueTimers();
        }

        private bool FireDueTimers()
        {
            var now = NowMs;
            var fired = false;
            for (var i = 0; i < _nodes.Length; i++)
            {
                if (_wakeAt[i] <= now)
                {
                    _wakeAt[i] = long.MaxValue;
                    _nodes[i].Handle(TimerFired.Instance);
                    fired = true;
                }
            }
            return fired;
        }

        private void Deliver((int To, int From, byte[] Bytes) message)
        {
            var decoded = ConsensusCodec.Decode(message.Bytes);
            _nodes[message.To].Handle(ConsensusEvent.FromMessage(message.From, decoded));
        }

        private void Enqueue(int from, int to, byte[] bytes)
        {
            var time = _virtual ? _virtualNow + VirtualDelayMs : 0;
            _queue.Enqueue((to, from, bytes), (time, _seq++));
        }

        public void OnEvent(int validatorIndex, ConsensusEvent e)
        {
            switch (e)
            {
                case ProposalSent p:
                    _proposedAt[p.Proposal.Block.Hash] = NowTicks;
                    break;
                case BlockCommitted c when _proposedAt.TryGetValue(c.Block.Hash, out var at):
                    var elapsed = NowTicks - at;
                    _latencies.Add(_virtual ? elapsed : elapsed * 1000.0 / Stopwatch.Frequency);
                    if (validatorIndex == 0)
                    {
                        _commits++;
                        _lastCommitTicks = NowTicks;
                        if (_firstCommitTicks < 0)
                        {
                            _firstCommitTicks = _lastCommitTicks;
                        }
                    }
                    break;
            }
        }

        private sealed class Endpoint(BenchCluster cluster, int index) : IConsensusNetwork
        {
            public void Broadcast(ConsensusMessage message)
            {
                var bytes = ConsensusCodec.Encode(message);
                for (var i = 0; i < cluster._nodes.Length; i++)
                {
                    if (i != index)
                    {
                        cluster.Enqueue(index, i, bytes);
                    }
                }
            }

            public void Send(int validatorIndex, ConsensusMessage message) => cluster.Enqueue(index, validatorIndex, ConsensusCodec.Encode(message));
        }

        private sealed class Clock(BenchCluster cluster, int index) : IClock
        {
            public long NowMs => cluster.NowMs;

            public void WakeAt(long localTimeMs) => cluster._wakeAt[index] = Math.Min(cluster._wakeAt[index], localTimeMs);
        }

        private sealed class BenchApplication(byte[] payload) : IApplication
        {
            public bool HasPendingPayload => true;

            public ProposalContent PrepareProposal(ProposalContext context) => new([], payload);

            public bool ProcessProposal(Block block) => true;

            public void Commit(Block block, QuorumCertificate certificate)
            {
            }
        }
    }
}
