using Keel.Libp2p.Crypto;

namespace Keel.Libp2p.Tests.Identity;

public sealed class PeerIdTests
{
    [Theory]
    [InlineData("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")]
    [InlineData("16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY")]
    [InlineData("QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk")]
    public void Text_forms_round_trip(string text)
    {
        var id = PeerId.Parse(text);
        Assert.Equal(text, id.ToString());
        Assert.Equal(id, PeerId.Parse(id.ToCidString()));
        Assert.Equal(id, PeerId.FromBytes(id.Bytes));
    }

    [Fact]
    public void Cid_form_parses_to_the_same_id()
    {
        var id = PeerId.Parse("bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6");
        Assert.Equal("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", id.ToString());
    }

    [Fact]
    public void Inlined_keys_are_recovered_and_matched()
    {
        var key = Ed25519IdentityKey.Generate();
        Assert.StartsWith("12D3KooW", key.PeerId.ToString());
        Assert.Equal(key.PublicKey, key.PeerId.TryGetPublicKey());
        Assert.True(key.PeerId.Matches(key.PublicKey));
        Assert.False(key.PeerId.Matches(Ed25519IdentityKey.Generate().PublicKey));
        Assert.Null(PeerId.Parse("QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk").TryGetPublicKey());
    }

    [Theory]
    [InlineData("")]
    [InlineData("12D3KooW")]
    [InlineData("0OIl")]
    [InlineData("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")]
    [InlineData("xyz")]
    [InlineData("b\uaa9e\ua7a6")]
    [InlineData("12D3KooW\u00e9")]
    [InlineData("Qm-")]
    public void Bad_text_is_refused(string text)
    {
        Assert.Throws<MalformedDataException>(() => PeerId.Parse(text));
        Assert.False(PeerId.TryParse(text, out _));
    }
}
