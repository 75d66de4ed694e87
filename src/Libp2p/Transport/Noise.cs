using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Protos;

namespace Keel.Libp2p.Transport;

/// <summary>A finished Noise handshake: the encrypted stream and who is on the other end.</summary>
public sealed record SecureChannel(NoiseStream Stream, PeerId RemotePeer, PublicKey RemoteKey);

/// <summary>
/// libp2p's <c>/noise</c> security: Noise XX with an empty prologue, each handshake message and
/// each transport frame prefixed by a 16-bit big-endian length, the identity key proved by a
/// signature over the static X25519 key in the handshake payload.
/// </summary>
public static class Noise
{
    public const string ProtocolId = "/noise";
    /// <summary>Noise's cap on one message; also the transport frame limit.</summary>
    public const int MaxMessageBytes = 65535;
    public const int MaxPlaintextBytes = MaxMessageBytes - CipherState.TagBytes;
    private static readonly byte[] SignaturePrefix = "noise-libp2p-static-key:"u8.ToArray();

    /// <summary>Runs the handshake as initiator (dialer). When <paramref name="expected"/> is set, the remote must prove that id.</summary>
    public static async Task<SecureChannel> InitiateAsync(Stream stream, IdentityKey identity, PeerId? expected, CancellationToken ct)
    {
        var staticKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(XxHandshake.DhBytes);
        using var hs = new XxHandshake(true, [], staticKey);
        await WriteFrameAsync(stream, hs.WriteMessage([]), ct).ConfigureAwait(false);
        var payload = hs.ReadMessage(await ReadFrameAsync(stream, ct).ConfigureAwait(false));
        var (peer, key) = VerifyPayload(payload, hs.RemoteStaticPublic!, expected);
        await WriteFrameAsync(stream, hs.WriteMessage(BuildPayload(identity, hs.LocalStaticPublic)), ct).ConfigureAwait(false);
        var (send, receive) = hs.Split();
        return new SecureChannel(new NoiseStream(stream, send, receive), peer, key);
    }

    /// <summary>Runs the handshake as responder (listener).</summary>
    public static async Task<SecureChannel> RespondAsync(Stream stream, IdentityKey identity, CancellationToken ct)
    {
        var staticKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(XxHandshake.DhBytes);
        using var hs = new XxHandshake(false, [], staticKey);
        hs.ReadMessage(await ReadFrameAsync(stream, ct).ConfigureAwait(false));
        await WriteFrameAsync(stream, hs.WriteMessage(BuildPayload(identity, hs.LocalStaticPublic)), ct).ConfigureAwait(false);
        var payload = hs.ReadMessage(await ReadFrameAsync(stream, ct).ConfigureAwait(false));
        var (peer, key) = VerifyPayload(payload, hs.RemoteStaticPublic!, null);
        var (send, receive) = hs.Split();
        return new SecureChannel(new NoiseStream(stream, send, receive), peer, key);
    }

    /// <summary>
    /// The payload proving our identity. It lists no stream muxers on purpose: js then negotiates
    /// yamux with multistream-select, which keeps one code path for every peer.
    /// </summary>
    internal static byte[] BuildPayload(IdentityKey identity, ReadOnlySpan<byte> staticPublic) =>
        new NoiseHandshakePayload
        {
            IdentityKey = ByteString.CopyFrom(identity.PublicKey.ToProtobuf()),
            IdentitySig = ByteString.CopyFrom(identity.Sign([.. SignaturePrefix, .. staticPublic])),
        }.ToByteArray();

    internal static (PeerId, PublicKey) VerifyPayload(byte[] payload, byte[] remoteStatic, PeerId? expected)
    {
        NoiseHandshakePayload parsed;
        PublicKey key;
        try
        {
            parsed = NoiseHandshakePayload.Parser.ParseFrom(payload);
            key = PublicKey.Decode(parsed.IdentityKey.Span);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or MalformedDataException)
        {
            throw new HandshakeException($"noise payload does not decode: {e.Message}");
        }
        if (!parsed.HasIdentitySig || !key.Verify([.. SignaturePrefix, .. remoteStatic], parsed.IdentitySig.Span))
        {
            throw new HandshakeException("noise payload signature does not verify against the static key");
        }
        var peer = key.ToPeerId();
        if (expected is not null && peer != expected)
        {
            throw new HandshakeException($"dialed {expected} but the remote proved {peer}");
        }
        return (peer, key);
    }

