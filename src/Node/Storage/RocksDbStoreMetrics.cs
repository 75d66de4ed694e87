using System.Diagnostics.Metrics;
using Keel.Core.Storage;

namespace Keel.Node.Storage;

/// <summary>
/// RocksDB's own size estimates per column family as observable gauges (meter "Keel.Storage"),
/// read at each scrape. Dispose before the store; a scrape racing the store's close reports
/// nothing rather than failing.
/// </summary>
public sealed class RocksDbStoreMetrics : IDisposable
{
    public const string MeterName = "Keel.Storage";

    private readonly Meter _meter = new(MeterName);

    public RocksDbStoreMetrics(RocksDbStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _meter.CreateObservableGauge("keel.storage.keys", () => Read(store, "rocksdb.estimate-num-keys"), "{key}", "Estimated keys per column family.");
        _meter.CreateObservableGauge("keel.storage.sst.size", () => Read(store, "rocksdb.total-sst-files-size"), "By", "Bytes of SST files per column family.");
        _meter.CreateObservableGauge("keel.storage.memtable.size", () => Read(store, "rocksdb.cur-size-all-mem-tables"), "By", "Bytes in memtables per column family.");
    }

    public void Dispose() => _meter.Dispose();

    private static List<Measurement<long>> Read(RocksDbStore store, string property)
    {
        var measurements = new List<Measurement<long>>(store.ColumnFamilies.Count);
        try
        {
            foreach (var family in store.ColumnFamilies)
            {
                if (store.GetIntProperty(family, property) is { } value)
                {
                    measurements.Add(new Measurement<long>((long)Math.Min(value, long.MaxValue), new KeyValuePair<string, object?>("cf", family)));
                }
            }
        }
        catch (StorageException)
        {
            // Closed (or failing) store: this scrape goes without these gauges.
        }
        return measurements;
    }
}
