using Keel.Consensus.Model;
using Keel.Consensus.Ports;
using Keel.Core;
using Keel.Sequencer.Application;
using Keel.Sequencer.Availability;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Tests.TestData;

/// <summary>Records what the application hands on at commit.</summary>
internal sealed class RecordingSink : ICommitSink
{
    public List<CommittedBlock> Blocks { get; } = [];

    public void OnCommitted(CommittedBlock block) => Blocks.Add(block);
}

/// <summary>
/// One sequencer application over an in-memory block store, with two transfer namespaces (901, 902)
/// and one opaque namespace (7777), and helpers that turn its proposals into consensus blocks.
/// </summary>
internal sealed class AppHarness
{
    public const ulong ChainA = 901;
    public const ulong ChainB = 902;
    public const ulong OpaqueChain = 7777;
    public const long StartMs = 1_700_000_000_000;

    public static readonly Address FeeRecipient = Address.FromBytes(Enumerable.Repeat((byte)0xFE, 20).ToArray());
    public static readonly Address Proposer = Address.FromBytes(Enumerable.Repeat((byte)0xAB, 20).ToArray());

    public AppHarness(NamespaceSet? namespaces = null, IBlockStore? store = null, Block? genesis = null, Func<Hash32, Block?>? lookup = null)
    {
        Namespaces = namespaces ?? DefaultNamespaces();
        Store = store ?? new InMemoryBlockStore();
        Genesis = genesis ?? Block.CreateGenesis(StartMs);
        App = new SequencerApplication(new SequencerOptions
        {
            Namespaces = Namespaces,
            Genesis = Genesis,
            BlockStore = Store,
            CommitSink = Sink,
            BlockLookup = lookup,
        });
    }

    public static NamespaceSet DefaultNamespaces(Func<NamespaceConfig, NamespaceConfig>? tweak = null)
    {
        tweak ??= c => c;
        return new NamespaceSet([
            tweak(NamespaceConfig.Opaque(OpaqueChain)),
            tweak(NamespaceConfig.Transfer(ChainA, FeeRecipient)),
            tweak(NamespaceConfig.Transfer(ChainB, FeeRecipient)),
        ]);
    }

    public NamespaceSet Namespaces { get; }
    public IBlockStore Store { get; }
    public Block Genesis { get; }
    public RecordingSink Sink { get; } = new();
    public SequencerApplication App { get; }
    public TxFactory A { get; } = new(ChainA);
    public TxFactory B { get; } = new(ChainB);

    /// <summary>Asks the application for a proposal on <paramref name="parent"/> and wraps it in a block.</summary>
    public Block Propose(Block parent, long? round = null)
    {
        var r = round ?? parent.Round + 1;
        var context = new ProposalContext(parent, r, parent.Height + 1, parent.TimestampMs + 100);
        var content = App.PrepareProposal(context);
        return new Block(parent.Height + 1, r, parent.Hash, parent.TimestampMs + 100, Proposer, content.AppHeader, content.Payload);
    }

    public static Block MakeBlock(Block parent, ReadOnlySpan<byte> appHeader, ReadOnlySpan<byte> payload, long? round = null) =>
        new(parent.Height + 1, round ?? parent.Round + 1, parent.Hash, parent.TimestampMs + 100, Proposer, appHeader, payload);

    public static QuorumCertificate Qc(Block block) => new(block.Round, block.Hash, [1], [new byte[65]]);

    /// <summary>Proposes on the parent, checks the proposal and commits it: one happy-path height.</summary>
    public Block ProposeAndCommit(Block parent)
    {
        var block = Propose(parent);
        Assert.True(App.ProcessProposal(block), App.LastRejection?.Message);
        App.Commit(block, Qc(block));
        return block;
    }
}
