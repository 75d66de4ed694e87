using FsCheck;
using FsCheck.Fluent;
using System.Text;
using Keel.Libp2p.Crypto;

namespace Keel.Libp2p.Tests.Crypto;

/// <summary>Known answers from the libp2p peer-id spec and js-libp2p.</summary>
public sealed class KeysTests
{
    private const string Ed25519Private = "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
    private const string Ed25519Public = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
    private const string Secp256k1Private = "0802122053dadf1d5a164d6b4acdb15e24aa4c5b1d3461bdbd42abedb0a4404d56ced8fb";
    private const string Secp256k1Public = "08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99";

    [Fact]
    public void Ed25519_spec_key_gives_spec_public_key_peer_id_and_signature()
    {
        var key = IdentityKey.Decode(Convert.FromHexString(Ed25519Private));
        Assert.Equal(Ed25519Public, Convert.ToHexString(key.PublicKey.ToProtobuf()).ToLowerInvariant());
        Assert.Equal("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", key.PeerId.ToString());
        Assert.Equal("bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6", key.PeerId.ToCidString());
        var sig = key.Sign("hello"u8);
        Assert.Equal("54f7fd037768d6479d14967d3df9500ba0720166b931e5e9912e58a0ac49fbfcef7aa3adc9b89d736d7411749dee70eb00ff8792ecc5e8c8c39c0b97f710d40c", Convert.ToHexString(sig).ToLowerInvariant());
        Assert.True(key.PublicKey.Verify("hello"u8, sig));
        Assert.False(key.PublicKey.Verify("hellp"u8, sig));
        Assert.Equal(Ed25519Private, Convert.ToHexString(key.ToProtobuf()).ToLowerInvariant());
    }

    [Fact]
    public void Ed25519_legacy_96_byte_private_key_is_accepted_only_when_consistent()
    {
        var proto = Convert.FromHexString(Ed25519Private);
        var pub = proto.AsSpan(4 + 32, 32).ToArray();
        byte[] legacy = [0x08, 0x01, 0x12, 0x60, .. proto.AsSpan(4, 64), .. pub];
        Assert.Equal("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", IdentityKey.Decode(legacy).PeerId.ToString());
        legacy[^1] ^= 1;
        Assert.Throws<MalformedDataException>(() => IdentityKey.Decode(legacy));
    }

    [Fact]
    public void Secp256k1_spec_key_gives_spec_public_key_and_peer_id()
    {
        var key = IdentityKey.Decode(Convert.FromHexString(Secp256k1Private));
        Assert.Equal(Secp256k1Public, Convert.ToHexString(key.PublicKey.ToProtobuf()).ToLowerInvariant());
        Assert.Equal("16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY", key.PeerId.ToString());
        Assert.Equal(Secp256k1Private, Convert.ToHexString(key.ToProtobuf()).ToLowerInvariant());
    }

    [Fact]
    public void Secp256k1_signatures_verify_and_tampering_fails()
    {
        var key = Secp256k1IdentityKey.Generate();
        var msg = Encoding.UTF8.GetBytes("keel");
        var sig = key.Sign(msg);
        var pub = PublicKey.Decode(key.PublicKey.ToProtobuf());
        Assert.True(pub.Verify(msg, sig));
        Assert.False(pub.Verify("keem"u8, sig));
        sig[^1] ^= 1;
        Assert.False(pub.Verify(msg, sig));
        Assert.False(pub.Verify(msg, [0x30, 0x02, 0x01]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0801")]
    [InlineData("08011221" + "00")]
    [InlineData("0805122000000000000000000000000000000000000000000000000000000000000000ff")]
    [InlineData("0800120100")]
    [InlineData("08021221ff7777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99")]
    public void Malformed_public_keys_are_refused_with_a_typed_error(string hex)
    {
        Assert.Throws<MalformedDataException>(() => PublicKey.Decode(Convert.FromHexString(hex)));
    }
}

public sealed class Ed25519BackendTests
{
    [Fact]
    public void OpenSsl_and_BouncyCastle_agree_on_signatures_and_verification()
    {
        Assert.True(OpenSslEd25519.IsAvailable || !OperatingSystem.IsLinux(), "libcrypto.so.3 should load wherever .NET's own crypto works on Linux");
        Prop.ForAll<byte[]>(message =>
        {
            var key = Ed25519IdentityKey.Generate();
            var managed = ManagedEd25519.Sign(key.Seed, key.PublicKey.Raw, message);
            var sig = key.Sign(message);
            Assert.Equal(managed, sig);
            Assert.True(ManagedEd25519.Verify(key.PublicKey.Raw, message, sig));
            Assert.True(key.PublicKey.Verify(message, sig));
            sig[0] ^= 1;
            Assert.False(key.PublicKey.Verify(message, sig));
            Assert.False(ManagedEd25519.Verify(key.PublicKey.Raw, message, sig));
            return true;
        }).QuickCheckThrowOnFailure();
    }
}
