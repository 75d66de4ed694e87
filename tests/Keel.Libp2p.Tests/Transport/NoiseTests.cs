using System.Security.Cryptography;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Tests.Support;
using Keel.Libp2p.Transport;

namespace Keel.Libp2p.Tests.Transport;

public sealed class NoiseTests
{
    [Fact]
    public async Task Handshake_proves_both_identities_and_carries_large_writes()
    {
        var (a, b) = DuplexPipe.Create();
        var alice = Ed25519IdentityKey.Generate();
        var bob = Secp256k1IdentityKey.Generate();
        var responding = Noise.RespondAsync(b, bob, default);
        var initiated = await Noise.InitiateAsync(a, alice, bob.PeerId, default);
        var responded = await responding;
        Assert.Equal(bob.PeerId, initiated.RemotePeer);
        Assert.Equal(alice.PeerId, responded.RemotePeer);

        var data = RandomNumberGenerator.GetBytes(3 * Noise.MaxPlaintextBytes + 17);
        var write = initiated.Stream.WriteAsync(data).AsTask();
        var got = new byte[data.Length];
        await responded.Stream.ReadExactlyAsync(got);
        await write;
        Assert.Equal(data, got);
    }

    [Fact]
    public async Task Dialling_the_wrong_peer_id_fails_the_handshake()
    {
        var (a, b) = DuplexPipe.Create();
        var responding = Noise.RespondAsync(b, Ed25519IdentityKey.Generate(), default);
        await Assert.ThrowsAsync<HandshakeException>(() => Noise.InitiateAsync(a, Ed25519IdentityKey.Generate(), Ed25519IdentityKey.Generate().PeerId, default));
        a.Dispose();
        await Assert.ThrowsAnyAsync<Exception>(() => responding);
    }

    [Fact]
    public async Task Tampered_transport_frame_is_refused()
    {
        var (a, b) = DuplexPipe.Create();
        var (c, d) = DuplexPipe.Create();
        // Relay a -> d through a tampering middle: b reads what a wrote, c writes it on to d.
        var responding = Noise.RespondAsync(d, Ed25519IdentityKey.Generate(), default);
        var relayUp = Task.Run(async () =>
        {
            var buf = new byte[65536];
            var total = 0;
            int n;
            while ((n = await b.ReadAsync(buf)) > 0)
            {
                total += n;
                if (total > 400)
                {
                    buf[n - 1] ^= 1; // after the handshake: corrupt transport data
                }
                await c.WriteAsync(buf.AsMemory(0, n));
                await c.FlushAsync();
            }
        });
        var relayDown = Task.Run(async () =>
        {
            var buf = new byte[65536];
            int n;
            while ((n = await c.ReadAsync(buf)) > 0)
            {
                await b.WriteAsync(buf.AsMemory(0, n));
                await b.FlushAsync();
            }
        });
        var initiated = await Noise.InitiateAsync(a, Ed25519IdentityKey.Generate(), null, default);
        var responded = await responding;
        await initiated.Stream.WriteAsync(new byte[600]);
        await Assert.ThrowsAsync<HandshakeException>(async () => await responded.Stream.ReadExactlyAsync(new byte[600]));
    }
}
