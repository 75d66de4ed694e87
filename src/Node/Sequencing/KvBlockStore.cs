using System.Buffers.Binary;
using Keel.Consensus;
using Keel.Consensus.Codec;
using Keel.Consensus.Model;
using Keel.Core;
using Keel.Core.Storage;
using Keel.Sequencer.Availability;
using Keel.Sequencer.Blocks;

namespace Keel.Node.Sequencing;

/// <summary>
/// The sequencer's committed blocks (<see cref="IBlockStore"/>) in the node's key-value store: by
/// height, with a hash index, and the stored height as one record, all written in one synchronous
/// batch so that a crash leaves either the whole block or none of it.
/// </summary>
public sealed class KvBlockStore : IBlockStore
{
    private static readonly byte[] HeightRecordKey = "block-store-height"u8.ToArray();
    private const byte ByHeightPrefix = (byte)'s';
    private const byte ByHashPrefix = (byte)'x';

    /// <summary>Namespace entries one stored block may carry (matches the sequencer's namespace cap with room to spare).</summary>
    public const int MaxTableEntries = 1_024;

    private readonly IKeyValueStore _store;
    private readonly IColumnFamily _blocks;
    private readonly IColumnFamily _meta;
    private readonly object _writeLock = new();
    private long _height;

    public KvBlockStore(IKeyValueStore store)
    {
        _store = store;
        _blocks = store.GetColumnFamily(ColumnFamilyNames.Blocks);
        _meta = store.GetColumnFamily(ColumnFamilyNames.Default);
        var record = _meta.Get(HeightRecordKey);
        _height = record is { Length: 8 } ? BinaryPrimitives.ReadInt64BigEndian(record) : 0;
    }

    public long Height => Interlocked.Read(ref _height);

    public void PutCommitted(StoredBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        lock (_writeLock)
        {
            var height = block.Block.Height;
            if (height != _height + 1)
            {
                throw new ConsensusStoreException($"block store at height {_height} was given height {height}");
            }
            using var batch = _store.CreateWriteBatch();
            batch.Put(_blocks, HeightKey(height), Encode(block));
            batch.Put(_blocks, HashKey(block.Block.Hash), HeightValue(height));
            batch.Put(_meta, HeightRecordKey, HeightValue(height));
            _store.Write(batch, WriteDurability.Synced);
            Interlocked.Exchange(ref _height, height);
        }
    }

    public StoredBlock? GetByHeight(long height)
    {
        if (height < 1 || height > Height)
        {
            return null;
        }
        var bytes = _blocks.Get(HeightKey(height));
        return bytes is null ? null : Decode(bytes);
    }

    public StoredBlock? GetByHash(Hash32 hash)
    {
        var bytes = _blocks.Get(HashKey(hash));
        return bytes is { Length: 8 } ? GetByHeight(BinaryPrimitives.ReadInt64BigEndian(bytes)) : null;
    }

    private static byte[] HeightKey(long height)
    {
        var key = new byte[9];
        key[0] = ByHeightPrefix;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), height);
        return key;
    }

    private static byte[] HashKey(Hash32 hash)
    {
        var key = new byte[1 + Hash32.Size];
        key[0] = ByHashPrefix;
        hash.Bytes.CopyTo(key.AsSpan(1));
        return key;
    }

    private static byte[] HeightValue(long height)
    {
        var value = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(value, height);
        return value;
    }

    /// <summary>The record form of a stored block (also what validators serve to full nodes).</summary>
    internal static byte[] Encode(StoredBlock stored)
    {
        var certified = ConsensusCodec.Encode(new BlockResponseMessage([new CertifiedBlock(stored.Block, stored.Certificate)]));
        var output = new byte[4 + certified.Length + 2 + stored.Table.Count * NamespaceEntry.EncodedBytes];
        BinaryPrimitives.WriteInt32BigEndian(output, certified.Length);
        certified.CopyTo(output.AsSpan(4));
        var offset = 4 + certified.Length;
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(offset), (ushort)stored.Table.Count);
        offset += 2;
        foreach (var entry in stored.Table)
        {
            entry.Encode().CopyTo(output.AsSpan(offset));
            offset += NamespaceEntry.EncodedBytes;
        }
        return output;
    }

    /// <exception cref="ConsensusStoreException">not a well-formed record</exception>
    internal static StoredBlock Decode(byte[] bytes)
    {
        try
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes);
            if (length < 0 || 4 + length + 2 > bytes.Length)
            {
                throw new ConsensusStoreException("stored block record is truncated");
            }
            if (ConsensusCodec.Decode(bytes.AsSpan(4, length)) is not BlockResponseMessage { Blocks.Count: 1 } response)
            {
                throw new ConsensusStoreException("stored block record does not hold one certified block");
            }
            var offset = 4 + length;
            int count = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset));
            offset += 2;
            if (count > MaxTableEntries || offset + count * NamespaceEntry.EncodedBytes != bytes.Length)
            {
                throw new ConsensusStoreException("stored block table has the wrong length");
            }
            var entries = new NamespaceEntry[count];
            for (var i = 0; i < count; i++)
            {
                var e = bytes.AsSpan(offset + i * NamespaceEntry.EncodedBytes, NamespaceEntry.EncodedBytes);
                entries[i] = new NamespaceEntry(
                    BinaryPrimitives.ReadUInt64BigEndian(e.Slice(24, 8)),
                    BinaryPrimitives.ReadUInt32BigEndian(e.Slice(60, 4)),
                    Hash32.FromBytes(e.Slice(64, 32)),
                    Hash32.FromBytes(e.Slice(96, 32)));
            }
            var (block, certificate) = response.Blocks[0];
            return new StoredBlock(block, certificate, entries);
        }
        catch (InvalidConsensusMessageException e)
        {
            throw new ConsensusStoreException($"stored block is corrupt: {e.Message}");
        }
    }
}
