using System.Buffers.Binary;
using Keel.Core;
using Keel.Core.Crypto;

namespace Keel.Consensus.Model;

/// <summary>
/// A block as consensus sees it: fixed header fields, app-defined header words and opaque payload.
/// The hash is Keccak-256 over abi.encode(uint64 height, uint64 round, bytes32 parentHash,
/// uint64 timestampMs, address proposer, bytes32 payloadHash) followed by the app header words, so an
/// L1 contract rebuilds it with abi.encode alone. Immutable: the arrays are never handed out for writing.
/// </summary>
public sealed class Block
{
    public const int FixedHeaderBytes = 6 * 32;

    private readonly byte[] _appHeader;
    private readonly byte[] _payload;

    /// <exception cref="InvalidConsensusMessageException">a field is out of range</exception>
    public Block(long height, long round, Hash32 parentHash, long timestampMs, Address proposer, ReadOnlySpan<byte> appHeader, ReadOnlySpan<byte> payload)
    {
        if (height < 0 || round < 0 || timestampMs < 0)
        {
            throw new InvalidConsensusMessageException("block height, round and timestamp must be non-negative");
        }
        if (appHeader.Length % 32 != 0 || appHeader.Length > ConsensusLimits.MaxAppHeaderBytes)
        {
            throw new InvalidConsensusMessageException($"app header must be whole 32-byte words, at most {ConsensusLimits.MaxAppHeaderBytes} bytes; got {appHeader.Length}");
        }
        if (payload.Length > ConsensusLimits.MaxPayloadBytes)
        {
            throw new InvalidConsensusMessageException($"payload of {payload.Length} bytes exceeds MaxPayloadBytes {ConsensusLimits.MaxPayloadBytes}");
        }
        Height = height;
        Round = round;
        ParentHash = parentHash;
        TimestampMs = timestampMs;
        Proposer = proposer;
        _appHeader = appHeader.ToArray();
        _payload = payload.ToArray();
        PayloadHash = Keccak256.HashToHash32(_payload);
        Hash = ComputeHash();
    }

    public long Height { get; }
    public long Round { get; }
    public Hash32 ParentHash { get; }
    public long TimestampMs { get; }
    public Address Proposer { get; }
    public Hash32 PayloadHash { get; }
    public ReadOnlySpan<byte> AppHeader => _appHeader;
    public ReadOnlySpan<byte> Payload => _payload;
    public Hash32 Hash { get; }

    /// <summary>The block every chain starts from: height 0, round 0, certified by convention.</summary>
    public static Block CreateGenesis(long timestampMs = 0, ReadOnlySpan<byte> appHeader = default) =>
        new(0, 0, Hash32.Zero, timestampMs, Address.Zero, appHeader, ReadOnlySpan<byte>.Empty);

    /// <summary>The canonical header encoding the hash is taken over (fixed words, then app header words).</summary>
    public byte[] EncodeHeader()
    {
        var buffer = new byte[FixedHeaderBytes + _appHeader.Length];
        var span = buffer.AsSpan();
        WriteUInt64Word(span[0..32], (ulong)Height);
        WriteUInt64Word(span[32..64], (ulong)Round);
        ParentHash.Bytes.CopyTo(span[64..96]);
        WriteUInt64Word(span[96..128], (ulong)TimestampMs);
        Proposer.Bytes.CopyTo(span[(160 - Address.Size)..160]);
        PayloadHash.Bytes.CopyTo(span[160..192]);
        _appHeader.CopyTo(span[192..]);
        return buffer;
    }

    private Hash32 ComputeHash() => Keccak256.HashToHash32(EncodeHeader());

    private static void WriteUInt64Word(Span<byte> word, ulong value)
    {
        word.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(word[24..], value);
    }

    public override string ToString() => $"block h={Height} r={Round} {Hash}";
}

/// <summary>A block with the quorum certificate that certifies it (what block sync carries).</summary>
public sealed record CertifiedBlock(Block Block, QuorumCertificate Certificate);
