using System.Text.Json;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Transport;

namespace Keel.Libp2p.Tests.Transport;

/// <summary>The cacophony known answers for Noise_XX_25519_ChaChaPoly_SHA256 and the libp2p payload vector.</summary>
public sealed class NoiseProtocolTests
{
    private static byte[] Hex(JsonElement e, string name) => Convert.FromHexString(e.GetProperty(name).GetString()!);

    [Fact]
    public void Cacophony_xx_vector_matches_handshake_and_transport_messages()
    {
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Vectors", "noise-xx-25519-chachapoly-sha256.json")));
        var v = json.RootElement.GetProperty("vectors")[0];
        Assert.Equal(XxHandshake.ProtocolName, v.GetProperty("protocol_name").GetString());
        using var initiator = new XxHandshake(true, Hex(v, "init_prologue"), Hex(v, "init_static"), Hex(v, "init_ephemeral"));
        using var responder = new XxHandshake(false, Hex(v, "resp_prologue"), Hex(v, "resp_static"), Hex(v, "resp_ephemeral"));
        var messages = v.GetProperty("messages").EnumerateArray().ToList();
        Assert.True(messages.Count >= 4);
        for (var i = 0; i < 3; i++)
        {
            var (writer, reader) = i % 2 == 0 ? (initiator, responder) : (responder, initiator);
            var payload = Hex(messages[i], "payload");
            var wire = writer.WriteMessage(payload);
            Assert.Equal(Convert.ToHexString(Hex(messages[i], "ciphertext")), Convert.ToHexString(wire));
            Assert.Equal(payload, reader.ReadMessage(wire));
        }
        Assert.Equal(Convert.ToHexString(Hex(v, "handshake_hash")), Convert.ToHexString(initiator.HandshakeHash));
        Assert.Equal(initiator.HandshakeHash, responder.HandshakeHash);
        Assert.Equal(XxHandshake.PublicFor(Hex(v, "resp_static")), initiator.RemoteStaticPublic);
        Assert.Equal(XxHandshake.PublicFor(Hex(v, "init_static")), responder.RemoteStaticPublic);

        var (iSend, iReceive) = initiator.Split();
        var (rSend, rReceive) = responder.Split();
        for (var i = 3; i < messages.Count; i++)
        {
            var (send, receive) = i % 2 == 0 ? (iSend, rReceive) : (rSend, iReceive);
            var payload = Hex(messages[i], "payload");
            var wire = new byte[payload.Length + CipherState.TagBytes];
            send.Encrypt([], payload, wire);
            Assert.Equal(Convert.ToHexString(Hex(messages[i], "ciphertext")), Convert.ToHexString(wire));
            var plain = new byte[payload.Length];
            receive.Decrypt([], wire, plain);
            Assert.Equal(payload, plain);
        }
    }

    [Fact]
    public void Tampered_handshake_message_fails_authentication()
    {
        using var initiator = new XxHandshake(true, [], System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        using var responder = new XxHandshake(false, [], System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        responder.ReadMessage(initiator.WriteMessage([]));
        var msg2 = responder.WriteMessage("payload"u8);
        msg2[40] ^= 0x01;
        Assert.Throws<HandshakeException>(() => initiator.ReadMessage(msg2));
    }

    [Fact]
    public void Short_handshake_message_is_refused()
    {
        using var responder = new XxHandshake(false, [], new byte[32].Select((_, i) => (byte)(i + 1)).ToArray());
        Assert.Throws<HandshakeException>(() => responder.ReadMessage(new byte[10]));
    }

    [Fact]
    public void Libp2p_payload_vector_matches()
    {
        var identity = IdentityKey.Decode(Convert.FromHexString("080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"));
        var staticPrivate = Convert.FromHexString("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1");
        var staticPublic = XxHandshake.PublicFor(staticPrivate);
        Assert.Equal("6bc3822a2aa7f4e6981d6538692b3cdf3e6df9eea6ed269eb41d93c22757b75a", Convert.ToHexString(staticPublic).ToLowerInvariant());
        var payload = Noise.BuildPayload(identity, staticPublic);
        const string sig = "e292a4b36dcd264cb7933551567462bf4b6bdc79bcc37af23ea723110cf8cfde08000f9e95441ba4fd4b82844305554004fc4be681ce33c277510b6332588c09";
        Assert.Equal(104, payload.Length);
        Assert.Equal("0a24" + "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e" + "1240" + sig, Convert.ToHexString(payload).ToLowerInvariant());
        var (peer, _) = Noise.VerifyPayload(payload, staticPublic, identity.PeerId);
        Assert.Equal(identity.PeerId, peer);
        Assert.Throws<HandshakeException>(() => Noise.VerifyPayload(payload, XxHandshake.PublicFor(new byte[32].Select(_ => (byte)7).ToArray()), null));
        Assert.Throws<HandshakeException>(() => Noise.VerifyPayload(payload, staticPublic, Ed25519IdentityKey.Generate().PeerId));
    }

    [Fact]
    public void Bouncy_castle_fallback_aead_agrees_with_the_platform_one()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        using var a = new Aead.BouncyAead(key);
        using var b = Aead.Create(key);
        var nonce = new byte[12];
        nonce[4] = 9;
        var plain = "some plaintext"u8.ToArray();
        var c1 = new byte[plain.Length];
        var t1 = new byte[16];
        a.Encrypt(nonce, plain, c1, t1, "ad"u8);
        var back = new byte[plain.Length];
        Assert.True(b.TryDecrypt(nonce, c1, t1, back, "ad"u8));
        Assert.Equal(plain, back);
        t1[0] ^= 1;
        Assert.False(b.TryDecrypt(nonce, c1, t1, back, "ad"u8));
        Assert.False(a.TryDecrypt(nonce, c1, t1, back, "ad"u8));
    }
}
