using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Node.Sequencing;
using Keel.Sequencer.Blocks;

namespace Keel.Node.Tests.Sequencing;

public sealed class CommitFlushingApplicationTests
{
    private const int Namespaces = 2;
    private static readonly int EmptyPayload = BlockPayloadCodec.HeaderBytes + Namespaces * BlockPayloadCodec.NamespaceHeaderBytes;

    private sealed class FakeApplication : IApplication
    {
        public bool Pending { get; set; }
        public bool Accept { get; set; } = true;
        public List<long> Committed { get; } = [];
        public bool HasPendingPayload => Pending;
        public ProposalContent PrepareProposal(ProposalContext context) => new([], new byte[EmptyPayload]);
        public bool ProcessProposal(Block block) => Accept;
        public void Commit(Block block, QuorumCertificate certificate) => Committed.Add(block.Height);
    }

    private static Block MakeBlock(long height, int payloadBytes) => new(height, height, Hash32.Zero, height, Address.Zero, [], new byte[payloadBytes]);

    [Fact]
    public void A_block_with_transactions_keeps_the_chain_moving_until_its_commit_is_announced()
    {
        var inner = new FakeApplication();
        var app = new CommitFlushingApplication(inner, Namespaces);
        Assert.False(app.HasPendingPayload);

        Assert.True(app.ProcessProposal(MakeBlock(1, EmptyPayload)));
        Assert.False(app.HasPendingPayload); // an empty block needs no flushing

        Assert.True(app.ProcessProposal(MakeBlock(2, EmptyPayload + 40)));
        Assert.True(app.HasPendingPayload);
        app.Commit(MakeBlock(1, EmptyPayload), QuorumCertificate.ForGenesis(Hash32.Zero));
        Assert.True(app.HasPendingPayload);

        // Its certified child (3) arrives; the leader that collects 3's votes commits 2 at once...
        Assert.True(app.ProcessProposal(MakeBlock(3, EmptyPayload)));
        app.Commit(MakeBlock(2, EmptyPayload + 40), QuorumCertificate.ForGenesis(Hash32.Zero));
        // ...but the other validators (the RPC node among them) learn it only from the proposal at 4,
        // which carries 3's certificate: that proposal must not wait for new transactions.
        Assert.True(app.HasPendingPayload);
        var proposal = app.PrepareProposal(new ProposalContext(MakeBlock(3, EmptyPayload), 4, 4, 4));
        Assert.Equal(EmptyPayload, proposal.Payload.Length);
        Assert.False(app.HasPendingPayload);
        Assert.Equal([1L, 2L], inner.Committed);

        inner.Pending = true;
        Assert.True(app.HasPendingPayload); // the mempool's own answer still counts
    }

    [Fact]
    public void A_validator_that_learns_the_commit_from_the_announcing_proposal_stops_flushing()
    {
        var inner = new FakeApplication();
        var app = new CommitFlushingApplication(inner, Namespaces);
        Assert.True(app.ProcessProposal(MakeBlock(5, EmptyPayload + 40)));
        Assert.True(app.ProcessProposal(MakeBlock(6, EmptyPayload)));
        Assert.True(app.HasPendingPayload);
        Assert.True(app.ProcessProposal(MakeBlock(7, EmptyPayload))); // carries 6's certificate
        Assert.True(app.HasPendingPayload); // 5 is not committed here yet
        app.Commit(MakeBlock(5, EmptyPayload + 40), QuorumCertificate.ForGenesis(Hash32.Zero));
        Assert.False(app.HasPendingPayload);
    }

    [Fact]
    public void Blocks_committed_while_catching_up_count_as_known()
    {
        var inner = new FakeApplication();
        var app = new CommitFlushingApplication(inner, Namespaces);
        Assert.True(app.ProcessProposal(MakeBlock(2, EmptyPayload + 40)));
        app.Commit(MakeBlock(2, EmptyPayload + 40), QuorumCertificate.ForGenesis(Hash32.Zero));
        Assert.True(app.HasPendingPayload);
        app.Commit(MakeBlock(4, EmptyPayload), QuorumCertificate.ForGenesis(Hash32.Zero));
        Assert.False(app.HasPendingPayload);
    }

    [Fact]
    public void A_refused_proposal_does_not_hold_the_chain_open()
    {
        var inner = new FakeApplication { Accept = false };
        var app = new CommitFlushingApplication(inner, Namespaces);
        Assert.False(app.ProcessProposal(MakeBlock(3, EmptyPayload + 100)));
        Assert.False(app.HasPendingPayload);
    }
}
