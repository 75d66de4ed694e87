using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Sequencer.Blocks;

namespace Keel.Node.Sequencing;

/// <summary>
/// Wraps the sequencer's <see cref="IApplication"/> so that the chain keeps moving until every block
/// that carries transactions is committed on every validator, not only on this one. Under the 2-chain
/// rule a block B at height h commits once its child at h + 1 is certified; that certificate is formed
/// by one validator (the leader that collects the child's votes) and reaches the others only inside
/// the next proposal, at h + 2. With an empty mempool a leader would wait the maximum empty interval
/// (a second) before each of those blocks, so the last transactions of a burst would take a second or
/// more to finalize on the RPC node. Reporting "something to order" until a block at h + 2 is known,
/// and until h is committed here, makes the next leaders propose at once the (empty) blocks that
/// commit B and announce it. All calls come from the consensus thread.
/// </summary>
public sealed class CommitFlushingApplication(IApplication inner, int namespaceCount) : IApplication
{
    /// <summary>
    /// Blocks that must follow a block with transactions before every validator knows it committed:
    /// its certified child, and the grandchild whose proposal carries the child's certificate.
    /// </summary>
    public const int AnnouncingDescendants = 2;

    private readonly int _emptyPayloadBytes = BlockPayloadCodec.HeaderBytes + namespaceCount * BlockPayloadCodec.NamespaceHeaderBytes;
    private long _highestNonEmptyHeight;
    private long _highestKnownHeight;
    private long _committedHeight;

    /// <summary>
    /// Whether a block with transactions is known whose commit some validator may not have learned
    /// yet: it is not committed here, or no block has yet been proposed that carries the certificate
    /// committing it.
    /// </summary>
    public bool HasUncommittedTransactions =>
        _highestNonEmptyHeight > 0
        && (_highestNonEmptyHeight > _committedHeight || _highestKnownHeight < _highestNonEmptyHeight + AnnouncingDescendants);

    public bool HasPendingPayload => inner.HasPendingPayload || HasUncommittedTransactions;

    public ProposalContent PrepareProposal(ProposalContext context)
    {
        var content = inner.PrepareProposal(context);
        Note(context.Height, content.Payload.Length);
        return content;
    }

    public bool ProcessProposal(Block block)
    {
        var ok = inner.ProcessProposal(block);
        if (ok)
        {
            Note(block.Height, block.Payload.Length);
        }
        return ok;
    }

    public void Commit(Block block, QuorumCertificate certificate)
    {
        inner.Commit(block, certificate);
        _committedHeight = Math.Max(_committedHeight, block.Height);
        // A committed block was proposed, even when this node only fetched it while catching up.
        _highestKnownHeight = Math.Max(_highestKnownHeight, block.Height);
    }

    private void Note(long height, int payloadBytes)
    {
        _highestKnownHeight = Math.Max(_highestKnownHeight, height);
        if (payloadBytes > _emptyPayloadBytes)
        {
            _highestNonEmptyHeight = Math.Max(_highestNonEmptyHeight, height);
        }
    }
}
