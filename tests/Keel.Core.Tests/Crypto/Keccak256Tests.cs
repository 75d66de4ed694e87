using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Crypto;
using Org.BouncyCastle.Crypto.Digests;

namespace Keel.Core.Tests.Crypto;

public class Keccak256Tests
{
    private static string HashHex(byte[] input) => Hex.Encode(Keccak256.Hash(input));

    private static byte[] Counting(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)i)];

    [Fact]
    public void Empty_input_matches_the_known_hash()
    {
        Assert.Equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", HashHex([]));
    }

    [Fact]
    public void Abc_matches_the_known_hash()
    {
        Assert.Equal("0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45", HashHex(Encoding.ASCII.GetBytes("abc")));
    }

    // Expected values from ethers 6 keccak256 over bytes 0, 1, 2, ... (mod 256): lengths on both
    // sides of the 136-byte rate and of two blocks.
    [Theory]
    [InlineData(135, "0xcbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62")]
    [InlineData(136, "0x7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e")]
    [InlineData(137, "0xac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db")]
    [InlineData(200, "0xbfb0aa97863e797943cf7c33bb7e880bb4543f3d2703c0923c6901c2af57b890")]
    [InlineData(272, "0xfdf2ec49e749960d3c8521a0219af8d03e30e2b3bf19bd16150ee0eaf133d66e")]
    [InlineData(273, "0x4f707289a9c3ccd0c4a51f2f17339f5dd171d371c04ff7783b735b5b22682eaf")]
    public void Multi_block_inputs_match_ethers(int length, string expected)
    {
        Assert.Equal(expected, HashHex(Counting(length)));
    }

    [Fact]
    public void Hash32_and_span_forms_agree()
    {
        var input = Counting(300);
        Span<byte> output = stackalloc byte[32];
        Keccak256.Hash(input, output);
        Assert.Equal(Hex.Encode(output), Keccak256.HashToHash32(input).ToString());
    }

    [Fact]
    public void Output_shorter_than_32_bytes_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Keccak256.Hash([1, 2, 3], new byte[31]));
    }

    [Fact]
    public void Every_length_around_the_rate_matches_BouncyCastle()
    {
        for (var length = 0; length <= 3 * Keccak256.RateBytes + 1; length++)
        {
            var input = Counting(length);
            Assert.Equal(BouncyCastleKeccak(input), Keccak256.Hash(input));
        }
    }

    [Fact]
    public void Random_inputs_match_BouncyCastle()
    {
        Prop.ForAll<byte[]>(input => BouncyCastleKeccak(input).AsSpan().SequenceEqual(Keccak256.Hash(input)))
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Incremental_hashing_in_random_pieces_matches_one_shot()
    {
        var hasher = new Keccak256Hasher();
        Prop.ForAll<byte[], int[]>((input, cuts) =>
        {
            var position = 0;
            foreach (var cut in cuts)
            {
                var take = Math.Min(Math.Abs(cut % 300), input.Length - position);
                hasher.Update(input.AsSpan(position, take));
                position += take;
            }
            hasher.Update(input.AsSpan(position));
            var output = new byte[32];
            hasher.Finish(output);
            return output.AsSpan().SequenceEqual(Keccak256.Hash(input));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Hasher_resets_after_finish_and_on_reset()
    {
        var hasher = new Keccak256Hasher();
        hasher.Update(Counting(500));
        hasher.Finish(new byte[32]);
        hasher.Update(Encoding.ASCII.GetBytes("abc"));
        Assert.Equal("0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45", hasher.FinishHash32().ToString());
        hasher.Update(Counting(10));
        hasher.Reset();
        Assert.Equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", hasher.FinishHash32().ToString());
    }

    [Fact]
    public void Large_input_matches_BouncyCastle()
    {
        var input = new byte[1 << 20];
        new Random(7).NextBytes(input);
        Assert.Equal(BouncyCastleKeccak(input), Keccak256.Hash(input));
    }

    internal static byte[] BouncyCastleKeccak(byte[] input)
    {
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(input, 0, input.Length);
        var output = new byte[32];
        digest.DoFinal(output, 0);
        return output;
    }
}
