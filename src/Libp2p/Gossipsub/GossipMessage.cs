using System.Text;
using Google.Protobuf;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Wire;
using Keel.Libp2p.Protos;

namespace Keel.Libp2p.Gossipsub;

/// <summary>What the application decides about a message: forward it, penalise the sender, or drop it quietly.</summary>
public enum ValidationResult
{
    Accept,
    Reject,
    Ignore,
}

/// <summary>A validated gossip message as the application sees it.</summary>
public sealed record GossipMessage(string Topic, byte[] Data, PeerId Author, ulong SeqNo, byte[] MessageId, PeerId ReceivedFrom);

/// <summary>Decides what happens to a message before it is delivered or forwarded.</summary>
public delegate ValueTask<ValidationResult> MessageValidator(GossipMessage message, CancellationToken ct);

/// <summary>
/// StrictSign (the js default) and js's message id: signatures over
/// <c>"libp2p-pubsub:" ‖ Message{from,data,seqno,topic}</c> in canonical order; the id is the
/// author's PublicKey protobuf followed by the 8-byte seqno.
/// </summary>
public static class MessageSigning
{
    public const int SeqNoBytes = 8;
    private static readonly byte[] SignPrefix = "libp2p-pubsub:"u8.ToArray();

    /// <summary>Fields 1–4 in field order, absent fields left out: the bytes the signature covers.</summary>
    public static byte[] EncodeSignedPart(Message message)
    {
        var size = 0;
        if (message.HasFrom) size += FieldSize(message.From.Length);
        if (message.HasData) size += FieldSize(message.Data.Length);
        if (message.HasSeqno) size += FieldSize(message.Seqno.Length);
        var topicBytes = message.HasTopic ? Encoding.UTF8.GetBytes(message.Topic) : null;
        if (topicBytes is not null) size += FieldSize(topicBytes.Length);
        var buffer = new byte[size];
        var pos = 0;
        if (message.HasFrom) pos = WriteField(buffer, pos, 0x0a, message.From.Span);
        if (message.HasData) pos = WriteField(buffer, pos, 0x12, message.Data.Span);
        if (message.HasSeqno) pos = WriteField(buffer, pos, 0x1a, message.Seqno.Span);
        if (topicBytes is not null) WriteField(buffer, pos, 0x22, topicBytes);
        return buffer;
    }

    private static int FieldSize(int length) => 1 + Varint.Size((ulong)length) + length;

    private static int WriteField(byte[] buffer, int pos, byte tag, ReadOnlySpan<byte> value)
    {
        buffer[pos++] = tag;
        pos += Varint.Write(buffer.AsSpan(pos), (ulong)value.Length);
        value.CopyTo(buffer.AsSpan(pos));
        return pos + value.Length;
    }

    /// <summary>Builds and signs a message authored by <paramref name="identity"/>.</summary>
    public static Message Sign(IdentityKey identity, string topic, ReadOnlySpan<byte> data, ulong seqNo)
    {
        var seq = new byte[SeqNoBytes];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(seq, seqNo);
        var message = new Message
        {
            From = ByteString.CopyFrom(identity.PeerId.Bytes),
            Data = ByteString.CopyFrom(data),
            Seqno = ByteString.CopyFrom(seq),
            Topic = topic,
        };
        message.Signature = ByteString.CopyFrom(identity.Sign([.. SignPrefix, .. EncodeSignedPart(message)]));
        message.Key = ByteString.CopyFrom(identity.PublicKey.ToProtobuf());
        return message;
    }

    /// <summary>Checks a received message under StrictSign; returns the author's key or the reason it is invalid.</summary>
    public static PublicKey? Verify(Message message, out PeerId? author, out string? reason)
    {
        author = null;
        reason = null;
        if (!message.HasTopic)
        {
            reason = "message has no topic";
            return null;
        }
        if (!message.HasSeqno || message.Seqno.Length != SeqNoBytes)
        {
            reason = "seqno missing or not 8 bytes";
            return null;
        }
        if (!message.HasSignature)
        {
            reason = "signature missing";
            return null;
        }
        if (!message.HasFrom)
        {
            reason = "from missing";
            return null;
        }
        try
        {
            author = PeerId.FromBytes(message.From.Span);
        }
        catch (MalformedDataException e)
        {
            reason = $"from is not a peer id: {e.Message}";
            return null;
        }
        PublicKey? key;
        if (message.HasKey)
        {
            try
            {
                key = PublicKey.Decode(message.Key.Span);
            }
            catch (MalformedDataException e)
            {
                reason = $"key does not decode: {e.Message}";
                return null;
            }
            if (!author.Matches(key))
            {
                reason = "key does not match from";
                return null;
            }
        }
        else
        {
            key = author.TryGetPublicKey();
            if (key is null)
            {
                reason = "no key and from does not inline one";
                return null;
            }
        }
        if (!key.Verify([.. SignPrefix, .. EncodeSignedPart(message)], message.Signature.Span))
        {
            reason = "signature does not verify";
            return null;
        }
        return key;
    }

    /// <summary>js-libp2p's StrictSign message id: PublicKey protobuf of the author ‖ seqno.</summary>
    public static byte[] MessageId(PublicKey author, ReadOnlySpan<byte> seqNo) => [.. author.ToProtobuf(), .. seqNo];
}
