using System.Buffers.Binary;
using Keel.Consensus;
using Keel.Consensus.Codec;
using Keel.Consensus.Model;
using Keel.Sequencer.Blocks;

namespace Keel.Sequencer.Availability;

/// <summary>
/// Bytes for a <see cref="StoredBlock"/>, for a key-value block store:
/// <code>
/// record = version:uint8 (=1) ‖ blockLength:uint32 ‖ block ‖ entryCount:uint8 ‖ entry_0 ‖ … (128 bytes each)
/// block  = the consensus wire form of a one-block BlockResponse (block with its QC)
/// </code>
/// Decoding is strict; corruption ends in <see cref="InvalidPayloadException"/> (Malformed).
/// </summary>
public static class StoredBlockCodec
{
    public const byte Version = 1;

    public static byte[] Encode(StoredBlock stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var block = ConsensusCodec.Encode(new BlockResponseMessage([new CertifiedBlock(stored.Block, stored.Certificate)]));
        var buffer = new byte[1 + 4 + block.Length + 1 + stored.Table.Count * NamespaceEntry.EncodedBytes];
        buffer[0] = Version;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)block.Length);
        block.CopyTo(buffer.AsSpan(5));
        var offset = 5 + block.Length;
        buffer[offset++] = checked((byte)stored.Table.Count);
        foreach (var entry in stored.Table)
        {
            entry.Encode().CopyTo(buffer.AsSpan(offset));
            offset += NamespaceEntry.EncodedBytes;
        }
        return buffer;
    }

    /// <exception cref="InvalidPayloadException">the bytes are not one stored block</exception>
    public static StoredBlock Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 6 || bytes[0] != Version)
        {
            throw Malformed("stored block record is too short or of an unknown version");
        }
        var blockLength = BinaryPrimitives.ReadUInt32BigEndian(bytes[1..]);
        if (blockLength > (uint)(bytes.Length - 6))
        {
            throw Malformed("stored block length overruns the record");
        }
        CertifiedBlock certified;
        try
        {
            if (ConsensusCodec.Decode(bytes.Slice(5, (int)blockLength)) is not BlockResponseMessage { Blocks.Count: 1 } response)
            {
                throw Malformed("stored block record does not hold exactly one certified block");
            }
            certified = response.Blocks[0];
        }
        catch (InvalidConsensusMessageException e)
        {
            throw Malformed($"stored block does not decode: {e.Message}");
        }
        var offset = 5 + (int)blockLength;
        var count = bytes[offset++];
        if (bytes.Length - offset != count * NamespaceEntry.EncodedBytes || count > SequencerLimits.MaxNamespaces)
        {
            throw Malformed($"stored block table of {count} entries does not fill the record");
        }
        var entries = new NamespaceEntry[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = NamespaceEntry.Decode(bytes.Slice(offset + i * NamespaceEntry.EncodedBytes, NamespaceEntry.EncodedBytes));
        }
        return new StoredBlock(certified.Block, certified.Certificate, entries);
    }

    private static InvalidPayloadException Malformed(string message) => new(PayloadError.Malformed, message);
}
