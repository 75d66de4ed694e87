using System.Diagnostics.Metrics;
using Keel.Node.Metrics;

namespace Keel.Node.Tests.Metrics;

/// <summary>Exact exposition text for known instruments. Each test uses meters of its own so parallel tests never see each other's series.</summary>
public sealed class PrometheusExporterTests : IDisposable
{
    private readonly Meter _meter = new("Keel.Tests." + Guid.NewGuid().ToString("N"));
    private readonly Meter _second = new("Keel.Tests." + Guid.NewGuid().ToString("N"));
    private readonly PrometheusExporter _exporter;

    public PrometheusExporterTests()
    {
        _exporter = new PrometheusExporter(new PrometheusExporterOptions { MeterFilter = m => m == _meter || m == _second });
    }

    public void Dispose()
    {
        _exporter.Dispose();
        _meter.Dispose();
        _second.Dispose();
    }

    [Fact]
    public void Counters_are_summed_per_label_set_and_end_in_total()
    {
        var messages = _meter.CreateCounter<long>("keel.test.messages", unit: "{message}", description: "Messages handled.");
        messages.Add(3, new KeyValuePair<string, object?>("kind", "vote"));
        messages.Add(2, new KeyValuePair<string, object?>("kind", "vote"));
        messages.Add(1, new KeyValuePair<string, object?>("kind", "proposal"));
        var bytes = _meter.CreateCounter<double>("keel.test.sent", unit: "By");
        bytes.Add(1.5);
        bytes.Add(2);

        Assert.Equal(
            "# HELP keel_test_messages_total Messages handled.\n" +
            "# TYPE keel_test_messages_total counter\n" +
            "keel_test_messages_total{kind=\"proposal\"} 1\n" +
            "keel_test_messages_total{kind=\"vote\"} 5\n" +
            "# TYPE keel_test_sent_bytes_total counter\n" +
            "keel_test_sent_bytes_total 3.5\n",
            _exporter.Collect());
    }

