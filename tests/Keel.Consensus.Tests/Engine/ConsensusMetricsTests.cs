using System.Diagnostics.Metrics;
using Keel.Consensus.Engine;

namespace Keel.Consensus.Tests.Engine;

public sealed class ConsensusMetricsTests
{
    [Fact]
    public void Events_feed_the_counters()
    {
        var clock = new ManualClock(1_000);
        using var metrics = new ConsensusMetrics(clock);
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ConsensusMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => seen[i.Name] = seen.GetValueOrDefault(i.Name) + v);
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => seen[i.Name] = v);
        listener.Start();

        metrics.OnEvent(0, new RoundEntered(1, 0));
        clock.NowMs += 250;
        metrics.OnEvent(0, new RoundEntered(2, 1));
        metrics.OnEvent(0, new MessageRejected(1, Keel.Consensus.Model.MessageType.Vote, "x"));
        listener.RecordObservableInstruments();

        Assert.Equal(2, seen["keel_consensus_rounds_total"]);
        Assert.Equal(250, seen["keel_consensus_round_duration"]);
        Assert.Equal(1, seen["keel_consensus_messages_rejected_total"]);
        Assert.Equal(2, seen["keel_consensus_round"]);
    }
}
