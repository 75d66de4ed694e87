using System.Buffers.Binary;
using Keel.Consensus.Model;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Sequencer.Blocks;

namespace Keel.Sequencer.Tests.Blocks;

public class SequencerHeaderTests
{
    [Fact]
    public void Block_hash_is_keccak_of_nine_abi_words()
    {
        var table = Keccak256.HashToHash32([1]);
        var headers = Keccak256.HashToHash32([2]);
        var parent = Keccak256.HashToHash32([3]);
        var proposer = Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        var app = new AppHeader(AppHeader.CurrentVersion, table, headers).Encode();
        var payload = new byte[] { 9, 9, 9 };
        var block = new Block(5, 7, parent, 1_700_000_000_123, proposer, app, payload);

        var words = new byte[9 * 32];
        BinaryPrimitives.WriteUInt64BigEndian(words.AsSpan(24), 5);
        BinaryPrimitives.WriteUInt64BigEndian(words.AsSpan(32 + 24), 7);
        parent.Bytes.CopyTo(words.AsSpan(64));
        BinaryPrimitives.WriteUInt64BigEndian(words.AsSpan(96 + 24), 1_700_000_000_123);
        proposer.Bytes.CopyTo(words.AsSpan(128 + 12));
        Keccak256.Hash(payload).CopyTo(words.AsSpan(160));
        BinaryPrimitives.WriteUInt64BigEndian(words.AsSpan(192 + 24), 1);
        table.Bytes.CopyTo(words.AsSpan(224));
        headers.Bytes.CopyTo(words.AsSpan(256));
        Assert.Equal(Keccak256.HashToHash32(words), block.Hash);

        var header = SequencerHeader.FromBlock(block);
        Assert.Equal(table, header.NamespaceTableRoot);
        Assert.Equal(headers, header.HeadersRoot);
        Assert.Equal(block.Hash, header.Hash);
    }

    [Fact]
    public void Bad_app_headers_are_refused_with_reasons()
    {
        var good = new AppHeader(1, Hash32.Zero, Hash32.Zero).Encode();
        Assert.Equal(PayloadError.Malformed, Assert.Throws<InvalidPayloadException>(() => AppHeader.Decode(good.AsSpan(0, 64))).Error);
        var nonCanonical = (byte[])good.Clone();
        nonCanonical[0] = 1;
        Assert.Equal(PayloadError.Malformed, Assert.Throws<InvalidPayloadException>(() => AppHeader.Decode(nonCanonical)).Error);
        var future = new AppHeader(2, Hash32.Zero, Hash32.Zero).Encode();
        Assert.Equal(PayloadError.UnsupportedVersion, Assert.Throws<InvalidPayloadException>(() => AppHeader.Decode(future)).Error);
        Assert.Equal(new AppHeader(1, Hash32.Zero, Hash32.Zero), AppHeader.Decode(good));
    }
}
