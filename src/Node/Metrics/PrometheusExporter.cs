using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Keel.Node.Metrics;

/// <summary>What <see cref="PrometheusExporter"/> collects.</summary>
public sealed record PrometheusExporterOptions
{
    /// <summary>Meters whose name starts with this are collected (Keel's own: "Keel.Consensus", "Keel.P2p", ...).</summary>
    public const string KeelMeterPrefix = "Keel";

    /// <summary>Which meters to collect; by default those named with <see cref="KeelMeterPrefix"/>.</summary>
    public Func<Meter, bool> MeterFilter { get; init; } = static meter => meter.Name.StartsWith(KeelMeterPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Tag combinations kept per instrument. A tag with unbounded values (a peer id, a hash) would
    /// otherwise grow memory and scrape size without end; past this, new combinations are dropped
    /// and counted in keel_metrics_dropped_series_total.
    /// </summary>
    public int MaxSeriesPerInstrument { get; init; } = DefaultMaxSeriesPerInstrument;

    public const int DefaultMaxSeriesPerInstrument = 2_000;
}

/// <summary>
/// Collects System.Diagnostics.Metrics instruments through a <see cref="MeterListener"/> and
/// renders them in the Prometheus text exposition format (0.0.4). Counters and up-down counters
/// are summed, gauges and observable instruments keep their last value, histograms count into
/// buckets (the instrument's advised boundaries, else defaults by unit). Thread-safe: measurements
/// arrive from any thread while a scrape renders.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Prometheus client defaults, made for request latencies in seconds.</summary>
    public static readonly double[] DefaultSecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>OpenTelemetry's default explicit buckets, for milliseconds, bytes and counts.</summary>
    public static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private const string DroppedSeriesMetric = "keel_metrics_dropped_series_total";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly PrometheusExporterOptions _options;
    private readonly Lock _scrape = new();
    private long _droppedSeries;

