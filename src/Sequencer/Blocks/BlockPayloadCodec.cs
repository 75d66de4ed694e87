using System.Buffers.Binary;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Blocks;

/// <summary>One namespace's ordered transactions in a block, as slices of the block payload.</summary>
public sealed class NamespacePayload(ulong namespaceId, IReadOnlyList<ReadOnlyMemory<byte>> transactions, ReadOnlyMemory<byte> body)
{
    public ulong NamespaceId { get; } = namespaceId;

    public IReadOnlyList<ReadOnlyMemory<byte>> Transactions { get; } = transactions;

    /// <summary>The framed transactions (what <see cref="PayloadHash"/> is taken over).</summary>
    public ReadOnlyMemory<byte> Body { get; } = body;

    /// <summary>keccak256 of the body.</summary>
    public Hash32 PayloadHash => Keccak256.HashToHash32(Body.Span);

    /// <summary>Raw transaction bytes, framing not counted.</summary>
    public long TxBytes => Body.Length - (long)BlockPayloadCodec.TxHeaderBytes * Transactions.Count;
}

/// <summary>
/// The block payload format (version 1). All integers big-endian.
/// <code>
/// payload   = version:uint8 (=1) ‖ namespaceCount:uint16 ‖ namespace_0 ‖ ... ‖ namespace_{n-1}
/// namespace = namespaceId:uint64 ‖ txCount:uint32 ‖ bodyLength:uint32 ‖ body
/// body      = txLength_0:uint32 ‖ tx_0 ‖ ... ‖ txLength_{k-1}:uint32 ‖ tx_{k-1}
/// </code>
/// Every configured namespace appears exactly once, in increasing id order (the table order), even
/// with no transactions. A namespace's payload hash is keccak256(body) =
/// keccak256(abi.encodePacked(uint32(len(tx_0)), tx_0, ...)), which a contract recomputes from the
/// transaction list. Decoding is strict: any trailing byte, overrun, empty transaction or exceeded
/// limit is an <see cref="InvalidPayloadException"/>.
/// </summary>
public static class BlockPayloadCodec
{
    public const byte Version = 1;
    public const int HeaderBytes = 1 + 2;
    public const int NamespaceHeaderBytes = 8 + 4 + 4;
    public const int TxHeaderBytes = 4;

