using System.Buffers.Binary;
using Keel.Consensus;
using Keel.Consensus.Codec;
using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Core.Storage;

namespace Keel.Node.Sequencing;

/// <summary>
/// <see cref="IConsensusStore"/> over the node's key-value store (RocksDB in a node, the in-memory
/// store in tests). Records reuse the consensus wire codec, so there is one encoding to keep right:
/// a block alone is an unsigned proposal, a certificate (and a TC) a sync-info message.
/// Safety data and commits are written with synchronous writes; blocks and certificates are buffered
/// (peers can send them again after a crash).
/// </summary>
public sealed class KvConsensusStore : IConsensusStore
{
    private static readonly byte[] SafetyKey = "safety"u8.ToArray();
    private static readonly byte[] TipKey = "consensus-tip"u8.ToArray();
    private const byte BlockPrefix = (byte)'b';
    private const byte HeightPrefix = (byte)'h';
    private const byte EvidencePrefix = (byte)'e';

    private readonly IKeyValueStore _store;
    private readonly IColumnFamily _safety;
    private readonly IColumnFamily _blocks;
    private readonly IColumnFamily _certificates;
    private readonly IColumnFamily _meta;
    private readonly QuorumCertificate _placeholderQc = QuorumCertificate.ForGenesis(Hash32.Zero);
    private long _evidenceCount;

    public KvConsensusStore(IKeyValueStore store)
    {
        _store = store;
        _safety = store.GetColumnFamily(ColumnFamilyNames.Safety);
        _blocks = store.GetColumnFamily(ColumnFamilyNames.Blocks);
        _certificates = store.GetColumnFamily(ColumnFamilyNames.Certificates);
        _meta = store.GetColumnFamily(ColumnFamilyNames.Default);
    }

    /// <summary>Synchronous safety writes since start (each is one fsync).</summary>
    public long SafetyWrites { get; private set; }

    public long EvidenceCount => Interlocked.Read(ref _evidenceCount);

    public SafetyData? ReadSafetyData()
    {
        var bytes = _safety.Get(SafetyKey);
        return bytes is null ? null : DecodeSafety(bytes);
    }

    public void WriteSafetyDataSync(SafetyData data)
    {
        _safety.Put(SafetyKey, EncodeSafety(data), WriteDurability.Synced);
        SafetyWrites++;
    }

    public void PutBlock(Block block) => _blocks.Put(BlockKey(block.Hash), EncodeBlock(block));

    public Block? GetBlock(Hash32 hash)
    {
        var bytes = _blocks.Get(BlockKey(hash));
        return bytes is null ? null : DecodeBlock(bytes);
    }

    public void PutCertificate(QuorumCertificate certificate)
    {
        if (_certificates.Get(certificate.BlockHash.Bytes) is null)
        {
            _certificates.Put(certificate.BlockHash.Bytes, EncodeQc(certificate));
        }
    }

    public QuorumCertificate? GetCertificate(Hash32 blockHash)
    {
        var bytes = _certificates.Get(blockHash.Bytes);
        return bytes is null ? null : DecodeQc(bytes);
    }

    public void WriteCommittedSync(Block block, QuorumCertificate certificate)
    {
        using var batch = _store.CreateWriteBatch();
        batch.Put(_blocks, BlockKey(block.Hash), EncodeBlock(block));
        batch.Put(_certificates, block.Hash.Bytes, EncodeQc(certificate));
        batch.Put(_blocks, HeightKey(block.Height), block.Hash.Bytes);
        var tip = new byte[8 + Hash32.Size];
        BinaryPrimitives.WriteInt64BigEndian(tip, block.Height);
        block.Hash.Bytes.CopyTo(tip.AsSpan(8));
        batch.Put(_meta, TipKey, tip);
        _store.Write(batch, WriteDurability.Synced);
    }

    public (long Height, Hash32 Hash)? ReadCommittedTip()
    {
        var tip = _meta.Get(TipKey);
        if (tip is null)
        {
            return null;
        }
        if (tip.Length != 8 + Hash32.Size)
        {
            throw new ConsensusStoreException($"committed tip record has {tip.Length} bytes, want {8 + Hash32.Size}");
        }
        return (BinaryPrimitives.ReadInt64BigEndian(tip), Hash32.FromBytes(tip.AsSpan(8)));
    }

