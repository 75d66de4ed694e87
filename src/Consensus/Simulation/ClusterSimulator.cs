using Keel.Consensus.Codec;
using Keel.Consensus.Crypto;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Simulation;

/// <summary>One seeded scenario's parameters. The seed with these fields determines the whole run.</summary>
public sealed record SimulationOptions
{
    public int Validators { get; init; } = 4;
    public int Byzantine { get; init; }
    public FaultProfile Faults { get; init; } = FaultProfile.None;
    public ulong Seed { get; init; } = 1;

    /// <summary>Hard stop of one run in simulated time.</summary>
    public long MaxSimulatedMs { get; init; } = 240_000;

    /// <summary>How long the run continues after liveness was shown.</summary>
    public long TailMs { get; init; } = 5_000;

    /// <summary>
    /// Rounds after the faults heal within which every honest validator must commit a new block. A
    /// round-robin leader schedule with f Byzantine leaders, catch-up sync and the backed-off timeouts of
    /// the fault phase all fit well inside it; a run that needs more is reported as a liveness violation.
    /// 0 means the default, 2n + 10 (the most seen in 10,000 chaos seeds at n = 7 was 10).
    /// </summary>
    public int LivenessRoundBound { get; init; } = 0;

    internal SafetyRuleBreak BrokenRule { get; init; } = SafetyRuleBreak.None;

    /// <summary>Every 4th seed sends each message through the wire codec (encode, then decode per recipient).</summary>
    internal bool UsesWireCodec => Seed % 4 == 0;

    internal int EffectiveLivenessBound => LivenessRoundBound > 0 ? LivenessRoundBound : 2 * Validators + 10;
}

/// <summary>What one scenario produced.</summary>
public sealed record ScenarioResult(
    ulong Seed,
    int ViolationCount,
    IReadOnlyList<string> Violations,
    long CommitsMin,
    long CommitsMax,
    long SimulatedMs,
    long Events,
    long MessagesDelivered,
    int EquivocationsDetected,
    long RoundsToRecover,
    long Rounds,
    long TimeoutsSent,
    string Fingerprint,
    string Description);

/// <summary>
/// Runs a whole cluster in one thread on simulated time: a priority queue of message deliveries,
/// timer wake-ups, crashes, restarts and the heal, all drawn from one seed. Checkers run as it goes.
/// </summary>
public sealed class ClusterSimulator
{
    /// <summary>Local clocks start here (a plausible Unix time in ms) so that skew never goes negative.</summary>
    public const long EpochMs = 1_700_000_000_000;

    /// <summary>Events one run may process before it is stopped as runaway.</summary>
    public const long MaxEventsPerRun = 5_000_000;

    private readonly SimulationOptions _options;
    private readonly DeterministicRandom _random;
    private readonly FaultPlan _plan;
    private readonly SafetyChecker _checker = new();
    private readonly StaticMembership _membership;
    private readonly SimSignatureScheme _scheme;
    private readonly ConsensusConfig _config;
    private readonly Block _genesis = Block.CreateGenesis(EpochMs);
    private readonly PriorityQueue<SimEvent, (long Time, long Seq)> _queue = new();
    private readonly Instance[] _instances;
    private readonly int[,] _inFlight;
    private long _seq;
    private long _now;
    private long _events;
    private long _delivered;
    private int _evidence;
    private long _timeoutsSent;
    private long _heightAtHeal = -1;
    private long _roundAtHeal;
    private long _livenessMetAt = -1;
    private long _roundsToRecover = -1;