    /// <summary>Encodes sections given in table order. Limits are the caller's (the builder's) job.</summary>
    public static byte[] Encode(IReadOnlyList<(ulong NamespaceId, IReadOnlyList<byte[]> Transactions)> sections)
    {
        ArgumentNullException.ThrowIfNull(sections);
        long size = HeaderBytes;
        foreach (var (_, txs) in sections)
        {
            size += NamespaceHeaderBytes;
            foreach (var tx in txs)
            {
                size += TxHeaderBytes + tx.Length;
            }
        }
        if (size > SequencerLimits.MaxPayloadBytes || sections.Count > ushort.MaxValue)
        {
            throw new ArgumentException($"payload of {size} bytes exceeds MaxPayloadBytes {SequencerLimits.MaxPayloadBytes}", nameof(sections));
        }
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)sections.Count);
        var offset = HeaderBytes;
        foreach (var (id, txs) in sections)
        {
            BinaryPrimitives.WriteUInt64BigEndian(span[offset..], id);
            BinaryPrimitives.WriteUInt32BigEndian(span[(offset + 8)..], (uint)txs.Count);
            var bodyStart = offset + NamespaceHeaderBytes;
            var cursor = bodyStart;
            foreach (var tx in txs)
            {
                BinaryPrimitives.WriteUInt32BigEndian(span[cursor..], (uint)tx.Length);
                tx.CopyTo(span[(cursor + TxHeaderBytes)..]);
                cursor += TxHeaderBytes + tx.Length;
            }
            BinaryPrimitives.WriteUInt32BigEndian(span[(offset + 12)..], (uint)(cursor - bodyStart));
            offset = cursor;
        }
        return buffer;
    }

    /// <summary>Bytes one transaction adds to a namespace section.</summary>
    public static int FramedSize(int txBytes) => TxHeaderBytes + txBytes;

    /// <summary>Decodes and checks a payload against the namespace set and its limits.</summary>
    /// <exception cref="InvalidPayloadException">with the first problem found</exception>
    public static IReadOnlyList<NamespacePayload> Decode(ReadOnlyMemory<byte> payload, NamespaceSet namespaces)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        var span = payload.Span;
        if (payload.Length > SequencerLimits.MaxPayloadBytes)
        {
            throw Error(PayloadError.LimitExceeded, $"payload of {payload.Length} bytes exceeds MaxPayloadBytes {SequencerLimits.MaxPayloadBytes}");
        }
        if (payload.Length < HeaderBytes)
        {
            throw Error(PayloadError.Malformed, $"payload of {payload.Length} bytes is shorter than its {HeaderBytes}-byte header");
        }
        if (span[0] != Version)
        {
            throw Error(PayloadError.UnsupportedVersion, $"payload version {span[0]}; this node reads version {Version}");
        }
        var count = BinaryPrimitives.ReadUInt16BigEndian(span[1..]);
        if (count != namespaces.Count)
        {
            throw Error(PayloadError.NamespaceMismatch, $"payload has {count} namespaces, the configuration {namespaces.Count}");
        }
        var result = new NamespacePayload[count];
        var offset = HeaderBytes;
        for (var i = 0; i < count; i++)
        {
            var config = namespaces[i];
            if (payload.Length - offset < NamespaceHeaderBytes)
            {
                throw Error(PayloadError.Malformed, $"namespace section {i} header overruns the payload at offset {offset}");
            }
            var id = BinaryPrimitives.ReadUInt64BigEndian(span[offset..]);
            var txCount = BinaryPrimitives.ReadUInt32BigEndian(span[(offset + 8)..]);
            var bodyLength = BinaryPrimitives.ReadUInt32BigEndian(span[(offset + 12)..]);
            if (id != config.ChainId)
            {
                throw Error(PayloadError.NamespaceMismatch, $"namespace section {i} is {id}; expected {config.ChainId} (sections follow the configured ids in increasing order)");
            }
            if (txCount > (uint)config.MaxTxsPerBlock)
            {
                throw Error(PayloadError.LimitExceeded, $"namespace {id} has {txCount} transactions; the limit is {config.MaxTxsPerBlock}");
            }
            var bodyStart = offset + NamespaceHeaderBytes;
            if (bodyLength > (uint)(payload.Length - bodyStart))
            {
                throw Error(PayloadError.Malformed, $"namespace {id} body of {bodyLength} bytes overruns the payload");
            }
            var bodyEnd = bodyStart + (int)bodyLength;
            var txs = new ReadOnlyMemory<byte>[txCount];
            var cursor = bodyStart;
            long txBytes = 0;
            for (var t = 0; t < txCount; t++)
            {
                if (bodyEnd - cursor < TxHeaderBytes)
                {
                    throw Error(PayloadError.Malformed, $"namespace {id} transaction {t} length overruns the body");
                }
                var length = BinaryPrimitives.ReadUInt32BigEndian(span[cursor..]);
                cursor += TxHeaderBytes;
                if (length == 0)
                {
                    throw Error(PayloadError.Malformed, $"namespace {id} transaction {t} is empty");
                }
                if (length > (uint)config.MaxTxBytes)
                {
                    throw Error(PayloadError.LimitExceeded, $"namespace {id} transaction {t} of {length} bytes exceeds MaxTxBytes {config.MaxTxBytes}");
                }
                if (length > (uint)(bodyEnd - cursor))
                {
                    throw Error(PayloadError.Malformed, $"namespace {id} transaction {t} of {length} bytes overruns the body");
                }
                txs[t] = payload.Slice(cursor, (int)length);
                cursor += (int)length;
                txBytes += length;
            }
            if (cursor != bodyEnd)
            {
                throw Error(PayloadError.Malformed, $"namespace {id} body has {bodyEnd - cursor} bytes after its {txCount} transactions");
            }
            if (txBytes > config.MaxBlockBytes)
            {
                throw Error(PayloadError.LimitExceeded, $"namespace {id} carries {txBytes} transaction bytes; the limit is {config.MaxBlockBytes}");
            }
            result[i] = new NamespacePayload(id, txs, payload[bodyStart..bodyEnd]);
            offset = bodyEnd;
        }
        if (offset != payload.Length)
        {
            throw Error(PayloadError.Malformed, $"{payload.Length - offset} bytes after the last namespace section");
        }
        return result;
    }

    private static InvalidPayloadException Error(PayloadError error, string message) => new(error, message);
}
