using Keel.Consensus.Model;
using Keel.Rollup.Execution;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Mempool;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Application;

/// <summary>One namespace's ordered transactions in a committed block.</summary>
/// <param name="Transfers">the decoded transfers, in block order, for a transfer namespace (what the
/// rollup executor runs; every one passed the validators' checks against the pending state); null for an opaque one</param>
public sealed record CommittedBatch(
    NamespaceConfig Namespace,
    NamespaceEntry Entry,
    IReadOnlyList<byte[]> Transactions,
    IReadOnlyList<Transfer>? Transfers)
{
    public RollupParameters RollupParameters => Namespace.RollupParameters;
}

/// <summary>A committed block as the node routes it: header, table, batches, certificate, mempool drops.</summary>
public sealed record CommittedBlock(
    Block Block,
    QuorumCertificate Certificate,
    SequencerHeader Header,
    NamespaceTable Table,
    IReadOnlyList<CommittedBatch> Batches,
    IReadOnlyList<(ulong NamespaceId, DroppedTransaction Dropped)> Dropped)
{
    public long Height => Block.Height;
}

/// <summary>
/// Where committed blocks go (the node routes transfer batches to the rollup executor, records
/// receipts with status committed, updates RPC subscriptions). Called on the consensus thread, in
/// height order, once per block per run, after the block is durable in the <see cref="Availability.IBlockStore"/>:
/// a node that crashes before its executor caught up re-reads the missing heights from the store.
/// </summary>
public interface ICommitSink
{
    void OnCommitted(CommittedBlock block);
}