    public ClusterSimulator(SimulationOptions options)
    {
        if (options.Validators < 1 || options.Validators > 64)
        {
            throw new ConsensusConfigException("the simulator runs 1..64 validators");
        }
        if (options.Byzantine < 0 || options.Byzantine > options.Validators)
        {
            throw new ConsensusConfigException("byzantine must be between 0 and the number of validators");
        }
        _options = options;
        // Mix every parameter into the seed so that a replay needs the same command line, and two
        // profiles with one seed still differ.
        _random = new DeterministicRandom(options.Seed * 0x9E3779B97F4A7C15UL ^ ((ulong)options.Validators << 48) ^ ((ulong)options.Byzantine << 40) ^ ((ulong)options.Faults << 32));
        _plan = FaultPlan.Create(options.Faults, options.Validators, options.Byzantine, _random);
        var addresses = Enumerable.Range(0, options.Validators)
            .Select(i => Address.FromBytes(Keccak256.Hash(BitConverter.GetBytes(i))[..20]));
        _membership = StaticMembership.EqualStake(addresses);
        _scheme = new SimSignatureScheme(options.Seed, options.Validators, 1);
        _config = new ConsensusConfig
        {
            NetworkId = 1,
            MinBlockIntervalMs = 50,
            MaxEmptyIntervalMs = 400,
            PayloadPollIntervalMs = 50,
            RoundTimeoutMs = 1_000,
            MaxRoundTimeoutMs = 8_000,
            MaxClockDriftMs = 1_000,
            SyncRetryMs = 300,
            SyncServeIntervalMs = 5,
            BrokenRule = options.BrokenRule,
        };
        _instances = new Instance[_plan.Instances];
        _inFlight = new int[_plan.Instances, _plan.Instances];
        for (var i = 0; i < _plan.Instances; i++)
        {
            var validator = _plan.ValidatorOfInstance[i];
            var honest = _plan.IsHonest(i);
            var signer = _scheme.SignerFor(validator);
            _instances[i] = new Instance(this, i, validator, honest,
                honest ? new RecordingSigner(signer, _checker) : signer,
                new SimApplication(i, honest, _plan.PendingPayloadChance, _random.Fork((ulong)i), _checker),
                _random.Fork(1_000 + (ulong)i));
        }
    }

    public long NowMs => _now;

    public static ScenarioResult Run(SimulationOptions options) => new ClusterSimulator(options).Run();

    public ScenarioResult Run()
    {
        for (var i = 0; i < _instances.Length; i++)
        {
            Schedule(_random.NextLong(0, 100), new SimEvent(EventKind.Restart, i, 0, 0, null));
        }
        foreach (var crash in _plan.Crashes)
        {
            Schedule(crash.CrashAtMs, new SimEvent(EventKind.Crash, crash.Instance, 0, 0, null));
            Schedule(crash.RestartAtMs, new SimEvent(EventKind.Restart, crash.Instance, 0, 0, null));
        }
        Schedule(_plan.HealAtMs, new SimEvent(EventKind.Heal, 0, 0, 0, null));

        while (_queue.TryDequeue(out var e, out var key))
        {
            if (key.Time > _options.MaxSimulatedMs || ++_events > MaxEventsPerRun)
            {
                break;
            }
            _now = key.Time;
            Process(e);
            if (_livenessMetAt < 0 && _heightAtHeal >= 0)
            {
                CheckLiveness();
            }
            if (_livenessMetAt >= 0 && _now >= _livenessMetAt + _options.TailMs)
            {
                break;
            }
        }
        if (_livenessMetAt < 0)
        {
            _checker.Violation($"liveness: honest validators did not all commit a new block within {_now - _plan.HealAtMs} ms after the faults healed (heights {string.Join(",", HonestHeights())}, {_events} events)");
        }
        var chains = _instances.Where(x => x.Honest).Select(x => (x.Id, x.App.Chain)).ToList();
        _checker.CheckPrefixes(chains);
        var heights = HonestHeights().ToList();
        return new ScenarioResult(
            _options.Seed,
            _checker.ViolationCount,
            _checker.Violations,
            heights.Count == 0 ? 0 : heights.Min(),
            heights.Count == 0 ? 0 : heights.Max(),
            _now,
            _events,
            _delivered,
            _evidence,
            _roundsToRecover,
            MaxHonestRound(),
            _timeoutsSent,
            Fingerprint(chains),
            Describe());
    }

    private IEnumerable<long> HonestHeights() => _instances.Where(x => x.Honest).Select(x => (long)x.App.Chain.Count);

    private void CheckLiveness()
    {
        foreach (var x in _instances)
        {
            if (x.Honest && (x.Crashed || x.App.Chain.Count <= _heightAtHeal))
            {
                return;
            }
        }
        _livenessMetAt = _now;
        var round = MaxHonestRound();
        _roundsToRecover = round - _roundAtHeal;
        if (_roundsToRecover > _options.EffectiveLivenessBound)
        {
            _checker.Violation($"liveness: commits resumed only {_roundsToRecover} rounds after the heal (bound {_options.EffectiveLivenessBound})");
        }
    }

