using Keel.Consensus;
using Keel.Rollup.Execution;
using Keel.Rollup.Transactions;

namespace Keel.Sequencer;

/// <summary>
/// Hard bounds of the sequencer. Per-namespace settings (<see cref="Namespaces.NamespaceConfig"/>)
/// may lower the block and mempool limits but never raise them past these; the relations between
/// them are checked when a <see cref="Namespaces.NamespaceSet"/> is built.
/// </summary>
public static class SequencerLimits
{
    /// <summary>Namespaces (rollups) one sequencer orders; every block carries one table entry each.</summary>
    public const int MaxNamespaces = 64;

    /// <summary>A whole block payload (all namespaces with their framing): what consensus accepts.</summary>
    public const int MaxPayloadBytes = ConsensusLimits.MaxPayloadBytes;

    /// <summary>Transactions of one namespace in one block (also the rollup's batch limit).</summary>
    public const int MaxTxsPerNamespacePerBlock = BatchCommitment.MaxTransfers;

    /// <summary>A transfer transaction; the rollup's decoder refuses anything larger anyway.</summary>
    public const int MaxTransferTxBytes = TransferDecoder.MaxTransactionBytes;

    /// <summary>An opaque transaction (external rollups): the size public L1 mempools accept.</summary>
    public const int MaxOpaqueTxBytes = 128 * 1024;

    /// <summary>Transactions one namespace's mempool holds.</summary>
    public const int MaxMempoolTxs = 100_000;

    /// <summary>Bytes of raw transactions one namespace's mempool holds.</summary>
    public const long MaxMempoolBytes = 256L * 1024 * 1024;

    /// <summary>Transactions one sender may have queued in one namespace.</summary>
    public const int MaxTxsPerSender = 1024;

    /// <summary>How far ahead of the sender's committed nonce a queued nonce may be ("nonce too high" beyond).</summary>
    public const int MaxNonceGap = 1024;

    /// <summary>Recently dropped transactions remembered with their reason, per namespace.</summary>
    public const int MaxRememberedDrops = 4096;

    /// <summary>Uncommitted blocks whose pending state the application keeps (the consensus bound).</summary>
    public const int MaxPendingBlocks = ConsensusLimits.MaxUncommittedBlocks;

    /// <summary>Depth of the headers accumulator: 2^32 headers, over a century of 1-second blocks.</summary>
    public const int AccumulatorDepth = 32;
}
