using Keel.Consensus.Model;
using Keel.Core;
using Keel.Sequencer.Blocks;

namespace Keel.Sequencer.Availability;

/// <summary>A committed block as stored: the consensus block (header, app header, payload), its certificate and its table.</summary>
public sealed record StoredBlock(Block Block, QuorumCertificate Certificate, IReadOnlyList<NamespaceEntry> Table);

/// <summary>
/// Committed blocks by height and hash: payload availability for full nodes (the node backs it with
/// RocksDB; <see cref="InMemoryBlockStore"/> serves tests and the simulator). Heights are contiguous
/// from 1; genesis is not stored.
/// </summary>
public interface IBlockStore
{
    /// <summary>Highest stored height, 0 when none.</summary>
    long Height { get; }

    /// <summary>Durable before return. Called with height = Height + 1 only.</summary>
    void PutCommitted(StoredBlock block);

    StoredBlock? GetByHeight(long height);

    StoredBlock? GetByHash(Hash32 hash);
}

/// <summary>The store for tests and the simulator; <see cref="RetainBlocks"/> bounds memory in long runs.</summary>
public sealed class InMemoryBlockStore : IBlockStore
{
    private readonly object _lock = new();
    private readonly Dictionary<long, StoredBlock> _byHeight = [];
    private readonly Dictionary<Hash32, long> _heightByHash = [];

    /// <summary>Blocks kept (0 keeps all); older ones are forgotten.</summary>
    public int RetainBlocks { get; init; }

    public long Height { get; private set; }

    public void PutCommitted(StoredBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        lock (_lock)
        {
            if (block.Block.Height != Height + 1)
            {
                throw new SequencerInvariantException($"block store at height {Height} was given height {block.Block.Height}");
            }
            _byHeight[block.Block.Height] = block;
            _heightByHash[block.Block.Hash] = block.Block.Height;
            Height = block.Block.Height;
            if (RetainBlocks > 0 && _byHeight.Remove(Height - RetainBlocks, out var old))
            {
                _heightByHash.Remove(old.Block.Hash);
            }
        }
    }

    public StoredBlock? GetByHeight(long height)
    {
        lock (_lock)
        {
            return _byHeight.GetValueOrDefault(height);
        }
    }

    public StoredBlock? GetByHash(Hash32 hash)
    {
        lock (_lock)
        {
            return _heightByHash.TryGetValue(hash, out var h) ? _byHeight.GetValueOrDefault(h) : null;
        }
    }
}
