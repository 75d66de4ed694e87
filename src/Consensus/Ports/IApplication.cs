using Keel.Consensus.Model;

namespace Keel.Consensus.Ports;

/// <summary>What a leader is asked to fill: the parent it extends and the new block's coordinates.</summary>
public readonly record struct ProposalContext(Block Parent, long Round, long Height, long TimestampMs);

/// <summary>The application's answer: app-defined header words (multiple of 32 bytes) and opaque payload.</summary>
public sealed record ProposalContent(byte[] AppHeader, byte[] Payload)
{
    public static readonly ProposalContent Empty = new([], []);
}

/// <summary>
/// The ABCI-like boundary the sequencer implements. Consensus orders opaque payloads; the
/// application builds them, judges them and executes them once committed.
/// </summary>
public interface IApplication
{
    /// <summary>Whether there is something to order now (a leader waits up to the maximum empty interval otherwise).</summary>
    bool HasPendingPayload { get; }

    ProposalContent PrepareProposal(ProposalContext context);

    /// <summary>Whether this validator may vote for the block (payload well formed and valid against its parent).</summary>
    bool ProcessProposal(Block block);

    /// <summary>
    /// The block is final. Called in height order, each exactly once per run; after a crash the first
    /// call may repeat the block committed last before it, which the application must accept.
    /// </summary>
    void Commit(Block block, QuorumCertificate certificate);
}