    public PrometheusExporter(PrometheusExporterOptions? options = null)
    {
        _options = options ?? new PrometheusExporterOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxSeriesPerInstrument, 1);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_options.MeterFilter(instrument.Meter))
            {
                var state = new InstrumentState(this, instrument);
                _instruments[instrument] = state;
                listener.EnableMeasurementEvents(instrument, state);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out var _);
        _listener.SetMeasurementEventCallback<byte>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>((_, value, tags, state) => ((InstrumentState)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Polls observable instruments and renders every family, sorted by name, as one scrape body.</summary>
    public string Collect()
    {
        var output = new StringWriter(new StringBuilder(4096)) { NewLine = "\n" };
        WriteTo(output);
        return output.ToString();
    }

    public void WriteTo(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        lock (_scrape)
        {
            // Observable series are what the callbacks report now: a tag set they stopped
            // reporting must disappear, not linger with its last value.
            foreach (var state in _instruments.Values)
            {
                if (state.Instrument.IsObservable)
                {
                    state.Series.Clear();
                }
            }
            _listener.RecordObservableInstruments();

            // Instruments of several meters may map to one family name: one HELP and TYPE for all.
            var families = _instruments.Values
                .GroupBy(state => state.FamilyName, StringComparer.Ordinal)
                .OrderBy(group => group.Key, StringComparer.Ordinal);
            foreach (var family in families)
            {
                var first = family.First();
                if (first.Help.Length > 0)
                {
                    output.Write($"# HELP {first.FamilyName} {first.Help}\n");
                }
                output.Write($"# TYPE {first.FamilyName} {first.TypeName}\n");
                var series = family
                    // A clash of types under one name cannot be expressed: the first instrument's type wins.
                    .Where(state => state.TypeName == first.TypeName)
                    .SelectMany(state => state.Series)
                    .OrderBy(entry => entry.Key.Labels, StringComparer.Ordinal);
                foreach (var (tags, value) in series)
                {
                    value.Write(output, first.FamilyName, tags.Labels);
                }
            }
            var dropped = Interlocked.Read(ref _droppedSeries);
            if (dropped > 0)
            {
                output.Write($"# HELP {DroppedSeriesMetric} Measurements dropped because an instrument reached its limit of tag combinations.\n");
                output.Write($"# TYPE {DroppedSeriesMetric} counter\n");
                output.Write($"{DroppedSeriesMetric} {dropped}\n");
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    internal enum Aggregation
    {
        Sum,
        LastValue,
        Histogram,
    }

    private sealed class InstrumentState
    {
        private readonly PrometheusExporter _owner;
        private readonly ConcurrentDictionary<TagSet, Series>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
        private readonly double[] _bounds = [];

        public InstrumentState(PrometheusExporter owner, Instrument instrument)
        {
            _owner = owner;
            Instrument = instrument;
            var definition = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : instrument.GetType();
            bool isCounter;
            (Kind, isCounter, TypeName) = definition switch
            {
                _ when definition == typeof(Counter<>) => (Aggregation.Sum, true, "counter"),
                _ when definition == typeof(ObservableCounter<>) => (Aggregation.LastValue, true, "counter"),
                _ when definition == typeof(UpDownCounter<>) => (Aggregation.Sum, false, "gauge"),
                _ when definition == typeof(Histogram<>) => (Aggregation.Histogram, false, "histogram"),
                // Gauge<T>, ObservableGauge<T>, ObservableUpDownCounter<T>: a current value.
                _ => (Aggregation.LastValue, false, "gauge"),
            };
            FamilyName = PrometheusNaming.MetricName(instrument.Name, instrument.Unit, isCounter);
            Help = PrometheusNaming.EscapeHelp(instrument.Description ?? "");
            if (Kind == Aggregation.Histogram)
            {
                _bounds = AdvisedBounds(instrument) ?? (instrument.Unit == "s" ? DefaultSecondsBuckets : DefaultBuckets);
            }
            Series = new ConcurrentDictionary<TagSet, Series>(TagSetComparer.Instance);
            _lookup = Series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
        }

        public Instrument Instrument { get; }

        public Aggregation Kind { get; }

        public string TypeName { get; }

        public string FamilyName { get; }

        public string Help { get; }

        public ConcurrentDictionary<TagSet, Series> Series { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (!_lookup.TryGetValue(tags, out var series))
            {
                if (Series.Count >= _owner._options.MaxSeriesPerInstrument)
                {
                    Interlocked.Increment(ref _owner._droppedSeries);
                    return;
                }
                series = Series.GetOrAdd(TagSet.From(tags), _ => Kind == Aggregation.Histogram ? new HistogramSeries(_bounds) : new ValueSeries(Kind));
            }
            series.Record(value);
        }

        /// <summary>InstrumentAdvice boundaries of a Histogram&lt;T&gt;, as doubles, sorted; null when none.</summary>
        private static double[]? AdvisedBounds(Instrument instrument)
        {
            IEnumerable<double>? bounds = instrument switch
            {
                Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
                Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(v => (double)v),
                Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(v => (double)v),
                Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(v => (double)v),
                Histogram<short> h => h.Advice?.HistogramBucketBoundaries?.Select(v => (double)v),
                Histogram<byte> h => h.Advice?.HistogramBucketBoundaries?.Select(v => (double)v),
                Histogram<decimal> h => h.Advice?.HistogramBucketBoundaries?.Select(v => (double)v),
                _ => null,
            };
            var sorted = bounds?.Where(double.IsFinite).Distinct().Order().ToArray();
            return sorted is { Length: > 0 } ? sorted : null;
        }
    }

    private abstract class Series
    {
        public abstract void Record(double value);

        public abstract void Write(TextWriter output, string name, string labels);

        protected static void WriteSample(TextWriter output, string name, string labels, double value)
        {
            output.Write(name);
            if (labels.Length > 0)
            {
                output.Write('{');
                output.Write(labels);
                output.Write('}');
            }
            output.Write(' ');
            output.Write(PrometheusNaming.FormatValue(value));
            output.Write('\n');
        }
    }

    private sealed class ValueSeries(Aggregation kind) : Series
    {
        private double _value;

        public override void Record(double value)
        {
            if (kind == Aggregation.LastValue)
            {
                Volatile.Write(ref _value, value);
                return;
            }
            // Lock-free add: counters are the hottest instruments (bytes, messages).
            var current = Volatile.Read(ref _value);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref _value, current + value, current);
                if (seen.Equals(current))
                {
                    return;
                }
                current = seen;
            }
        }

        public override void Write(TextWriter output, string name, string labels) => WriteSample(output, name, labels, Volatile.Read(ref _value));
    }

    private sealed class HistogramSeries(double[] bounds) : Series
    {
        // counts[i] holds values in (bounds[i-1], bounds[i]]; the last slot holds those above every bound.
        private readonly long[] _counts = new long[bounds.Length + 1];
        private readonly Lock _gate = new();
        private double _sum;
        private long _count;

        public override void Record(double value)
        {
            var index = Array.BinarySearch(bounds, value);
            // An exact hit belongs to that bucket (le is inclusive); otherwise the first larger bound's.
            var bucket = index >= 0 ? index : ~index;
            lock (_gate)
            {
                _counts[bucket]++;
                _sum += value;
                _count++;
            }
        }

        public override void Write(TextWriter output, string name, string labels)
        {
            long[] counts;
            double sum;
            long count;
            lock (_gate)
            {
                // One consistent snapshot: buckets, sum and count from the same moment.
                counts = (long[])_counts.Clone();
                sum = _sum;
                count = _count;
            }
            var prefix = labels.Length > 0 ? labels + "," : "";
            long cumulative = 0;
            for (var i = 0; i < bounds.Length; i++)
            {
                cumulative += counts[i];
                WriteSample(output, name + "_bucket", $"{prefix}le=\"{PrometheusNaming.FormatValue(bounds[i])}\"", cumulative);
            }
            WriteSample(output, name + "_bucket", $"{prefix}le=\"+Inf\"", count);
            WriteSample(output, name + "_sum", labels, sum);
            WriteSample(output, name + "_count", labels, count);
        }
    }
}