    private static async Task WriteFrameAsync(Stream stream, byte[] message, CancellationToken ct)
    {
        var frame = new byte[2 + message.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)message.Length);
        message.CopyTo(frame, 2);
        await stream.WriteAsync(frame, ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadFrameAsync(Stream stream, CancellationToken ct)
    {
        var len = new byte[2];
        await stream.ReadExactlyAsync(len, ct).ConfigureAwait(false);
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(len)];
        await stream.ReadExactlyAsync(message, ct).ConfigureAwait(false);
        return message;
    }
}

/// <summary>
/// The Noise transport: a byte stream over length-prefixed encrypted frames. Reads come from one
/// reader at a time and writes from one writer at a time (the muxer serialises both).
/// </summary>
public sealed class NoiseStream : ByteChannelStream
{
    /// <summary>Network reads fill this much at a time so that small frames cost no extra syscalls.</summary>
    private const int ReceiveBufferBytes = 2 * (Noise.MaxMessageBytes + 2);
    private readonly Stream _inner;
    private readonly CipherState _send;
    private readonly CipherState _receive;
    private readonly byte[] _raw = new byte[ReceiveBufferBytes];
    private int _rawStart;
    private int _rawEnd;
    private readonly byte[] _plain = new byte[Noise.MaxPlaintextBytes];
    private int _plainStart;
    private int _plainEnd;
    private bool _disposed;

    internal NoiseStream(Stream inner, CipherState send, CipherState receive)
    {
        _inner = inner;
        _send = send;
        _receive = receive;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_plainStart == _plainEnd)
        {
            if (!await ReadFrameAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
        }
        var n = Math.Min(buffer.Length, _plainEnd - _plainStart);
        _plain.AsMemory(_plainStart, n).CopyTo(buffer);
        _plainStart += n;
        return n;
    }

    private async ValueTask<bool> ReadFrameAsync(CancellationToken ct)
    {
        if (!await FillAsync(2, ct).ConfigureAwait(false))
        {
            return false;
        }
        var length = BinaryPrimitives.ReadUInt16BigEndian(_raw.AsSpan(_rawStart));
        if (!await FillAsync(2 + length, ct).ConfigureAwait(false))
        {
            throw new EndOfStreamException("connection closed inside a noise frame");
        }
        _plainEnd = _receive.Decrypt([], _raw.AsSpan(_rawStart + 2, length), _plain);
        _plainStart = 0;
        _rawStart += 2 + length;
        return true;
    }

    /// <summary>Makes at least <paramref name="count"/> bytes available in the raw buffer; false at a clean EOF.</summary>
    private async ValueTask<bool> FillAsync(int count, CancellationToken ct)
    {
        if (_rawEnd - _rawStart >= count)
        {
            return true;
        }
        if (_rawStart > 0)
        {
            Buffer.BlockCopy(_raw, _rawStart, _raw, 0, _rawEnd - _rawStart);
            _rawEnd -= _rawStart;
            _rawStart = 0;
        }
        while (_rawEnd < count)
        {
            var n = await _inner.ReadAsync(_raw.AsMemory(_rawEnd), ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (_rawEnd == 0)
                {
                    return false;
                }
                throw new EndOfStreamException("connection closed inside a noise frame");
            }
            _rawEnd += n;
        }
        return true;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            // Batch up to a few frames per socket write.
            const int BatchFrames = 4;
            var take = Math.Min(buffer.Length, BatchFrames * Noise.MaxPlaintextBytes);
            var frames = (take + Noise.MaxPlaintextBytes - 1) / Noise.MaxPlaintextBytes;
            var size = take + frames * (2 + CipherState.TagBytes);
            var output = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                var pos = 0;
                var chunkStart = 0;
                while (chunkStart < take)
                {
                    var chunk = Math.Min(Noise.MaxPlaintextBytes, take - chunkStart);
                    var written = _send.Encrypt([], buffer.Span.Slice(chunkStart, chunk), output.AsSpan(pos + 2));
                    BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(pos), (ushort)written);
                    pos += 2 + written;
                    chunkStart += chunk;
                }
                await _inner.WriteAsync(output.AsMemory(0, pos), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(output);
            }
            buffer = buffer[take..];
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
    public override void Flush() => _inner.Flush();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _send.Dispose();
            _receive.Dispose();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
