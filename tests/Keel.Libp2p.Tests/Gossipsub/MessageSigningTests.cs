using Google.Protobuf;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Gossipsub;
using Keel.Libp2p.Protos;

namespace Keel.Libp2p.Tests.Gossipsub;

/// <summary>The spec's gossipsub vectors (checked with js-libp2p), and StrictSign's rejections.</summary>
public sealed class MessageSigningTests
{
    private static readonly IdentityKey SpecKey = IdentityKey.Decode(Convert.FromHexString("080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"));

    [Fact]
    public void Signed_message_matches_the_vector_and_its_id_is_the_js_one()
    {
        var m = MessageSigning.Sign(SpecKey, "test-topic", "hello"u8, 1);
        Assert.Equal("0a260024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e120568656c6c6f1a080000000000000001220a746573742d746f706963",
            Convert.ToHexString(MessageSigning.EncodeSignedPart(m)).ToLowerInvariant());
        Assert.Equal("796328456c47344639009b02d14efbd8e389a10d582f32a93d35680d1139bb4654cec3a4954de284d8d5b9ef6fd153ebf86d3cd04ba13c48b6e0e5599c79e002",
            Convert.ToHexString(m.Signature.ToByteArray()).ToLowerInvariant());
        Assert.Equal("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e0000000000000001",
            Convert.ToHexString(MessageSigning.MessageId(SpecKey.PublicKey, m.Seqno.Span)).ToLowerInvariant());
        Assert.NotNull(MessageSigning.Verify(Message.Parser.ParseFrom(m.ToByteArray()), out var author, out _));
        Assert.Equal(SpecKey.PeerId, author);
    }

    [Fact]
    public void Rpc_encodings_match_the_vectors()
    {
        var sub = new RPC { Subscriptions = { new SubOpts { Subscribe = true, Topicid = "test-topic" } } };
        Assert.Equal("0a0e0801120a746573742d746f706963", Convert.ToHexString(sub.ToByteArray()).ToLowerInvariant());
        var graft = new RPC { Control = new ControlMessage { Graft = { new ControlGraft { TopicID = "test-topic" } } } };
        Assert.Equal("1a0e1a0c0a0a746573742d746f706963", Convert.ToHexString(graft.ToByteArray()).ToLowerInvariant());
    }

    public static TheoryData<string> Tamperings => ["data", "seqno-length", "no-seqno", "no-signature", "wrong-key", "bad-from", "no-topic", "bad-signature"];

    [Theory]
    [MemberData(nameof(Tamperings))]
    public void Strict_sign_rejects_tampered_messages(string how)
    {
        var m = MessageSigning.Sign(SpecKey, "t", "payload"u8, 7);
        switch (how)
        {
            case "data": m.Data = ByteString.CopyFromUtf8("payloae"); break;
            case "seqno-length": m.Seqno = ByteString.CopyFrom(new byte[7]); break;
            case "no-seqno": m.ClearSeqno(); break;
            case "no-signature": m.ClearSignature(); break;
            case "wrong-key": m.Key = ByteString.CopyFrom(Ed25519IdentityKey.Generate().PublicKey.ToProtobuf()); break;
            case "bad-from": m.From = ByteString.CopyFrom([1, 2, 3]); break;
            case "no-topic": m.ClearTopic(); break;
            case "bad-signature": m.Signature = ByteString.CopyFrom(new byte[64]); break;
        }
        Assert.Null(MessageSigning.Verify(m, out _, out var reason));
        Assert.False(string.IsNullOrEmpty(reason));
    }

    [Fact]
    public void Key_may_be_omitted_for_inlined_ids_and_secp256k1_authors_verify()
    {
        var m = MessageSigning.Sign(SpecKey, "t", "x"u8, 1);
        m.ClearKey();
        Assert.NotNull(MessageSigning.Verify(m, out _, out _));
        var secp = Secp256k1IdentityKey.Generate();
        var s = MessageSigning.Sign(secp, "t", "x"u8, 2);
        Assert.IsType<Secp256k1PublicKey>(MessageSigning.Verify(s, out var author, out _));
        Assert.Equal(secp.PeerId, author);
    }
}

public sealed class TopicsTests
{
    [Fact]
    public void Topics_are_versioned_and_parts_checked()
    {
        Assert.Equal("/keel/devnet/votes/1", Topics.Versioned("devnet", "votes"));
        Assert.Equal("/keel/devnet/votes/2", Topics.Versioned("devnet", "votes", 2));
        Assert.Throws<ArgumentException>(() => Topics.Versioned("dev/net", "votes"));
        Assert.Throws<ArgumentException>(() => Topics.Versioned("devnet", ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => Topics.Versioned("devnet", "votes", 0));
    }
}
