namespace Keel.Node.Tests.Cli;

public class HashCommandsTests
{
    [Fact]
    public void Keccak_of_text_hashes_its_utf8_bytes()
    {
        var result = CliRunner.Run("hash", "keccak", "abc");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45", result.Output.Trim());
    }

    [Theory]
    [InlineData("0x", "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("616263", "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("0x616263", "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    public void Keccak_of_hex_hashes_the_bytes(string hex, string expected)
    {
        var result = CliRunner.Run("hash", "keccak", "--hex", hex);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expected, result.Output.Trim());
    }

    [Theory]
    [InlineData("0x123")]
    [InlineData("0xzz")]
    public void Bad_hex_is_one_line_on_stderr_and_exit_1(string hex)
    {
        var result = CliRunner.Run("hash", "keccak", "--hex", hex);
        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Output);
        Assert.StartsWith("error: ", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Fact]
    public void Neither_or_both_inputs_is_a_usage_error()
    {
        Assert.Equal(2, CliRunner.Run("hash", "keccak").ExitCode);
        Assert.Equal(2, CliRunner.Run("hash", "keccak", "abc", "--hex", "0x00").ExitCode);
    }
}
