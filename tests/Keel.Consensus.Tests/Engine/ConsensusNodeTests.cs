using Keel.Consensus.Crypto;
using Keel.Consensus.Engine;
using Keel.Consensus.Model;
using Keel.Core;

namespace Keel.Consensus.Tests.Engine;

public sealed class ConsensusNodeTests
{
    [Fact]
    public void Four_validators_commit_a_growing_chain_in_order()
    {
        var cluster = new TestCluster(4);
        Assert.True(cluster.RunUntil(() => cluster.Apps.All(a => a.Committed.Count >= 10)));
        var reference = cluster.Apps[0].Committed.Take(10).Select(c => c.Block.Hash).ToList();
        foreach (var app in cluster.Apps)
        {
            Assert.Equal(reference, app.Committed.Take(10).Select(c => c.Block.Hash));
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(i + 1, app.Committed[i].Block.Height);
                Assert.Equal(app.Committed[i].Block.Hash, app.Committed[i].Cert.BlockHash);
                Assert.True(i == 0 || app.Committed[i].Block.ParentHash == app.Committed[i - 1].Block.Hash);
            }
        }
    }

    [Fact]
    public void Happy_path_is_responsive_without_timeouts()
    {
        var cluster = new TestCluster(4);
        // Messages arrive at once and the clock moves 1 ms at a time: rounds must advance on QCs
        // alone, far faster than the 1 s round timeout.
        Assert.True(cluster.RunUntil(() => cluster.Apps.All(a => a.Committed.Count >= 20), budgetMs: 200, stepMs: 1));
        Assert.All(cluster.Nodes, n => Assert.Null(n.Safety.LastTimeout));
    }

    [Fact]
    public void Commits_resume_after_a_silent_leader_through_a_timeout_certificate()
    {
        var cluster = new TestCluster(4);
        cluster.Pump();
        var before = cluster.Apps[0].Committed.Count;
        var stuckRound = cluster.Nodes[0].CurrentRound;
        var silent = cluster.Membership.LeaderOf(stuckRound + 1);
        cluster.Down.Add(silent);
        Assert.True(cluster.RunUntil(() => cluster.Nodes.Where((_, i) => i != silent).All(n => n.HighTc is not null)));
        cluster.Down.Remove(silent);
        Assert.True(cluster.RunUntil(() => cluster.Apps.All(a => a.Committed.Count > before + 3)));
    }

    [Fact]
    public void A_validator_votes_once_per_round_and_records_the_equivocating_leader()
    {
        var cluster = new TestCluster(4);
        var round = cluster.Nodes[0].CurrentRound;
        var leader = cluster.Membership.LeaderOf(round);
        var voter = Bystander(cluster, round);
        var node = cluster.Nodes[voter];
        var a = Propose(cluster, leader, round, payload: 1);
        var b = Propose(cluster, leader, round, payload: 2);
        cluster.Networks[voter].Sent.Clear();
        node.Handle(new ProposalReceived(leader, a));
        node.Handle(new ProposalReceived(leader, b));
        var votes = cluster.Networks[voter].Sent.Select(s => s.Message).OfType<VoteMessage>().ToList();
        Assert.Single(votes);
        Assert.Equal(a.Block.Hash, votes[0].BlockHash);
        var evidence = Assert.Single(node.Evidence);
        Assert.Equal(SignedKind.Proposal, evidence.Kind);
        Assert.Equal(leader, evidence.Validator);
        Assert.True(evidence.Verify(cluster.Scheme));
        Assert.Single(cluster.Stores[voter].Evidence);
    }

    [Fact]
    public void Safety_data_is_durable_before_the_vote_leaves()
    {
        var cluster = new TestCluster(4);
        var checkedVotes = 0;
        for (var i = 0; i < 4; i++)
        {
            var store = cluster.Stores[i];
            cluster.Networks[i].OnSend = (_, message) =>
            {
                if (message is VoteMessage v)
                {
                    Assert.True(store.ReadSafetyData()!.LastVotedRound >= v.Round);
                    Assert.Same(v, store.ReadSafetyData()!.LastVote);
                    checkedVotes++;
                }
                if (message is TimeoutMessage t && t.Signer == store.ReadSafetyData()?.LastTimeout?.Signer)
                {
                    Assert.True(store.ReadSafetyData()!.LastVotedRound >= t.Round);
                }
            };
        }
        cluster.RunUntil(() => cluster.Apps[0].Committed.Count >= 5);
        Assert.True(checkedVotes > 10);
    }

    [Fact]
    public void After_a_restart_a_repeated_proposal_gets_the_stored_vote_and_a_conflicting_one_gets_none()
    {
        var cluster = new TestCluster(4);
        var round = cluster.Nodes[0].CurrentRound;
        var leader = cluster.Membership.LeaderOf(round);
        var v = Bystander(cluster, round);
        var a = Propose(cluster, leader, round, payload: 7);
        cluster.Nodes[v].Handle(new ProposalReceived(leader, a));
        var first = cluster.Networks[v].Sent.Select(s => s.Message).OfType<VoteMessage>().Single();

        cluster.Restart(v); // same store: safety data survives
        Assert.Equal(round, cluster.Nodes[v].Safety.LastVotedRound);
        cluster.Nodes[v].Handle(new ProposalReceived(leader, Propose(cluster, leader, round, payload: 8)));
        Assert.Empty(cluster.Networks[v].Sent.Select(s => s.Message).OfType<VoteMessage>());

        cluster.Restart(v);
        cluster.Nodes[v].Handle(new ProposalReceived(leader, a));
        var again = cluster.Networks[v].Sent.Select(s => s.Message).OfType<VoteMessage>().Single();
        Assert.Same(first, again);
    }

    [Fact]
    public void A_timed_out_round_gets_a_persisted_timeout_and_no_later_vote()
    {
        var cluster = new TestCluster(4);
        var node = cluster.Nodes[3];
        var round = node.CurrentRound;
        cluster.Clock.NowMs += cluster.Config.RoundTimeoutMs + 1;
        node.Handle(TimerFired.Instance);
        var timeout = cluster.Networks[3].Sent.Select(s => s.Message).OfType<TimeoutMessage>().Single();
        Assert.Equal(round, timeout.Round);
        Assert.Same(timeout, cluster.Stores[3].ReadSafetyData()!.LastTimeout);

        // A proposal for the timed-out round arrives late: no vote.
        var leader = cluster.Membership.LeaderOf(round);
        cluster.Networks[3].Sent.Clear();
        node.Handle(new ProposalReceived(leader, Propose(cluster, leader, round, payload: 3)));
        Assert.Empty(cluster.Networks[3].Sent.Select(s => s.Message).OfType<VoteMessage>());

        // The next expiry retransmits the very same signed timeout.
        cluster.Clock.NowMs += cluster.Config.MaxRoundTimeoutMs + 1;
        node.Handle(TimerFired.Instance);
        Assert.Same(timeout, cluster.Networks[3].Sent.Select(s => s.Message).OfType<TimeoutMessage>().Last());
    }

    [Fact]
    public void A_proposal_on_a_stale_qc_without_a_tc_gets_no_vote()
    {
        var cluster = new TestCluster(4);
        cluster.Pump();
        var node = cluster.Nodes[0];
        var round = node.CurrentRound + 1;
        var leader = cluster.Membership.LeaderOf(round);
        // Extend genesis with its QC (round 0) in a later round: neither QC(round-1) nor a TC justifies it.
        var block = new Block(1, round, cluster.Genesis.Hash, cluster.Clock.NowMs, cluster.Membership.AddressOf(leader), [], [9]);
        var proposal = new ProposalMessage(block, QuorumCertificate.ForGenesis(cluster.Genesis.Hash), null, cluster.Scheme.SignerFor(leader).Sign(SignedKind.Proposal, round, block.Hash));
        cluster.Networks[0].Sent.Clear();
        node.Handle(new ProposalReceived(leader, proposal));
        Assert.Empty(cluster.Networks[0].Sent.Select(s => s.Message).OfType<VoteMessage>());
    }

    [Fact]
    public void Invalid_messages_are_rejected_without_throwing()
    {
        var cluster = new TestCluster(4);
        var node = cluster.Nodes[0];
        var rejected = node.RejectedMessages;
        var junkQc = new QuorumCertificate(5, Hash32.Zero, [0x0f], [new byte[32], new byte[32], new byte[32], new byte[32]]);
        node.Handle(new VoteReceived(1, new VoteMessage(1, Hash32.Zero, 99, new byte[32])));
        node.Handle(new VoteReceived(1, new VoteMessage(node.CurrentRound, Hash32.Zero, 1, new byte[3])));
        node.Handle(new SyncInfoReceived(1, new SyncInfoMessage(junkQc, null)));
        node.Handle(new TimeoutReceived(1, new TimeoutMessage(node.CurrentRound, junkQc, null, 1, new byte[32])));
        node.Handle(new BlocksReceived(1, new BlockResponseMessage([])));
        node.Handle(new BlocksRequested(1, new BlockRequestMessage(Hash32.Zero, -5, int.MinValue)));
        Assert.True(node.RejectedMessages > rejected);
        Assert.Equal(0, node.CommittedHeight);
    }

    [Fact]
    public void A_lagging_validator_fetches_missing_blocks_and_commits_the_same_chain()
    {
        var cluster = new TestCluster(4);
        cluster.Down.Add(3);
        Assert.True(cluster.RunUntil(() => cluster.Apps[0].Committed.Count >= 20));
        cluster.Down.Remove(3);
        Assert.True(cluster.RunUntil(() => cluster.Apps[3].Committed.Count >= 22));
        Assert.Equal(
            cluster.Apps[0].Committed.Take(22).Select(c => c.Block.Hash),
            cluster.Apps[3].Committed.Take(22).Select(c => c.Block.Hash));
    }

    [Fact]
    public void A_validator_far_behind_catches_up_through_forward_fetches()
    {
        var cluster = new TestCluster(4);
        cluster.Down.Add(2);
        // Well beyond MaxSyncBlocks, so the catch-up needs forward fetches from the committed tip.
        Assert.True(cluster.RunUntil(() => cluster.Apps[0].Committed.Count >= 3 * ConsensusLimits.MaxSyncBlocks, budgetMs: 600_000, stepMs: 5));
        var forwardFetches = 0;
        cluster.Networks[2].OnSend = (_, m) => forwardFetches += m is BlockRequestMessage r && r.Target.IsZero ? 1 : 0;
        cluster.Down.Remove(2);
        var target = cluster.Apps[0].Committed.Count + 2;
        Assert.True(cluster.RunUntil(() => cluster.Apps[2].Committed.Count >= target, budgetMs: 600_000, stepMs: 5));
        Assert.Equal(
            cluster.Apps[0].Committed.Take(target).Select(c => c.Block.Hash),
            cluster.Apps[2].Committed.Take(target).Select(c => c.Block.Hash));
        Assert.True(forwardFetches >= 2, $"{forwardFetches} forward fetches");
    }

    [Fact]
    public void Votes_and_timeouts_beyond_the_future_round_window_are_not_kept()
    {
        var cluster = new TestCluster(4);
        var node = cluster.Nodes[0];
        var far = node.CurrentRound + ConsensusLimits.MaxFutureRounds + 1;
        // Choose a round whose next leader is node 0, so only the window can turn the vote away.
        while (cluster.Membership.LeaderOf(far + 1) != 0)
        {
            far++;
        }
        var hash = Hash32.Zero;
        var signer = cluster.Scheme.SignerFor(1);
        node.Handle(new VoteReceived(1, new VoteMessage(far, hash, 1, signer.Sign(SignedKind.Vote, far, hash))));
        var qc = QuorumCertificate.ForGenesis(cluster.Genesis.Hash);
        node.Handle(new TimeoutReceived(1, new TimeoutMessage(far, qc, null, 1, signer.Sign(SignedKind.Timeout, far, ConsensusSigning.TimeoutSubject(0)))));
        Assert.Empty(node.Evidence);
        Assert.Equal(1, node.CurrentRound);
        Assert.Equal(0, node.RejectedMessages); // dropped by the window before any verification work
    }

    /// <summary>A validator that leads neither this round nor the next (its vote goes out on the network).</summary>
    [Fact]
    public void A_next_leader_whose_votes_overtook_the_proposal_proposes_as_soon_as_the_late_proposal_arrives()
    {
        var cluster = new TestCluster(4);
        var round = cluster.Nodes[0].CurrentRound;
        var leader = cluster.Membership.LeaderOf(round);
        var next = cluster.Membership.LeaderOf(round + 1);
        Assert.NotEqual(leader, next);
        var proposal = (ProposalMessage)cluster.Networks[leader].Sent.Single(s => s.Message is ProposalMessage).Message;

        // Everyone but the next leader gets the proposal and votes; the votes reach the next leader first.
        for (var v = 0; v < cluster.Nodes.Count; v++)
        {
            if (v != leader && v != next)
            {
                cluster.Nodes[v].Handle(ConsensusEvent.FromMessage(leader, proposal));
            }
        }
        for (var v = 0; v < cluster.Nodes.Count; v++)
        {
            foreach (var (to, message) in cluster.Networks[v].Sent.Where(s => s.Message is VoteMessage).ToList())
            {
                Assert.Equal(next, to);
                cluster.Nodes[next].Handle(ConsensusEvent.FromMessage(v, message));
            }
        }
        Assert.Equal(round + 1, cluster.Nodes[next].CurrentRound); // certified a block it has not seen
        Assert.DoesNotContain(cluster.Networks[next].Sent, s => s.Message is ProposalMessage);

        // The proposal arrives late (its round is over here): without waiting for a block fetch, the
        // next leader builds on it at once.
        cluster.Nodes[next].Handle(ConsensusEvent.FromMessage(leader, proposal));
        var built = cluster.Networks[next].Sent.Select(s => s.Message).OfType<ProposalMessage>().Single();
        Assert.Equal(round + 1, built.Block.Round);
        Assert.Equal(proposal.Block.Hash, built.Block.ParentHash);

        // The chain goes on from there as usual.
        var committed = cluster.Apps[0].Committed.Count;
        Assert.True(cluster.RunUntil(() => cluster.Apps.All(a => a.Committed.Count > committed + 3), budgetMs: 200, stepMs: 1));
        Assert.All(cluster.Nodes, n => Assert.Null(n.Safety.LastTimeout));
    }

    [Fact]
    public void A_late_proposal_whose_block_nobody_certified_is_not_kept()
    {
        var cluster = new TestCluster(4);
        var round = cluster.Nodes[0].CurrentRound;
        var leader = cluster.Membership.LeaderOf(round);
        var voter = Bystander(cluster, round);
        var proposal = (ProposalMessage)cluster.Networks[leader].Sent.Single(s => s.Message is ProposalMessage).Message;
        // The voter moves on through a timeout certificate without seeing the proposal.
        cluster.Down.Add(leader);
        Assert.True(cluster.RunUntil(() => cluster.Nodes[voter].CurrentRound > round + 1, budgetMs: 5_000));
        cluster.Nodes[voter].Handle(ConsensusEvent.FromMessage(leader, proposal));
        Assert.Null(cluster.Stores[voter].GetBlock(proposal.Block.Hash));
    }

    private static int Bystander(TestCluster cluster, long round) =>
        Enumerable.Range(0, cluster.Nodes.Count).First(i => i != cluster.Membership.LeaderOf(round) && i != cluster.Membership.LeaderOf(round + 1));

    private static ProposalMessage Propose(TestCluster cluster, int leader, long round, byte payload)
    {
        var qc = cluster.Nodes[leader].HighQc;
        var block = new Block(1, round, qc.BlockHash, cluster.Clock.NowMs, cluster.Membership.AddressOf(leader), [], [payload]);
        return new ProposalMessage(block, qc, null, cluster.Scheme.SignerFor(leader).Sign(SignedKind.Proposal, round, block.Hash));
    }
}
