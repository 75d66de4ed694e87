using System.Buffers.Binary;
using Keel.Consensus.Model;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Tests.Model;

public sealed class BlockTests
{
    [Fact]
    public void The_hash_is_keccak_of_the_abi_encoded_header_then_app_header_words()
    {
        var parent = Keccak256.HashToHash32("parent"u8);
        var proposer = Address.FromBytes(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());
        var appHeader = Keccak256.Hash("namespace root"u8);
        byte[] payload = [1, 2, 3];
        var block = new Block(5, 9, parent, 1_700_000_000_123, proposer, appHeader, payload);

        var expected = new byte[7 * 32];
        BinaryPrimitives.WriteUInt64BigEndian(expected.AsSpan(24), 5);
        BinaryPrimitives.WriteUInt64BigEndian(expected.AsSpan(56), 9);
        parent.Bytes.CopyTo(expected.AsSpan(64));
        BinaryPrimitives.WriteUInt64BigEndian(expected.AsSpan(120), 1_700_000_000_123);
        proposer.Bytes.CopyTo(expected.AsSpan(140));
        Keccak256.Hash(payload).CopyTo(expected.AsSpan(160));
        appHeader.CopyTo(expected.AsSpan(192));

        Assert.Equal(expected, block.EncodeHeader());
        Assert.Equal(Keccak256.HashToHash32(expected), block.Hash);
        Assert.Equal(Keccak256.HashToHash32(payload), block.PayloadHash);
    }

    [Fact]
    public void Any_field_change_changes_the_hash()
    {
        var p = Hash32.Zero;
        var a = new Block(1, 1, p, 10, Address.Zero, [], [1]);
        Assert.NotEqual(a.Hash, new Block(2, 1, p, 10, Address.Zero, [], [1]).Hash);
        Assert.NotEqual(a.Hash, new Block(1, 2, p, 10, Address.Zero, [], [1]).Hash);
        Assert.NotEqual(a.Hash, new Block(1, 1, p, 11, Address.Zero, [], [1]).Hash);
        Assert.NotEqual(a.Hash, new Block(1, 1, p, 10, Address.Zero, [], [2]).Hash);
        Assert.NotEqual(a.Hash, new Block(1, 1, p, 10, Address.Zero, new byte[32], [1]).Hash);
    }

    [Fact]
    public void Bad_fields_get_a_typed_error()
    {
        Assert.Throws<InvalidConsensusMessageException>(() => new Block(1, 1, Hash32.Zero, 1, Address.Zero, new byte[31], []));
        Assert.Throws<InvalidConsensusMessageException>(() => new Block(1, 1, Hash32.Zero, 1, Address.Zero, new byte[ConsensusLimits.MaxAppHeaderBytes + 32], []));
        Assert.Throws<InvalidConsensusMessageException>(() => new Block(-1, 1, Hash32.Zero, 1, Address.Zero, [], []));
        Assert.Throws<InvalidConsensusMessageException>(() => new Block(1, 1, Hash32.Zero, 1, Address.Zero, [], new byte[ConsensusLimits.MaxPayloadBytes + 1]));
    }
}
