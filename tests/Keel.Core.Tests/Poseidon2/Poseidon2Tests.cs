using System.Text.RegularExpressions;
using Keel.Core.Field;
using Keel.Core.Hashing;

namespace Keel.Core.Tests.Poseidon2;

using Poseidon2 = Keel.Core.Hashing.Poseidon2;

public class Poseidon2Tests
{
    private static string VectorText => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Poseidon2", "poseidon2-goldilocks.txt"));

    public sealed record KnownAnswer(string Name, Poseidon2Permutation Permutation, ulong[] Input, ulong[] Output);

    private static ulong[] Decimals(string line) =>
        [.. line.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ulong.Parse)];

    /// <summary>Every "in"/"out" pair of the known-answer section, with the instance its header names.</summary>
    private static List<KnownAnswer> KnownAnswers()
    {
        var lines = VectorText.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("===== KNOWN-ANSWER", StringComparison.Ordinal));
        var result = new List<KnownAnswer>();
        for (var i = start + 1; i < lines.Length; i++)
        {
            var header = Regex.Match(lines[i], @"^(HL|P3new) t=(\d+)");
            if (!header.Success)
            {
                continue;
            }
            var width = int.Parse(header.Groups[2].Value);
            var permutation = header.Groups[1].Value == "HL"
                ? width == 8 ? Poseidon2.HorizenLabsWidth8 : Poseidon2.HorizenLabsWidth12
                : Poseidon2.ForWidth(width);
            var input = Decimals(lines[i + 1].Trim()["in :".Length..]);
            var output = Decimals(lines[i + 2].Trim()["out:".Length..]);
            result.Add(new KnownAnswer(lines[i].Trim(), permutation, input, output));
        }
        return result;
    }

    [Fact]
    public void All_known_answer_vectors_pass()
    {
        var answers = KnownAnswers();
        Assert.Equal(7, answers.Count); // HL t=12, three HL t=8, P3new t=8/12/16
        foreach (var kat in answers)
        {
            var state = (ulong[])kat.Input.Clone();
            kat.Permutation.Permute(state);
            Assert.True(kat.Output.SequenceEqual(state), $"{kat.Name}: got {string.Join(", ", state)}");
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(16)]
    public void Round_constants_and_diagonal_match_the_vector_file(int width)
    {
        var text = VectorText;
        var section = text[text.IndexOf($"===== WIDTH {width} ", StringComparison.Ordinal)..];
        var end = section.IndexOf("\n=====", StringComparison.Ordinal);
        section = section[section.IndexOf('\n', StringComparison.Ordinal)..end];
        ulong[] Table(string label, string nextLabel)
        {
            var from = section.IndexOf(label, StringComparison.Ordinal);
            var to = section.IndexOf(nextLabel, from + label.Length, StringComparison.Ordinal);
            var body = section[(from + label.Length)..(to < 0 ? section.Length : to)];
            body = body[body.IndexOf(':', StringComparison.Ordinal)..];
            return [.. Regex.Matches(body, "0x[0-9a-f]{16}").Select(m => Convert.ToUInt64(m.Value[2..], 16))];
        }
        var p = Poseidon2.ForWidth(width);
        Assert.Equal(Table("RC_EXT_INITIAL", "RC_INT"), p.ExternalInitialConstants.ToArray());
        Assert.Equal(Table("RC_INT", "RC_EXT_FINAL"), p.InternalConstants.ToArray());
        Assert.Equal(Table("RC_EXT_FINAL", "D_"), p.ExternalFinalConstants.ToArray());
        Assert.Equal(Table("D_P3new", "=====").Take(width), p.InternalDiagonal.ToArray());
    }

    [Fact]
    public void Permute_rejects_wrong_width_and_non_canonical_input()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Poseidon2.Permute(new ulong[9]));
        Assert.Throws<ArgumentException>(() => Poseidon2.Width8.Permute(new ulong[12]));
        var state = new ulong[8];
        state[3] = Goldilocks.Modulus;
        Assert.Throws<NonCanonicalFieldElementException>(() => Poseidon2.Permute(state));
    }

    [Fact]
    public void Compress_is_the_truncated_width_8_permutation()
    {
        ulong[] left = [1, 2, 3, 4];
        ulong[] right = [5, 6, 7, 8];
        var output = new ulong[4];
        Poseidon2.Compress(left, right, output);
        ulong[] state = [1, 2, 3, 4, 5, 6, 7, 8];
        Poseidon2.Width8.Permute(state);
        Assert.Equal(state[..4], output);
        var swapped = new ulong[4];
        Poseidon2.Compress(right, left, swapped);
        Assert.NotEqual(output, swapped);
    }

    [Fact]
    public void Sponge_separates_lengths_and_matches_its_definition()
    {
        // Zero padding would make [x] and [x, 0] collide without the length in the capacity.
        Assert.NotEqual(Poseidon2.Hash([7UL]), Poseidon2.Hash([7UL, 0UL]));
        Assert.NotEqual(Poseidon2.Hash([]), Poseidon2.Hash([0UL]));
        Assert.NotEqual(Poseidon2.Hash(new ulong[8]), Poseidon2.Hash(new ulong[9]));

        // Nine elements: two blocks, the second padded.
        var input = Enumerable.Range(1, 9).Select(i => (ulong)i).ToArray();
        var state = new ulong[12];
        state[8] = 9;
        for (var i = 0; i < 8; i++)
        {
            state[i] = input[i];
        }
        Poseidon2.Width12.Permute(state);
        state[0] = Goldilocks.Add(state[0], 9);
        Poseidon2.Width12.Permute(state);
        Assert.Equal(state[..4], Poseidon2.Hash(input));

        Assert.Throws<NonCanonicalFieldElementException>(() => Poseidon2.Hash([Goldilocks.Modulus + 1]));
    }
}
