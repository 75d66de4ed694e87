using Keel.Sequencer.Availability;
using Keel.Sequencer.Tests.TestData;

namespace Keel.Sequencer.Tests.Availability;

public class StoredBlockCodecTests
{
    [Fact]
    public void Committed_blocks_round_trip_and_corruption_is_typed()
    {
        var h = new AppHarness();
        h.App.Submit(AppHarness.ChainA, h.A.Transfer(0, 0));
        h.App.Submit(AppHarness.OpaqueChain, [1, 2, 3]);
        var block = h.ProposeAndCommit(h.Genesis);
        var stored = h.Store.GetByHeight(1)!;
        var bytes = StoredBlockCodec.Encode(stored);
        var back = StoredBlockCodec.Decode(bytes);
        Assert.Equal(block.Hash, back.Block.Hash);
        Assert.Equal(block.Payload.ToArray(), back.Block.Payload.ToArray());
        Assert.Equal(stored.Certificate.BlockHash, back.Certificate.BlockHash);
        Assert.Equal(stored.Table, back.Table);
        for (var cut = 0; cut < bytes.Length; cut += 7)
        {
            Assert.Throws<InvalidPayloadException>(() => StoredBlockCodec.Decode(bytes.AsSpan(0, cut)));
        }
        Assert.Throws<InvalidPayloadException>(() => StoredBlockCodec.Decode([.. bytes, 0]));
        var flipped = (byte[])bytes.Clone();
        flipped[0] = 9;
        Assert.Throws<InvalidPayloadException>(() => StoredBlockCodec.Decode(flipped));
    }
}
