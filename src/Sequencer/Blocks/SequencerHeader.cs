using System.Buffers.Binary;
using Keel.Consensus.Model;
using Keel.Core;

namespace Keel.Sequencer.Blocks;

/// <summary>
/// The sequencer's words in the consensus block's app header:
/// <code>
/// appHeader = abi.encode(uint64 formatVersion, bytes32 namespaceTableRoot, bytes32 headersAccumulatorRoot)
/// </code>
/// With the consensus fixed fields, the block hash is
/// keccak256(abi.encode(uint64 height, uint64 round, bytes32 parentHash, uint64 timestampMs,
/// address proposer, bytes32 payloadHash, uint64 formatVersion, bytes32 namespaceTableRoot,
/// bytes32 headersAccumulatorRoot)): nine words an L1 contract rebuilds with abi.encode.
/// </summary>
public readonly record struct AppHeader(ulong FormatVersion, Hash32 NamespaceTableRoot, Hash32 HeadersRoot)
{
    public const ulong CurrentVersion = 1;
    public const int EncodedBytes = 3 * 32;

    public byte[] Encode()
    {
        var buffer = new byte[EncodedBytes];
        BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(24, 8), FormatVersion);
        NamespaceTableRoot.Bytes.CopyTo(buffer.AsSpan(32, 32));
        HeadersRoot.Bytes.CopyTo(buffer.AsSpan(64, 32));
        return buffer;
    }

    /// <exception cref="InvalidPayloadException">not three words, a non-canonical version word, or an unknown version</exception>
    public static AppHeader Decode(ReadOnlySpan<byte> appHeader)
    {
        if (appHeader.Length != EncodedBytes)
        {
            throw new InvalidPayloadException(PayloadError.Malformed, $"app header must be {EncodedBytes} bytes, got {appHeader.Length}");
        }
        if (appHeader[..24].IndexOfAnyExcept((byte)0) >= 0)
        {
            throw new InvalidPayloadException(PayloadError.Malformed, "app header version word is not a canonical uint64");
        }
        var version = BinaryPrimitives.ReadUInt64BigEndian(appHeader[24..32]);
        if (version != CurrentVersion)
        {
            throw new InvalidPayloadException(PayloadError.UnsupportedVersion, $"app header version {version}; this node reads version {CurrentVersion}");
        }
        return new AppHeader(version, Hash32.FromBytes(appHeader[32..64]), Hash32.FromBytes(appHeader[64..96]));
    }
}

/// <summary>A committed or proposed block's header as the design names it (consensus fields plus the app header).</summary>
public sealed record SequencerHeader(
    long Height,
    long Round,
    Hash32 ParentHash,
    long TimestampMs,
    Address Proposer,
    Hash32 PayloadHash,
    Hash32 NamespaceTableRoot,
    Hash32 HeadersRoot,
    Hash32 Hash)
{
    /// <exception cref="InvalidPayloadException">the app header is not a sequencer header</exception>
    public static SequencerHeader FromBlock(Block block)
    {
        var app = AppHeader.Decode(block.AppHeader);
        return new SequencerHeader(block.Height, block.Round, block.ParentHash, block.TimestampMs, block.Proposer, block.PayloadHash, app.NamespaceTableRoot, app.HeadersRoot, block.Hash);
    }
}
