using System.Diagnostics.Metrics;
using Keel.Consensus.Ports;

namespace Keel.Consensus.Engine;

/// <summary>
/// Consensus metrics on System.Diagnostics.Metrics (meter "Keel.Consensus"), fed from the node's
/// events: rounds, round durations, timeouts, certificates, commits, equivocations and rejected
/// messages. The node's host exports the meter (Prometheus or OpenTelemetry); nothing here does I/O.
/// </summary>
public sealed class ConsensusMetrics : IConsensusObserver, IDisposable
{
    public const string MeterName = "Keel.Consensus";

    private readonly Meter _meter;
    private readonly IClock _clock;
    private readonly Counter<long> _rounds;
    private readonly Histogram<double> _roundDuration;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _qcs;
    private readonly Counter<long> _tcs;
    private readonly Counter<long> _commits;
    private readonly Counter<long> _equivocations;
    private readonly Counter<long> _rejected;
    private long _roundStartedMs = -1;
    private long _lastCommitRound;
    private long _currentRound;

    public ConsensusMetrics(IClock clock, IMeterFactory? meterFactory = null)
    {
        _clock = clock;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _rounds = _meter.CreateCounter<long>("keel_consensus_rounds_total", description: "rounds entered");
        _roundDuration = _meter.CreateHistogram<double>("keel_consensus_round_duration", unit: "ms", description: "time spent in each round");
        _timeouts = _meter.CreateCounter<long>("keel_consensus_timeouts_total", description: "timeouts signed or retransmitted by this node");
        _qcs = _meter.CreateCounter<long>("keel_consensus_qcs_formed_total", description: "QCs this node formed as next leader");
        _tcs = _meter.CreateCounter<long>("keel_consensus_tcs_formed_total", description: "TCs this node formed");
        _commits = _meter.CreateCounter<long>("keel_consensus_blocks_committed_total", description: "blocks committed");
        _equivocations = _meter.CreateCounter<long>("keel_consensus_equivocations_total", description: "equivocation evidence recorded");
        _rejected = _meter.CreateCounter<long>("keel_consensus_messages_rejected_total", description: "messages dropped as invalid");
        _meter.CreateObservableGauge("keel_consensus_rounds_since_commit", () => Math.Max(0, _currentRound - _lastCommitRound), description: "rounds since the last committed block's round");
        _meter.CreateObservableGauge("keel_consensus_round", () => _currentRound, description: "current round");
    }

    public void OnEvent(int validatorIndex, ConsensusEvent e)
    {
        switch (e)
        {
            case RoundEntered r:
                var now = _clock.NowMs;
                if (_roundStartedMs >= 0)
                {
                    _roundDuration.Record(now - _roundStartedMs);
                }
                _roundStartedMs = now;
                _currentRound = r.Round;
                _rounds.Add(1);
                break;
            case TimeoutSent:
                _timeouts.Add(1);
                break;
            case QcFormed:
                _qcs.Add(1);
                break;
            case TcFormed:
                _tcs.Add(1);
                break;
            case BlockCommitted c:
                _commits.Add(1);
                _lastCommitRound = c.Block.Round;
                break;
            case EquivocationDetected:
                _equivocations.Add(1);
                break;
            case MessageRejected:
                _rejected.Add(1);
                break;
        }
    }

    public void Dispose() => _meter.Dispose();
}
