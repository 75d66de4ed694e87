using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;

namespace Keel.Consensus.Storage;

/// <summary>
/// The store for unit tests and benchmarks: everything in dictionaries, every write durable at once.
/// <see cref="RetainCommittedBlocks"/> bounds memory in long runs by forgetting old committed blocks.
/// </summary>
public sealed class InMemoryConsensusStore : IConsensusStore
{
    private readonly Dictionary<Hash32, Block> _blocks = [];
    private readonly Dictionary<Hash32, QuorumCertificate> _certs = [];
    private readonly Dictionary<long, Hash32> _committed = [];
    private readonly List<EquivocationEvidence> _evidence = [];
    private SafetyData? _safety;
    private (long Height, Hash32 Hash)? _tip;

    /// <summary>Committed blocks kept (0 keeps all); older ones are dropped from memory.</summary>
    public int RetainCommittedBlocks { get; init; }

    public int SafetyWrites { get; private set; }

    public IReadOnlyList<EquivocationEvidence> Evidence => _evidence;

    public SafetyData? ReadSafetyData() => _safety;

    public void WriteSafetyDataSync(SafetyData data)
    {
        _safety = data;
        SafetyWrites++;
    }

    public void PutBlock(Block block) => _blocks[block.Hash] = block;

    public Block? GetBlock(Hash32 hash) => _blocks.GetValueOrDefault(hash);

    public void PutCertificate(QuorumCertificate certificate) => _certs.TryAdd(certificate.BlockHash, certificate);

    public QuorumCertificate? GetCertificate(Hash32 blockHash) => _certs.GetValueOrDefault(blockHash);

    public void WriteCommittedSync(Block block, QuorumCertificate certificate)
    {
        _blocks[block.Hash] = block;
        _certs[block.Hash] = certificate;
        _committed[block.Height] = block.Hash;
        _tip = (block.Height, block.Hash);
        if (RetainCommittedBlocks > 0 && _committed.Remove(block.Height - RetainCommittedBlocks, out var old))
        {
            _blocks.Remove(old);
            _certs.Remove(old);
            // Forks that never committed do not outlive the retention window either.
            foreach (var stale in _blocks.Where(kv => kv.Value.Height <= block.Height - RetainCommittedBlocks).Select(kv => kv.Key).ToList())
            {
                _blocks.Remove(stale);
                _certs.Remove(stale);
            }
        }
    }

    public (long Height, Hash32 Hash)? ReadCommittedTip() => _tip;

    public Hash32? GetCommittedHash(long height) => _committed.TryGetValue(height, out var h) ? h : null;

    public void PutEvidence(EquivocationEvidence evidence) => _evidence.Add(evidence);
}
