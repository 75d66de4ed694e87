using FsCheck;
using FsCheck.Fluent;
using Keel.Node.Sequencing;

namespace Keel.Node.Tests.Sequencing;

public sealed class TxGossipCodecTests
{
    [Fact]
    public void Batches_round_trip()
    {
        Prop.ForAll<byte[][]>(txs =>
        {
            var nonEmpty = txs.Where(t => t is { Length: > 0 }).ToArray();
            var decoded = TxGossipCodec.Decode(TxGossipCodec.Encode(nonEmpty), int.MaxValue);
            return decoded.Count == nonEmpty.Length && decoded.Zip(nonEmpty).All(p => p.First.AsSpan().SequenceEqual(p.Second));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Malformed_input_keeps_what_came_before_and_never_throws()
    {
        var good = TxGossipCodec.Encode([[1, 2, 3], [4]]);
        Assert.Equal(2, TxGossipCodec.Decode(good, 10).Count);
        Assert.Single(TxGossipCodec.Decode(good, 1));
        Assert.Single(TxGossipCodec.Decode(good[..^1], 10)); // second transaction cut short
        Assert.Empty(TxGossipCodec.Decode([0xFF, 0xFF, 0xFF, 0xFF, 1], 10)); // negative length
        Assert.Empty(TxGossipCodec.Decode([0x7F, 0xFF, 0xFF, 0xFF, 1], 10)); // length past the end
        Assert.Empty(TxGossipCodec.Decode([0, 0, 0, 0], 10)); // empty transaction
        Assert.Empty(TxGossipCodec.Decode([1, 2], 10));
        Prop.ForAll<byte[]>(bytes => TxGossipCodec.Decode(bytes ?? [], 512).Count <= 512).QuickCheckThrowOnFailure();
    }
}