    public Hash32? GetCommittedHash(long height)
    {
        var bytes = _blocks.Get(HeightKey(height));
        return bytes is null ? null : Hash32.FromBytes(bytes);
    }

    public void PutEvidence(EquivocationEvidence evidence)
    {
        var n = Interlocked.Increment(ref _evidenceCount);
        var key = new byte[9];
        key[0] = EvidencePrefix;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), n);
        // Evidence is kept as text: it is for operators and RPC, never read back by consensus.
        _safety.Put(key, System.Text.Encoding.UTF8.GetBytes(evidence.ToString() ?? "evidence"), WriteDurability.Synced);
    }

    // ------------------------------------------------------------------ encoding

    private static byte[] BlockKey(Hash32 hash)
    {
        var key = new byte[1 + Hash32.Size];
        key[0] = BlockPrefix;
        hash.Bytes.CopyTo(key.AsSpan(1));
        return key;
    }

    private static byte[] HeightKey(long height)
    {
        var key = new byte[9];
        key[0] = HeightPrefix;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), height);
        return key;
    }

    private byte[] EncodeBlock(Block block) => ConsensusCodec.Encode(new ProposalMessage(block, _placeholderQc, null, []));

    private static Block DecodeBlock(byte[] bytes) => Decode<ProposalMessage>(bytes, "block").Block;

    internal static byte[] EncodeQc(QuorumCertificate qc) => ConsensusCodec.Encode(new SyncInfoMessage(qc, null));

    internal static QuorumCertificate DecodeQc(ReadOnlySpan<byte> bytes) => Decode<SyncInfoMessage>(bytes, "certificate").HighQc;

    private static byte[] EncodeSafety(SafetyData data)
    {
        var parts = new List<byte[]>
        {
            ConsensusCodec.Encode(new SyncInfoMessage(data.OneChainQc, data.HighTc)),
            data.LastVote is { } vote ? ConsensusCodec.Encode(vote) : [],
            data.LastTimeout is { } timeout ? ConsensusCodec.Encode(timeout) : [],
        };
        var output = new byte[8 + parts.Sum(p => 4 + p.Length)];
        BinaryPrimitives.WriteInt64BigEndian(output, data.LastVotedRound);
        var offset = 8;
        foreach (var part in parts)
        {
            BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(offset), part.Length);
            part.CopyTo(output.AsSpan(offset + 4));
            offset += 4 + part.Length;
        }
        return output;
    }

    private static SafetyData DecodeSafety(byte[] bytes)
    {
        try
        {
            var round = BinaryPrimitives.ReadInt64BigEndian(bytes);
            var offset = 8;
            ReadOnlySpan<byte> Next()
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
                if (length < 0 || offset + 4 + length > bytes.Length)
                {
                    throw new ConsensusStoreException("safety record is truncated");
                }
                var part = bytes.AsSpan(offset + 4, length);
                offset += 4 + length;
                return part;
            }
            var sync = Decode<SyncInfoMessage>(Next(), "safety certificates");
            var voteBytes = Next();
            var timeoutBytes = Next();
            if (offset != bytes.Length)
            {
                throw new ConsensusStoreException("safety record has trailing bytes");
            }
            return new SafetyData(
                round,
                sync.HighQc,
                voteBytes.IsEmpty ? null : Decode<VoteMessage>(voteBytes, "last vote"),
                timeoutBytes.IsEmpty ? null : Decode<TimeoutMessage>(timeoutBytes, "last timeout"),
                sync.HighTc);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ConsensusStoreException($"safety record is truncated: {e.Message}");
        }
    }

    private static T Decode<T>(ReadOnlySpan<byte> bytes, string what) where T : ConsensusMessage
    {
        try
        {
            return ConsensusCodec.Decode(bytes) as T ?? throw new ConsensusStoreException($"stored {what} has the wrong record type");
        }
        catch (InvalidConsensusMessageException e)
        {
            throw new ConsensusStoreException($"stored {what} is corrupt: {e.Message}");
        }
    }
}
