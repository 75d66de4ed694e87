using FsCheck;
using FsCheck.Fluent;
using Keel.Consensus.Codec;
using Keel.Consensus.Model;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Tests.Codec;

public sealed class ConsensusCodecTests
{
    private static readonly Hash32 H = Keccak256.HashToHash32("h"u8);

    private static QuorumCertificate Qc() => new(6, H, [0b0111], [new byte[65], Enumerable.Repeat((byte)7, 65).ToArray(), new byte[65]]);

    private static TimeoutCertificate Tc() => new(7, [0b1011], [3, 6, 5], [new byte[32], new byte[32], Enumerable.Repeat((byte)1, 32).ToArray()]);

    private static Block SomeBlock() => new(9, 7, H, 1_700_000_000_000, Address.FromBytes(new byte[20]), new byte[64], [1, 2, 3, 4]);

    public static TheoryData<string> Kinds => ["proposal", "vote", "timeout", "syncinfo", "request", "response"];

    private static ConsensusMessage Make(string kind) => kind switch
    {
        "proposal" => new ProposalMessage(SomeBlock(), Qc(), Tc(), new byte[65]),
        "vote" => new VoteMessage(7, H, 3, new byte[65]),
        "timeout" => new TimeoutMessage(8, Qc(), Tc(), 2, new byte[65]),
        "syncinfo" => new SyncInfoMessage(Qc(), null),
        "request" => new BlockRequestMessage(H, 4, 64),
        _ => new BlockResponseMessage([new CertifiedBlock(SomeBlock(), Qc()), new CertifiedBlock(SomeBlock(), Qc())]),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_message_round_trips_to_the_same_encoding(string kind)
    {
        var bytes = ConsensusCodec.Encode(Make(kind));
        var decoded = ConsensusCodec.Decode(bytes);
        Assert.Equal(Make(kind).Type, decoded.Type);
        Assert.Equal(bytes, ConsensusCodec.Encode(decoded));
    }

    [Fact]
    public void A_decoded_proposal_keeps_its_block_hash_and_certificates()
    {
        var original = (ProposalMessage)Make("proposal");
        var decoded = (ProposalMessage)ConsensusCodec.Decode(ConsensusCodec.Encode(original));
        Assert.Equal(original.Block.Hash, decoded.Block.Hash);
        Assert.Equal(original.HighQc.BlockHash, decoded.HighQc.BlockHash);
        Assert.Equal(original.LastRoundTc!.HighestQcRound, decoded.LastRoundTc!.HighestQcRound);
        Assert.Equal(original.Block.Payload.ToArray(), decoded.Block.Payload.ToArray());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_truncation_and_any_trailing_byte_is_a_typed_error(string kind)
    {
        var bytes = ConsensusCodec.Encode(Make(kind));
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<InvalidConsensusMessageException>(() => ConsensusCodec.Decode(bytes.AsSpan(0, length)));
        }
        Assert.Throws<InvalidConsensusMessageException>(() => ConsensusCodec.Decode([.. bytes, 0]));
    }

    [Fact]
    public void Random_bytes_never_escape_as_another_exception()
    {
        Prop.ForAll<byte[]>(bytes =>
        {
            foreach (var type in new byte[] { 1, 2, 3, 4, 5, 6, 9 })
            {
                byte[] input = [ConsensusCodec.Version, type, .. bytes];
                try
                {
                    ConsensusCodec.Decode(input);
                }
                catch (InvalidConsensusMessageException)
                {
                }
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Flipped_bytes_of_a_valid_message_decode_or_fail_cleanly()
    {
        var bytes = ConsensusCodec.Encode(Make("response"));
        for (var i = 0; i < bytes.Length; i++)
        {
            var copy = bytes.ToArray();
            copy[i] ^= 0xff;
            try
            {
                ConsensusCodec.Decode(copy);
            }
            catch (InvalidConsensusMessageException)
            {
            }
        }
    }
}
