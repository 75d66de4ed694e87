using System.Text.Json.Nodes;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.Testing;
using Keel.Rollup.Witness;

namespace Keel.Rollup.Tests.Witness;

public class WitnessSerializerTests
{
    private static readonly RollupHasher Hasher = RollupHasher.Shared;

    private static BatchWitness Sample(int count = 12, int seed = 5)
    {
        var g = RandomBatchGenerator.FromGenesis(count, seed, Hasher);
        // A skipped transfer too, so that a null receiver goes through the format.
        Assert.Equal(TestData.ChainId, g.Parameters.ChainId);
        var transfers = g.Transfers.Append(TestData.Transfer(TestData.Dev(3), TestData.Dev(4), 1, 99)).ToList();
        return new BatchExecutor(g.State).Execute(g.Parameters, transfers).Witness;
    }

    [Fact]
    public void Round_trip_is_byte_identical_and_still_checks()
    {
        var w = Sample();
        var json = WitnessSerializer.ToUtf8(w);
        var back = WitnessSerializer.Parse(json);
        WitnessChecker.Check(Hasher, back);
        Assert.Equal(json, WitnessSerializer.ToUtf8(back));
        Assert.Equal(w.PostStateRoot, back.PostStateRoot);
        Assert.Equal(w.Transfers.Count, back.Transfers.Count);
        Assert.Contains(back.Transfers, t => t.Receiver is null);
        for (int i = 0; i < w.Transfers.Count; i++)
        {
            Assert.Equal(w.Transfers[i].Transfer, back.Transfers[i].Transfer);
            Assert.True(w.Transfers[i].Sender.Path.ToArray().SequenceEqual(back.Transfers[i].Sender.Path.ToArray()));
        }
        // Indented output parses to the same witness.
        Assert.Equal(json, WitnessSerializer.ToUtf8(WitnessSerializer.Parse(WitnessSerializer.ToJson(w, indented: true))));
    }

    [Fact]
    public void Paths_list_only_non_empty_siblings()
    {
        var w = Sample(3, 1);
        var doc = JsonNode.Parse(WitnessSerializer.ToJson(w))!;
        var siblings = doc["transfers"]![0]!["sender"]!["siblings"]!.AsArray();
        // About 14 accounts: only the top few levels hold non-empty siblings.
        Assert.InRange(siblings.Count, 1, 20);
        Assert.All(siblings, s => Assert.InRange((int)s!["level"]!, 140, 159));
    }

    [Fact]
    public void File_round_trip_and_missing_file()
    {
        var w = Sample(4, 2);
        var path = Path.Combine(Path.GetTempPath(), $"keel-witness-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllBytes(path, WitnessSerializer.ToUtf8(w));
            WitnessChecker.Check(Hasher, WitnessSerializer.ReadFile(path));
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<WitnessFormatException>(() => WitnessSerializer.ReadFile(path));
    }

    public static TheoryData<string> Mutations() => new()
    {
        "not json",
        "version",
        "format",
        "missing preStateRoot",
        "non-canonical digest",
        "short digest",
        "value above 2^128",
        "negative-looking quantity",
        "bad checksum address",
        "unordered siblings",
        "sibling level 160",
        "unknown status",
        "transfers not array",
        "receiver wrong type",
        "nonce above limit",
        "tip above fee cap",
        "type 1",
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public void Malformed_witness_is_a_typed_format_error(string mutation)
    {
        var doc = JsonNode.Parse(WitnessSerializer.ToJson(Sample(3, 9)))!.AsObject();
        var t0 = doc["transfers"]![0]!.AsObject();
        string text;
        switch (mutation)
        {
            case "not json": text = "{\"format\": "; break;
            case "version": doc["version"] = 2; text = doc.ToJsonString(); break;
            case "format": doc["format"] = "something-else"; text = doc.ToJsonString(); break;
            case "missing preStateRoot": doc.Remove("preStateRoot"); text = doc.ToJsonString(); break;
            case "non-canonical digest": doc["postStateRoot"] = "0xffffffff00000001" + new string('0', 48); text = doc.ToJsonString(); break;
            case "short digest": doc["postStateRoot"] = "0x1234"; text = doc.ToJsonString(); break;
            case "value above 2^128": t0["value"] = "0x1" + new string('0', 32); text = doc.ToJsonString(); break;
            case "negative-looking quantity": t0["value"] = "-0x1"; text = doc.ToJsonString(); break;
            case "bad checksum address": t0["to"] = "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266"; text = doc.ToJsonString(); break;
            case "unordered siblings":
                var s = t0["sender"]!["siblings"]!.AsArray();
                s.Add(new JsonObject { ["level"] = 0, ["node"] = new Digest(1, 2, 3, 4).ToString() });
                text = doc.ToJsonString();
                break;
            case "sibling level 160":
                t0["sender"]!["siblings"] = new JsonArray(new JsonObject { ["level"] = 160, ["node"] = new Digest(1, 2, 3, 4).ToString() });
                text = doc.ToJsonString();
                break;
            case "unknown status": t0["status"] = "maybe"; text = doc.ToJsonString(); break;
            case "transfers not array": doc["transfers"] = "none"; text = doc.ToJsonString(); break;
            case "receiver wrong type": t0["receiver"] = 5; text = doc.ToJsonString(); break;
            case "nonce above limit": t0["sender"]!["nonce"] = "0x100000000"; text = doc.ToJsonString(); break;
            case "tip above fee cap": t0["maxPriorityFeePerGas"] = "0xffffffffffffffffffffffffffffffff"; text = doc.ToJsonString(); break;
            case "type 1": t0["type"] = 1; text = doc.ToJsonString(); break;
            default: throw new InvalidOperationException(mutation);
        }
        var e = Assert.Throws<WitnessFormatException>(() => WitnessSerializer.Parse(text));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }
}
