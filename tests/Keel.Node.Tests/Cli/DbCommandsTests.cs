using Keel.Node.Tests.Storage;

namespace Keel.Node.Tests.Cli;

/// <summary>`keel db` as an operator runs it: a real process, its output and exit code.</summary>
public sealed class DbCommandsTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static async Task<(int Exit, string Out, string Error)> Keel(params string[] arguments)
    {
        using var process = KeelProcess.Start(arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Patience);
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task Put_get_scan_delete_and_stats_round_trip_through_the_database()
    {
        var dir = _temp.Path;
        Assert.Equal(0, (await Keel("db", "put", "--data-dir", dir, "--cf", "blocks", "--key", "0x0001", "--value", "first", "--sync")).Exit);
        Assert.Equal(0, (await Keel("db", "put", "--data-dir", dir, "--cf", "blocks", "--key", "0x0002", "--value", "0xff00")).Exit);

        var get = await Keel("db", "get", "--data-dir", dir, "--cf", "blocks", "--key", "0x0001");
        Assert.Equal((0, "0x6669727374\n"), (get.Exit, get.Out));

        var scan = await Keel("db", "scan", "--data-dir", dir, "--cf", "blocks", "--prefix", "0x00");
        Assert.Equal("0x0001 0x6669727374\n0x0002 0xff00\n", scan.Out);

        Assert.Equal(0, (await Keel("db", "delete", "--data-dir", dir, "--cf", "blocks", "--key", "0x0001")).Exit);
        var gone = await Keel("db", "get", "--data-dir", dir, "--cf", "blocks", "--key", "0x0001");
        Assert.Equal((1, ""), (gone.Exit, gone.Out));
        Assert.Contains("not found", gone.Error);

        var stats = await Keel("db", "stats", "--data-dir", dir);
        Assert.Equal(0, stats.Exit);
        Assert.Contains("blocks", stats.Out);
        Assert.Contains("safety", stats.Out);
    }

    [Fact]
    public async Task Bad_input_is_a_message_and_exit_code_2_never_a_crash()
    {
        var dir = _temp.Path;
        var noDatabase = await Keel("db", "get", "--data-dir", _temp.Sub("nothing"), "--key", "k");
        Assert.Equal(2, noDatabase.Exit);
        Assert.Contains("no RocksDB database", noDatabase.Error);
        Assert.False(Directory.Exists(_temp.Sub("nothing")), "a read must not create a database");

        Assert.Equal(0, (await Keel("db", "put", "--data-dir", dir, "--key", "k", "--value", "v")).Exit);
        var unknownFamily = await Keel("db", "get", "--data-dir", dir, "--cf", "nope", "--key", "k");
        Assert.Equal(2, unknownFamily.Exit);
        Assert.Contains("unknown column family 'nope'", unknownFamily.Error);

        var badHex = await Keel("db", "put", "--data-dir", dir, "--key", "0xzz", "--value", "v");
        Assert.Equal(2, badHex.Exit);
        Assert.Contains("not valid hex", badHex.Error);

        var emptyKey = await Keel("db", "put", "--data-dir", dir, "--key", "0x", "--value", "v");
        Assert.Equal(2, emptyKey.Exit);
        Assert.Contains("empty", emptyKey.Error);

        var badCount = await Keel("db", "fill", "--data-dir", dir, "--count", "0");
        Assert.Equal(2, badCount.Exit);
        Assert.DoesNotContain("Unhandled", badCount.Error);
    }

    [Fact]
    public async Task Fill_writes_batches_and_reports_the_rate()
    {
        var fill = await Keel("db", "fill", "--data-dir", _temp.Path, "--count", "2500", "--batch", "1000", "--cf", "state");
        Assert.Equal(0, fill.Exit);
        Assert.Matches(@"^filled 2500 entries of 100 bytes into 'state' in [0-9.]+ s \([0-9]+/s, Buffered, batch 1000\)\n$", fill.Out);
        var scan = await Keel("db", "scan", "--data-dir", _temp.Path, "--cf", "state", "--limit", "5000");
        Assert.Equal(2500, scan.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