    [Fact]
    public void Histograms_use_advised_buckets_cumulatively_with_sum_and_count()
    {
        var duration = _meter.CreateHistogram<double>("keel.test.view.duration", "s", "View duration.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2] });
        foreach (var value in new[] { 0.25, 0.5, 0.75, 3 })
        {
            duration.Record(value);
        }

        Assert.Equal(
            "# HELP keel_test_view_duration_seconds View duration.\n" +
            "# TYPE keel_test_view_duration_seconds histogram\n" +
            "keel_test_view_duration_seconds_bucket{le=\"0.5\"} 2\n" +
            "keel_test_view_duration_seconds_bucket{le=\"1\"} 3\n" +
            "keel_test_view_duration_seconds_bucket{le=\"2\"} 3\n" +
            "keel_test_view_duration_seconds_bucket{le=\"+Inf\"} 4\n" +
            "keel_test_view_duration_seconds_sum 4.5\n" +
            "keel_test_view_duration_seconds_count 4\n",
            _exporter.Collect());
    }

    [Fact]
    public void Histograms_without_advice_get_default_buckets_by_unit_and_keep_labels_before_le()
    {
        var proof = _meter.CreateHistogram<long>("keel.test.proof.time", "ms");
        proof.Record(7, new KeyValuePair<string, object?>("backend", "cpu"));
        var view = _meter.CreateHistogram<double>("keel.test.round", "s");
        view.Record(0.02);

        var lines = _exporter.Collect().Split('\n');
        var proofBuckets = lines.Where(l => l.StartsWith("keel_test_proof_time_milliseconds_bucket", StringComparison.Ordinal)).ToArray();
        Assert.Equal(PrometheusExporter.DefaultBuckets.Length + 1, proofBuckets.Length);
        Assert.Equal("keel_test_proof_time_milliseconds_bucket{backend=\"cpu\",le=\"5\"} 0", proofBuckets[1]);
        Assert.Equal("keel_test_proof_time_milliseconds_bucket{backend=\"cpu\",le=\"10\"} 1", proofBuckets[2]);
        Assert.Contains("keel_test_proof_time_milliseconds_sum{backend=\"cpu\"} 7", lines);
        var roundBuckets = lines.Where(l => l.StartsWith("keel_test_round_seconds_bucket", StringComparison.Ordinal)).ToArray();
        Assert.Equal(PrometheusExporter.DefaultSecondsBuckets.Length + 1, roundBuckets.Length);
        Assert.Equal("keel_test_round_seconds_bucket{le=\"0.025\"} 1", roundBuckets[2]);
    }

    [Fact]
    public void Label_values_help_text_and_names_are_escaped_and_sanitized()
    {
        var weird = _meter.CreateCounter<int>("keel.test.weird-name/x", description: "Back\\slash and\nnewline \"quoted\".");
        weird.Add(1, new KeyValuePair<string, object?>("peer.id", "a\\b\"c\nd"), new KeyValuePair<string, object?>("2nd", 5));

        Assert.Equal(
            "# HELP keel_test_weird_name_x_total Back\\\\slash and\\nnewline \"quoted\".\n" +
            "# TYPE keel_test_weird_name_x_total counter\n" +
            "keel_test_weird_name_x_total{_2nd=\"5\",peer_id=\"a\\\\b\\\"c\\nd\"} 1\n",
            _exporter.Collect());
    }

    [Fact]
    public void Tag_order_and_numeric_type_do_not_split_a_series()
    {
        var counter = _meter.CreateCounter<long>("keel.test.ordered");
        counter.Add(1, new KeyValuePair<string, object?>("a", "x"), new KeyValuePair<string, object?>("n", 1));
        counter.Add(1, new KeyValuePair<string, object?>("n", 1L), new KeyValuePair<string, object?>("a", "x"));
        counter.Add(1, new KeyValuePair<string, object?>("a", "x"), new KeyValuePair<string, object?>("n", "1"));

        Assert.Equal(
            "# TYPE keel_test_ordered_total counter\n" +
            "keel_test_ordered_total{a=\"x\",n=\"1\"} 3\n",
            _exporter.Collect());
    }

    [Fact]
    public void Gauges_up_down_counters_and_observables_report_current_values()
    {
        var queue = _meter.CreateUpDownCounter<int>("keel.test.mempool.size", "{tx}", "Transactions waiting.");
        queue.Add(10);
        queue.Add(-3);
        var peers = _meter.CreateGauge<long>("keel.test.peers");
        peers.Record(5);
        peers.Record(4);
        var heights = new Dictionary<string, long> { ["901"] = 7, ["902"] = 9 };
        _meter.CreateObservableGauge("keel.test.height", () => heights.Select(h => new Measurement<long>(h.Value, new KeyValuePair<string, object?>("chain", h.Key))));
        _meter.CreateObservableCounter("keel.test.io", () => 4096L, unit: "By");
        _meter.CreateObservableUpDownCounter("keel.test.load", () => 0.25, unit: "1");

        Assert.Equal(
            "# TYPE keel_test_height gauge\n" +
            "keel_test_height{chain=\"901\"} 7\n" +
            "keel_test_height{chain=\"902\"} 9\n" +
            "# TYPE keel_test_io_bytes_total counter\n" +
            "keel_test_io_bytes_total 4096\n" +
            "# TYPE keel_test_load_ratio gauge\n" +
            "keel_test_load_ratio 0.25\n" +
            "# HELP keel_test_mempool_size Transactions waiting.\n" +
            "# TYPE keel_test_mempool_size gauge\n" +
            "keel_test_mempool_size 7\n" +
            "# TYPE keel_test_peers gauge\n" +
            "keel_test_peers 4\n",
            _exporter.Collect());

        // A series the callback stops reporting disappears at the next scrape.
        heights.Remove("901");
        heights["902"] = 10;
        var second = _exporter.Collect();
        Assert.DoesNotContain("chain=\"901\"", second);
        Assert.Contains("keel_test_height{chain=\"902\"} 10\n", second);
    }

    [Fact]
    public void One_family_from_two_meters_has_one_type_line()
    {
        _meter.CreateCounter<long>("keel.test.shared").Add(1, new KeyValuePair<string, object?>("node", "a"));
        _second.CreateCounter<long>("keel.test.shared").Add(2, new KeyValuePair<string, object?>("node", "b"));

        Assert.Equal(
            "# TYPE keel_test_shared_total counter\n" +
            "keel_test_shared_total{node=\"a\"} 1\n" +
            "keel_test_shared_total{node=\"b\"} 2\n",
            _exporter.Collect());
    }

    [Fact]
    public void Tag_combinations_past_the_limit_are_dropped_and_counted()
    {
        using var meter = new Meter("Keel.Tests.Limit." + Guid.NewGuid().ToString("N"));
        using var exporter = new PrometheusExporter(new PrometheusExporterOptions { MeterFilter = m => m == meter, MaxSeriesPerInstrument = 2 });
        var counter = meter.CreateCounter<long>("keel.test.peers.seen");
        foreach (var peer in new[] { "p1", "p2", "p3", "p1", "p4" })
        {
            counter.Add(1, new KeyValuePair<string, object?>("peer", peer));
        }

        Assert.Equal(
            "# TYPE keel_test_peers_seen_total counter\n" +
            "keel_test_peers_seen_total{peer=\"p1\"} 2\n" +
            "keel_test_peers_seen_total{peer=\"p2\"} 1\n" +
            "# HELP keel_metrics_dropped_series_total Measurements dropped because an instrument reached its limit of tag combinations.\n" +
            "# TYPE keel_metrics_dropped_series_total counter\n" +
            "keel_metrics_dropped_series_total 2\n",
            exporter.Collect());
    }

    [Fact]
    public void The_default_filter_takes_keel_meters_only_and_disposed_meters_vanish()
    {
        using var keel = new Meter("Keel.Tests.Default." + Guid.NewGuid().ToString("N"));
        using var other = new Meter("Other.Tests." + Guid.NewGuid().ToString("N"));
        using var exporter = new PrometheusExporter();
        var id = Guid.NewGuid().ToString("N");
        keel.CreateCounter<long>($"keel.mine.{id}").Add(1);
        other.CreateCounter<long>($"keel.theirs.{id}").Add(1);

        var text = exporter.Collect();
        Assert.Contains($"keel_mine_{id}_total 1\n", text);
        Assert.DoesNotContain($"keel_theirs_{id}", text);

        keel.Dispose();
        Assert.DoesNotContain($"keel_mine_{id}", exporter.Collect());
    }

    [Fact]
    public void Concurrent_measurements_are_all_counted()
    {
        var counter = _meter.CreateCounter<double>("keel.test.concurrent");
        var histogram = _meter.CreateHistogram<int>("keel.test.concurrent.sizes");
        const int threads = 4;
        const int perThread = 20_000;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < perThread; i++)
            {
                counter.Add(1, new KeyValuePair<string, object?>("t", t % 2));
                histogram.Record(i % 100);
                if (i % 5000 == 0)
                {
                    _exporter.Collect();
                }
            }
        });
        var text = _exporter.Collect();
        Assert.Contains($"keel_test_concurrent_total{{t=\"0\"}} {threads * perThread / 2}\n", text);
        Assert.Contains($"keel_test_concurrent_total{{t=\"1\"}} {threads * perThread / 2}\n", text);
        Assert.Contains($"keel_test_concurrent_sizes_count {threads * perThread}\n", text);
    }

    [Theory]
    [InlineData("keel.consensus.rounds", null, true, "keel_consensus_rounds_total")]
    [InlineData("keel.consensus.rounds_total", null, true, "keel_consensus_rounds_total")]
    [InlineData("keel.consensus.view.duration", "s", false, "keel_consensus_view_duration_seconds")]
    [InlineData("keel.p2p.received", "By", true, "keel_p2p_received_bytes_total")]
    [InlineData("keel.p2p.received_bytes", "By", true, "keel_p2p_received_bytes_total")]
    [InlineData("keel.mempool.size", "{tx}", false, "keel_mempool_size")]
    [InlineData("keel.cpu.utilization", "1", false, "keel_cpu_utilization_ratio")]
    [InlineData("keel.blocks", "1", true, "keel_blocks_total")]
    [InlineData("9lives:x", "furlongs", false, "_9lives:x")]
    public void Instrument_names_map_to_prometheus_conventions(string name, string? unit, bool counter, string expected)
    {
        Assert.Equal(expected, PrometheusNaming.MetricName(name, unit, counter));
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e21, "1E+21")]
    [InlineData(-2.5, "-2.5")]
    public void Sample_values_use_prometheus_number_syntax(double value, string expected)
    {
        Assert.Equal(expected, PrometheusNaming.FormatValue(value));
    }
}
