using System.Diagnostics;
using System.Text.RegularExpressions;
using Keel.Core.Storage;
using Keel.Node.Cli;
using Keel.Node.Storage;

namespace Keel.Node.Tests.Storage;

/// <summary>
/// A real process writing to RocksDB is killed with SIGKILL mid-stream; every write it
/// acknowledged must be there after reopening, and no batch may be half applied. The writer is
/// the operators' `keel db fill` load tool, which prints "ack KEY" only after the write returned.
/// </summary>
/// <remarks>
/// SIGKILL shows that acknowledged writes survive process death and that WAL recovery restores
/// them; it cannot tell a synced write from a buffered one (the kernel keeps both). Power loss,
/// which could, is modelled by <see cref="InMemoryDisk.Crash"/> in the simulator instead.
/// </remarks>
public sealed class KillRecoveryTests
{
    /// <summary>Acknowledgements to wait for before killing: enough that the kill lands mid-stream.</summary>
    private const int AcksBeforeKill = 300;

    /// <summary>Far more than will be written before the kill, so the child is always interrupted.</summary>
    private const int EntriesRequested = 10_000_000;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>"ack " and the hex of "keel-fill/" plus an 8-byte index.</summary>
    private static readonly Regex AckLine = new("^ack 0x[0-9a-f]{" + 2 * (DbCommands.FillKeyPrefix.Length + sizeof(ulong)) + "}$", RegexOptions.CultureInvariant);

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    public async Task Every_synced_write_acknowledged_before_kill_9_is_there_after_reopen(int batch)
    {
        using var temp = new TempDirectory();
        var acked = new List<string>();
        using (var child = KeelProcess.Start(
            "db", "fill", "--data-dir", temp.Path, "--cf", ColumnFamilyNames.Safety,
            "--count", EntriesRequested.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--value-bytes", "64", "--sync", "--print-acks"))
        {
            var clock = Stopwatch.StartNew();
            while (acked.Count < AcksBeforeKill)
            {
                var line = await child.StandardOutput.ReadLineAsync().WaitAsync(Patience);
                if (line is null)
                {
                    Assert.Fail($"keel exited before {AcksBeforeKill} acknowledgements: {await child.StandardError.ReadToEndAsync()}");
                }
                Assert.Matches(AckLine, line);
                acked.Add(line["ack ".Length..]);
                Assert.True(clock.Elapsed < Patience, "the writer is too slow to reach the kill point");
            }

            child.Kill(); // SIGKILL on Unix: no handler, no flush, no clean close.

            // Lines already in the pipe were acknowledged before the kill too. The kill may cut
            // the last line short: a key printed only in part cannot be checked, so it is skipped.
            var rest = new List<string>();
            string? tail;
            while ((tail = await child.StandardOutput.ReadLineAsync().WaitAsync(Patience)) is not null)
            {
                rest.Add(tail);
            }
            for (var i = 0; i < rest.Count; i++)
            {
                var complete = AckLine.IsMatch(rest[i]);
                Assert.True(complete || i == rest.Count - 1, $"unexpected output from keel: '{rest[i]}'");
                if (complete)
                {
                    acked.Add(rest[i]["ack ".Length..]);
                }
            }
            await child.WaitForExitAsync().WaitAsync(Patience);
            Assert.NotEqual(0, child.ExitCode);
        }

        using var store = NodeDatabase.OpenExisting(temp.Path);
        var safety = store.GetColumnFamily(ColumnFamilyNames.Safety);
        foreach (var key in acked)
        {
            Assert.True(safety.Get(DbCommands.ParseBytes(key, "key")) is not null, $"acknowledged key {key} was lost");
        }
        // Keys are written in order and batches are atomic: what is there is a whole number of
        // batches, numbered from zero with no gap.
        var present = 0L;
        using (var cursor = safety.IteratePrefix(DbCommands.FillKeyPrefix))
        {
            while (cursor.MoveNext())
            {
                var index = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(cursor.Key[DbCommands.FillKeyPrefix.Length..]);
                Assert.Equal((ulong)present, index);
                present++;
            }
        }
        Assert.True(present >= acked.Count);
        Assert.Equal(0, present % batch);
    }
}
