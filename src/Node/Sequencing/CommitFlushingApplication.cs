using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Sequencer.Blocks;

namespace Keel.Node.Sequencing;

/// <summary>
/// Wraps the sequencer's <see cref="IApplication"/> so that the chain keeps moving until every block
/// that carries transactions is committed. Under the 2-chain rule a block commits only once two more
/// blocks follow it; with an empty mempool a leader would wait the maximum empty interval (a second)
/// for each, so the last transactions of a burst would take seconds to finalize. Reporting "something
/// to order" while a non-empty block is still uncommitted makes the next leaders propose the (empty)
/// blocks that commit it at once. All calls come from the consensus thread.
/// </summary>
public sealed class CommitFlushingApplication(IApplication inner, int namespaceCount) : IApplication
{
    private readonly int _emptyPayloadBytes = BlockPayloadCodec.HeaderBytes + namespaceCount * BlockPayloadCodec.NamespaceHeaderBytes;
    private long _highestNonEmptyHeight;
    private long _committedHeight;

    /// <summary>Whether a block with transactions is known and not yet committed.</summary>
    public bool HasUncommittedTransactions => _highestNonEmptyHeight > _committedHeight;

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
    }

    private void Note(long height, int payloadBytes)
    {
        if (payloadBytes > _emptyPayloadBytes)
        {
            _highestNonEmptyHeight = Math.Max(_highestNonEmptyHeight, height);
        }
    }
}
