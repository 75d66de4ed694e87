using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;

namespace Keel.Consensus.Simulation;

/// <summary>
/// A store with a disk's failure model: writes not made with sync sit in a volatile log; a sync write
/// makes the log and itself durable (as an fsync of a write-ahead log does); a crash keeps a random
/// prefix of the volatile log and loses the rest.
/// </summary>
public sealed class SimStore : IConsensusStore
{
    private State _current = new();
    private State _durable = new();
    private readonly List<Action<State>> _unsynced = [];

    public int LostWrites { get; private set; }

    /// <summary>The crash: the current view becomes what survived on disk.</summary>
    public void Crash(DeterministicRandom random)
    {
        var kept = random.Next(_unsynced.Count + 1);
        for (var i = 0; i < kept; i++)
        {
            _unsynced[i](_durable);
        }
        LostWrites += _unsynced.Count - kept;
        _unsynced.Clear();
        _current = _durable.Clone();
    }

    public SafetyData? ReadSafetyData() => _current.Safety;

    public void WriteSafetyDataSync(SafetyData data) => Sync(s => s.Safety = data);

    public void PutBlock(Block block) => Unsynced(s => s.Blocks[block.Hash] = block);

    public Block? GetBlock(Hash32 hash) => _current.Blocks.GetValueOrDefault(hash);

    public void PutCertificate(QuorumCertificate certificate) => Unsynced(s => s.Certs.TryAdd(certificate.BlockHash, certificate));

    public QuorumCertificate? GetCertificate(Hash32 blockHash) => _current.Certs.GetValueOrDefault(blockHash);

    public void WriteCommittedSync(Block block, QuorumCertificate certificate) => Sync(s =>
    {
        s.Blocks[block.Hash] = block;
        s.Certs[block.Hash] = certificate;
        s.Committed[block.Height] = block.Hash;
        s.Tip = (block.Height, block.Hash);
    });

    public (long Height, Hash32 Hash)? ReadCommittedTip() => _current.Tip;

    public Hash32? GetCommittedHash(long height) => _current.Committed.TryGetValue(height, out var h) ? h : null;

    public void PutEvidence(EquivocationEvidence evidence) => Unsynced(s => s.Evidence++);

    private void Unsynced(Action<State> write)
    {
        write(_current);
        _unsynced.Add(write);
    }

    private void Sync(Action<State> write)
    {
        foreach (var pending in _unsynced)
        {
            pending(_durable);
        }
        _unsynced.Clear();
        write(_current);
        write(_durable);
    }

    private sealed class State
    {
        public Dictionary<Hash32, Block> Blocks { get; private init; } = [];
        public Dictionary<Hash32, QuorumCertificate> Certs { get; private init; } = [];
        public Dictionary<long, Hash32> Committed { get; private init; } = [];
        public SafetyData? Safety { get; set; }
        public (long Height, Hash32 Hash)? Tip { get; set; }
        public int Evidence { get; set; }

        public State Clone() => new()
        {
            Blocks = new(Blocks),
            Certs = new(Certs),
            Committed = new(Committed),
            Safety = Safety,
            Tip = Tip,
            Evidence = Evidence,
        };
    }
}
