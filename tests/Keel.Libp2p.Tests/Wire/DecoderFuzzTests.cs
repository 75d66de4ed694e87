using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Gossipsub;
using Keel.Libp2p.Protos;
using Keel.Libp2p.Tests.Support;
using Keel.Libp2p.Transport;
using Keel.Libp2p.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Libp2p.Tests.Wire;

/// <summary>
/// Randomized input for every decoder that reads peer bytes: each must either decode or throw
/// its typed exception, never anything else (no IndexOutOfRange, no overflow, no hang).
/// </summary>
public sealed class DecoderFuzzTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(500);

    private static bool Typed(Action decode, params Type[] allowed)
    {
        try
        {
            decode();
            return true;
        }
        catch (Exception e) when (allowed.Any(t => t.IsInstanceOfType(e)))
        {
            return true;
        }
    }

    [Fact]
    public void Varint_decoder() =>
        Prop.ForAll<byte[]>(b => Typed(() => Varint.TryRead(b, out _, out _), typeof(MalformedDataException))).Check(Runs);

    [Fact]
    public void Multiaddr_decoder() =>
        Prop.ForAll<byte[]>(b => Typed(() =>
        {
            var a = Multiaddr.FromBytes(b);
            Assert.Equal(a, Multiaddr.Parse(a.ToString()));
        }, typeof(MalformedDataException))).Check(Runs);

    [Fact]
    public void Multiaddr_text_parser() =>
        Prop.ForAll<string>(s => Typed(() => Multiaddr.Parse(s ?? ""), typeof(MalformedDataException))).Check(Runs);

    [Fact]
    public void Peer_id_and_key_decoders()
    {
        Prop.ForAll<byte[]>(b => Typed(() => PeerId.FromBytes(b), typeof(MalformedDataException))).Check(Runs);
        Prop.ForAll<byte[]>(b => Typed(() => PublicKey.Decode(b), typeof(MalformedDataException))).Check(Runs);
        Prop.ForAll<string>(s => Typed(() => PeerId.Parse(s ?? ""), typeof(MalformedDataException))).Check(Runs);
        // Near-valid keys: a correct header with random key bytes.
        Prop.ForAll<byte[]>(b => Typed(() => PublicKey.Decode([0x08, 0x02, 0x12, 0x21, .. b.Concat(new byte[33]).Take(33)]), typeof(MalformedDataException))).Check(Runs);
    }

    [Fact]
    public void Gossipsub_rpc_and_message_verification()
    {
        var key = Ed25519IdentityKey.Generate();
        var valid = new RPC { Publish = { MessageSigning.Sign(key, "t", "data"u8, 1) } }.ToByteArray();
        Prop.ForAll<int, byte>((pos, value) => Typed(() =>
        {
            var mutated = (byte[])valid.Clone();
            mutated[(int)((uint)pos % mutated.Length)] ^= (byte)(value | 1);
            foreach (var m in RPC.Parser.ParseFrom(mutated).Publish)
            {
                MessageSigning.Verify(m, out _, out _);
            }
        }, typeof(InvalidProtocolBufferException))).Check(Runs);
        Prop.ForAll<byte[]>(b => Typed(() => RPC.Parser.ParseFrom(b), typeof(InvalidProtocolBufferException))).Check(Runs);
    }

    [Fact]
    public void Multistream_line_reader()
    {
        Prop.ForAll<byte[]>(b => Typed(() => Multistream.ReadLineAsync(new MemoryStream(b), default).GetAwaiter().GetResult(),
            typeof(NegotiationException), typeof(MalformedDataException), typeof(EndOfStreamException))).Check(Runs);
    }

    [Fact]
    public void Noise_handshake_reader()
    {
        Prop.ForAll<byte[]>(b => Typed(() =>
        {
            using var initiator = new XxHandshake(true, [], System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            initiator.WriteMessage([]);
            initiator.ReadMessage(b);
        }, typeof(HandshakeException))).Check(Runs);
    }

    [Fact]
    public async Task Yamux_session_survives_random_frames_by_closing_with_a_reason()
    {
        for (var run = 0; run < 200; run++)
        {
            var (a, b) = DuplexPipe.Create();
            var session = new Yamux(a, isClient: true, NullLogger.Instance, s => Task.CompletedTask);
            session.Start();
            var junk = new byte[Random.Shared.Next(1, 64)];
            Random.Shared.NextBytes(junk);
            if (run % 2 == 0)
            {
                junk[0] = 0; // valid version, random type and flags: reaches deeper branches
            }
            await b.WriteAsync(junk);
            await b.FlushAsync();
            b.Dispose();
            var reason = await session.Closed.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.False(string.IsNullOrEmpty(reason));
            await session.DisposeAsync();
        }
    }
}
