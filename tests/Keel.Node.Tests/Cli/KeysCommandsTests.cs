using System.Text.Json.Nodes;

namespace Keel.Node.Tests.Cli;

public sealed class KeysCommandsTests : IDisposable
{
    private const string AnvilKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    private const string AnvilAddress0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

    private readonly string _directory = Directory.CreateTempSubdirectory("keel-keys-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void Import_then_show_prints_the_checksummed_address()
    {
        var file = PathOf("anvil0.json");
        var imported = CliRunner.Run("keys", "import", "--private-key", AnvilKey0, "--out", file);
        Assert.Equal(0, imported.ExitCode);
        Assert.Contains($"address: {AnvilAddress0}", imported.Output);

        var shown = CliRunner.Run("keys", "show", file);
        Assert.Equal(0, shown.ExitCode);
        Assert.Equal($"address: {AnvilAddress0}", shown.Output.Split('\n')[0].TrimEnd());
        Assert.DoesNotContain(AnvilKey0[2..], shown.Output);
    }

    [Fact]
    public void Key_file_is_json_version_1_with_mode_0600()
    {
        var file = PathOf("key.json");
        Assert.Equal(0, CliRunner.Run("keys", "import", "--private-key", AnvilKey0[2..].ToUpperInvariant(), "--out", file).ExitCode);
        var json = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        Assert.Equal(1, (int)json["version"]!);
        Assert.Equal(AnvilKey0, (string)json["secp256k1"]!);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
        Assert.Single(Directory.GetFiles(_directory)); // no temporary file left behind
    }

    [Fact]
    public void New_writes_a_fresh_key_that_show_reads_back()
    {
        var first = PathOf("first.json");
        var second = PathOf("second.json");
        var made = CliRunner.Run("keys", "new", "--out", first);
        Assert.Equal(0, made.ExitCode);
        Assert.Equal(0, CliRunner.Run("keys", "new", "--out", second).ExitCode);
        var address = made.Output.Split('\n')[0].TrimEnd();
        Assert.Matches("^address: 0x[0-9a-fA-F]{40}$", address);
        Assert.Equal(address, CliRunner.Run("keys", "show", first).Output.Split('\n')[0].TrimEnd());
        Assert.NotEqual(File.ReadAllText(first), File.ReadAllText(second));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(first));
        }
    }

    [Fact]
    public void Existing_file_is_not_overwritten_without_force()
    {
        var file = PathOf("key.json");
        Assert.Equal(0, CliRunner.Run("keys", "new", "--out", file).ExitCode);
        var before = File.ReadAllText(file);
        var refused = CliRunner.Run("keys", "import", "--private-key", AnvilKey0, "--out", file);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refusing to overwrite", refused.Error);
        Assert.Equal(before, File.ReadAllText(file));

        var forced = CliRunner.Run("keys", "import", "--private-key", AnvilKey0, "--out", file, "--force");
        Assert.Equal(0, forced.ExitCode);
        Assert.Contains(AnvilAddress0, CliRunner.Run("keys", "show", file).Output);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Theory]
    [InlineData("0xac09", "32 bytes, got 2")]
    [InlineData("0xzz", "not hex")]
    [InlineData("0x0000000000000000000000000000000000000000000000000000000000000000", "not a valid secp256k1 private key")]
    [InlineData("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", "not a valid secp256k1 private key")]
    public void Bad_private_keys_are_one_line_errors(string key, string message)
    {
        var file = PathOf("bad.json");
        var result = CliRunner.Run("keys", "import", "--private-key", key, "--out", file);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", result.Error);
        Assert.False(File.Exists(file));
    }

    [Theory]
    [InlineData("missing.json", null, "does not exist")]
    [InlineData("garbage.json", "not json", "not valid JSON")]
    [InlineData("v2.json", "{\"version\":2,\"secp256k1\":\"0x01\"}", "unsupported key file version 2")]
    [InlineData("nokey.json", "{\"version\":1}", "no \"secp256k1\"")]
    [InlineData("short.json", "{\"version\":1,\"secp256k1\":\"0x01\"}", "32 bytes, got 1")]
    public void Show_reports_bad_files_in_one_line(string name, string? content, string message)
    {
        var file = PathOf(name);
        if (content is not null)
        {
            File.WriteAllText(file, content);
        }
        var result = CliRunner.Run("keys", "show", file);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Fact]
    public void Show_ignores_fields_it_does_not_know()
    {
        var file = PathOf("extended.json");
        File.WriteAllText(file, $"{{\"version\":1,\"secp256k1\":\"{AnvilKey0}\",\"ed25519\":\"0x1234\",\"comment\":{{\"a\":1}}}}");
        var result = CliRunner.Run("keys", "show", file);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"address: {AnvilAddress0}", result.Output);
    }
}
