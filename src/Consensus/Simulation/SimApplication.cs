using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;

namespace Keel.Consensus.Simulation;

/// <summary>
/// The simulator's application: random small payloads, a marker byte that honest validators reject
/// (Byzantine leaders use it), and a durable commit log per instance that outlives crashes (it stands
/// for a sequencer that persists what it executed). Every commit is reported to the checker.
/// </summary>
internal sealed class SimApplication(int instance, bool honest, double pendingChance, DeterministicRandom random, SafetyChecker checker) : IApplication
{
    /// <summary>First payload byte of a block honest validators must refuse.</summary>
    public const byte InvalidPayloadMarker = 0xBA;

    private readonly List<Hash32> _chain = [];

    public IReadOnlyList<Hash32> Chain => _chain;

    public bool HasPendingPayload => random.Chance(pendingChance);

    public ProposalContent PrepareProposal(ProposalContext context)
    {
        var payload = new byte[8 + random.Next(56)];
        random.NextBytes(payload);
        if (payload[0] == InvalidPayloadMarker)
        {
            payload[0] = 0;
        }
        var header = random.Chance(0.5) ? new byte[32] : [];
        random.NextBytes(header);
        return new ProposalContent(header, payload);
    }

    public bool ProcessProposal(Block block) => block.Payload.Length == 0 || block.Payload[0] != InvalidPayloadMarker;

    public void Commit(Block block, QuorumCertificate certificate)
    {
        var height = block.Height;
        if (height <= _chain.Count)
        {
            // A repeat after a crash is allowed only for the same block.
            if (_chain[(int)height - 1] != block.Hash)
            {
                checker.Violation($"instance {instance} re-committed height {height} with a different block {block.Hash}");
            }
            return;
        }
        if (height != _chain.Count + 1)
        {
            checker.Violation($"instance {instance} committed height {height} after {_chain.Count} (a gap)");
            return;
        }
        var parent = _chain.Count == 0 ? (Hash32?)null : _chain[^1];
        if (parent is { } p && block.ParentHash != p)
        {
            checker.Violation($"instance {instance} committed {block.Hash} at height {height} whose parent is not its block at height {height - 1}");
        }
        if (certificate.BlockHash != block.Hash)
        {
            checker.Violation($"instance {instance} committed height {height} with a certificate for another block");
        }
        _chain.Add(block.Hash);
        checker.OnCommit(instance, honest, height, block.Hash);
    }
}
