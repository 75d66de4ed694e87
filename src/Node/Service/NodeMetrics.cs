using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Keel.Node.Service;

/// <summary>
/// The node's instruments (meter <c>Keel.Node</c>): consensus, mempool and p2p read from the running
/// nodes at each scrape (tagged by validator), and the soft-finality histogram (submit → receipt)
/// observed as blocks commit. Several validators in one process (the devnet) each report their own series.
/// </summary>
public static class NodeMetrics
{
    public static readonly Meter Meter = new("Keel.Node");

    /// <summary>Seconds from eth_sendRawTransaction to the committed receipt on the node that accepted it.</summary>
    public static readonly Histogram<double> SoftFinality = Meter.CreateHistogram<double>(
        "keel.finality.soft", unit: "s", description: "Submit to soft finality (committed receipt), per transaction.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10] });

    private static readonly ConcurrentDictionary<SequencerNode, byte> Nodes = new();

    static NodeMetrics()
    {
        Meter.CreateObservableCounter("keel.consensus.rounds", () => Each(n => n.RoundsEntered), "{round}", "Rounds entered.");
        Meter.CreateObservableCounter("keel.consensus.votes", () => Each(n => n.VotesSent), "{vote}", "Votes sent.");
        Meter.CreateObservableCounter("keel.consensus.timeouts", () => Each(n => n.TimeoutsSent), "{timeout}", "Timeouts sent.");
        Meter.CreateObservableCounter("keel.consensus.commits", () => Each(n => n.Commits), "{block}", "Blocks committed.");
        Meter.CreateObservableCounter("keel.consensus.equivocations", () => Each(n => n.Equivocations), "{evidence}", "Equivocations detected.");
        Meter.CreateObservableGauge("keel.consensus.round", () => Each(n => n.Consensus?.CurrentRound ?? 0), "{round}", "Current round.");
        Meter.CreateObservableGauge("keel.consensus.height", () => Each(n => n.Consensus?.CommittedHeight ?? 0), "{block}", "Committed height.");
        Meter.CreateObservableGauge("keel.consensus.rounds_since_commit",
            () => Each(n => n.Consensus is { } c ? Math.Max(0, c.CurrentRound - c.CommittedRound) : 0), "{round}", "Rounds since the last commit.");
        Meter.CreateObservableCounter("keel.consensus.busy", () => Each(n => (long)(n.Driver?.BusyTime.TotalMilliseconds ?? 0)), "ms", "Time the consensus loop spent handling events.");
        Meter.CreateObservableGauge("keel.consensus.queue", () => Each(n => (long)(n.Driver?.QueuedEvents ?? 0)), "{event}", "Events waiting for the consensus loop.");
        Meter.CreateObservableCounter("keel.consensus.dropped_events", () => Each(n => n.Driver?.DroppedEvents ?? 0), "{event}", "Events dropped at a full consensus queue.");
        Meter.CreateObservableGauge("keel.mempool.size", MempoolSizes, "{tx}", "Transactions in the mempool, per chain.");
        Meter.CreateObservableGauge("keel.p2p.peers", () => Each(n => (long)(n.Network?.Host.ConnectedPeers.Count ?? 0)), "{peer}", "Connected libp2p peers.");
        Meter.CreateObservableCounter("keel.p2p.dropped_sends", () => Each(n => n.Network?.DroppedSends ?? 0), "{message}", "Consensus messages that could not be sent.");
        Meter.CreateObservableCounter("keel.p2p.rejected", () => Each(n => n.Network?.RejectedMessages ?? 0), "{message}", "Consensus messages refused (unknown sender or malformed).");
    }

    public static void Register(SequencerNode node) => Nodes.TryAdd(node, 0);

    public static void Unregister(SequencerNode node) => Nodes.TryRemove(node, out _);

    private static IEnumerable<Measurement<long>> Each(Func<SequencerNode, long> read) =>
        Nodes.Keys.Select(n => new Measurement<long>(read(n), new KeyValuePair<string, object?>("validator", n.ValidatorIndex)));

    private static IEnumerable<Measurement<long>> MempoolSizes()
    {
        foreach (var node in Nodes.Keys)
        {

            foreach (var pool in node.Application.Mempools)
            {
                yield return new Measurement<long>(pool.Count,
                    new KeyValuePair<string, object?>("validator", node.ValidatorIndex),
                    new KeyValuePair<string, object?>("chain", pool.Config.ChainId));
            }
        }
    }
}