    private long MaxHonestRound()
    {
        long max = 0;
        foreach (var x in _instances)
        {
            if (x.Honest && x.Node is { } node)
            {
                max = Math.Max(max, node.CurrentRound);
            }
        }
        return max;
    }

    private void Process(SimEvent e)
    {
        var x = _instances[e.Instance];
        switch (e.Kind)
        {
            case EventKind.Deliver:
                _inFlight[e.Instance, e.From]--;
                if (x.Crashed || x.Node is null)
                {
                    return;
                }
                _delivered++;
                x.Deliver(ConsensusEvent.FromMessage(_plan.ValidatorOfInstance[e.From], e.Message!));
                break;
            case EventKind.Wake:
                if (!x.Crashed && x.Node is not null && e.Incarnation == x.Incarnation)
                {
                    x.Deliver(TimerFired.Instance);
                }
                break;
            case EventKind.Crash:
                x.Crash();
                break;
            case EventKind.Restart:
                if (x.Crashed)
                {
                    x.Start();
                }
                break;
            case EventKind.Heal:
                _heightAtHeal = HonestHeights().DefaultIfEmpty(0).Max();
                _roundAtHeal = MaxHonestRound();
                break;
        }
    }

    private void Schedule(long time, SimEvent e) => _queue.Enqueue(e, (time, _seq++));

    private void Transmit(int from, int to, ConsensusMessage message)
    {
        if (from == to || _plan.IsBlocked(from, to, _now))
        {
            return;
        }
        if (_options.UsesWireCodec)
        {
            try
            {
                message = ConsensusCodec.Decode(ConsensusCodec.Encode(message));
            }
            catch (InvalidConsensusMessageException e)
            {
                if (_plan.IsHonest(from))
                {
                    _checker.Violation($"instance {from} sent a message the codec refuses: {e.Message}");
                }
                return;
            }
        }
        var faulty = _now < _plan.HealAtMs;
        if (faulty && _plan.LossRate > 0 && _random.Chance(_plan.LossRate))
        {
            return;
        }
        var copies = faulty && _plan.DuplicateRate > 0 && _random.Chance(_plan.DuplicateRate) ? 2 : 1;
        for (var c = 0; c < copies; c++)
        {
            if (_inFlight[to, from] >= ConsensusLimits.MaxPendingMessagesPerPeer)
            {
                return; // the receiver's per-peer queue is full: drop, as a host would
            }
            var delay = (faulty ? _plan.FaultDelay : _plan.HealthyDelay).Sample(_random);
            if (faulty && _plan.ReorderRate > 0 && _random.Chance(_plan.ReorderRate))
            {
                delay += _random.NextLong(0, 300);
            }
            _inFlight[to, from]++;
            Schedule(_now + delay, new SimEvent(EventKind.Deliver, to, 0, from, message));
        }
    }

    private string Fingerprint(List<(int Id, IReadOnlyList<Hash32> Chain)> chains)
    {
        var hasher = new Keccak256Hasher();
        Span<byte> word = stackalloc byte[8];
        BitConverter.TryWriteBytes(word, _events);
        hasher.Update(word);
        foreach (var (_, chain) in chains)
        {
            BitConverter.TryWriteBytes(word, (long)chain.Count);
            hasher.Update(word);
            if (chain.Count > 0)
            {
                hasher.Update(chain[^1].Bytes);
            }
        }
        Span<byte> digest = stackalloc byte[32];
        hasher.Finish(digest);
        return Convert.ToHexString(digest[..8]).ToLowerInvariant();
    }

    private string Describe()
    {
        var byz = string.Join(",", _plan.Byzantine.OrderBy(kv => kv.Key).Select(kv => $"v{kv.Key}:{kv.Value}"));
        return $"heal@{_plan.HealAtMs}ms loss={_plan.LossRate:F2} dup={_plan.DuplicateRate:F2} partitions={_plan.Partitions.Count} crashes={_plan.Crashes.Count} byzantine=[{byz}]";
    }

    private enum EventKind : byte
    {
        Deliver,
        Wake,
        Crash,
        Restart,
        Heal,
    }

    private readonly record struct SimEvent(EventKind Kind, int Instance, int Incarnation, int From, ConsensusMessage? Message);

    /// <summary>One running copy of a validator (twins are two of these with one index).</summary>
    private sealed class Instance : IClock, IConsensusNetwork, IConsensusObserver
    {
        private readonly ClusterSimulator _sim;
        private readonly IConsensusSigner _signer;
        private readonly DeterministicRandom _random;
        private readonly SimStore _store = new();
        private readonly long _skewMs;
        private readonly int _driftPpm;
        private ByzantineNetwork? _byzantine;

        public Instance(ClusterSimulator sim, int id, int validator, bool honest, IConsensusSigner signer, SimApplication app, DeterministicRandom random)
        {
            _sim = sim;
            Id = id;
            Validator = validator;
            Honest = honest;
            _signer = signer;
            App = app;
            _random = random;
            _skewMs = sim._plan.SkewMs[id];
            _driftPpm = sim._plan.DriftPpm[id];
        }

        public int Id { get; }
        public int Validator { get; }
        public bool Honest { get; }
        public SimApplication App { get; }
        public ConsensusNode? Node { get; private set; }
        public bool Crashed { get; private set; } = true;
        public int Incarnation { get; private set; }

        public long NowMs => EpochMs + _skewMs + _sim._now + _sim._now * _driftPpm / 1_000_000;

        public void WakeAt(long localTimeMs)
        {
            // Invert the skewed clock, rounding up so the wake-up never lands before the asked local time.
            var target = localTimeMs - EpochMs - _skewMs;
            var sim = (long)Math.Ceiling(target * 1_000_000.0 / (1_000_000 + _driftPpm));
            while (sim + sim * _driftPpm / 1_000_000 < target)
            {
                sim++;
            }
            _sim.Schedule(Math.Max(sim, _sim._now), new SimEvent(EventKind.Wake, Id, Incarnation, 0, null));
        }

        public void Broadcast(ConsensusMessage message)
        {
            for (var i = 0; i < _sim._instances.Length; i++)
            {
                if (i != Id)
                {
                    _sim.Transmit(Id, i, message);
                }
            }
        }

        public void Send(int validatorIndex, ConsensusMessage message)
        {
            for (var i = 0; i < _sim._instances.Length; i++)
            {
                if (i != Id && _sim._plan.ValidatorOfInstance[i] == validatorIndex)
                {
                    _sim.Transmit(Id, i, message);
                }
            }
        }

        public void OnEvent(int validatorIndex, ConsensusEvent e)
        {
            if (e is EquivocationDetected && Honest)
            {
                _sim._evidence++;
            }
            else if (e is TimeoutSent && Honest)
            {
                _sim._timeoutsSent++;
            }
            _byzantine?.OnEvent(validatorIndex, e);
        }

        public void Start()
        {
            Crashed = false;
            Incarnation++;
            IConsensusNetwork network = this;
            _byzantine = null;
            if (_sim._plan.Byzantine.TryGetValue(Validator, out var behavior) && behavior != ByzantineBehavior.Twins)
            {
                _byzantine = new ByzantineNetwork(behavior, this, _signer, _sim._membership, QuorumCertificate.ForGenesis(_sim._genesis.Hash), _random.Fork(7));
                network = _byzantine;
            }
            Node = new ConsensusNode(_sim._config, _sim._membership, _signer, _sim._scheme, network, _store, App, this, _random.Fork((ulong)Incarnation), _sim._genesis, this);
            Run(() => Node.Start());
        }

        public void Crash()
        {
            if (Crashed)
            {
                return;
            }
            Crashed = true;
            Node = null;
            _store.Crash(_random);
        }

        public void Deliver(ConsensusEvent e) => Run(() => Node!.Handle(e));

        private void Run(Action action)
        {
            try
            {
                action();
            }
            catch (Exception ex) when (Honest)
            {
                _sim._checker.Violation($"instance {Id} (validator {Validator}) threw at {_sim._now} ms: {ex.GetType().Name}: {ex.Message}");
                Crash(); // a node that hit a broken invariant stops; the checker already recorded why
                Crashed = true;
            }
            catch (Exception)
            {
                // A Byzantine instance that tripped over its own forgeries just stops.
                Crash();
            }
        }
    }
}
