namespace Keel.Sequencer;

/// <summary>Base of every error the sequencer raises on purpose.</summary>
public class SequencerException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A namespace configuration that cannot run (duplicate ids, limits that contradict each other).</summary>
public sealed class SequencerConfigException(string message) : SequencerException(message);

/// <summary>
/// A broken invariant: a certified block that does not decode under this node's namespace
/// configuration, a commit out of height order, a second block at a committed height. Only a bug, a
/// misconfigured node or more than f faulty stake can cause one; the node should stop.
/// </summary>
public sealed class SequencerInvariantException(string message) : SequencerException(message);

/// <summary>Why a block's app header or payload is refused.</summary>
public enum PayloadError
{
    /// <summary>Bytes that do not parse (truncated, trailing bytes, a length that overruns).</summary>
    Malformed,
    UnsupportedVersion,
    /// <summary>Namespaces missing, repeated, out of order or not configured.</summary>
    NamespaceMismatch,
    /// <summary>A size or count limit (block bytes, txs per namespace, tx size) is exceeded.</summary>
    LimitExceeded,
    /// <summary>A transfer that does not decode or is not valid against the parent's pending state.</summary>
    InvalidTransaction,
    /// <summary>An opaque transaction repeated within the uncommitted chain.</summary>
    DuplicateTransaction,
    /// <summary>The header's namespace-table root does not match the payload.</summary>
    TableRootMismatch,
    /// <summary>The header's headers-accumulator root does not match the parent chain.</summary>
    AccumulatorMismatch,
    /// <summary>The parent block is unknown to this node and could not be fetched.</summary>
    UnknownParent,
    /// <summary>A block at or below the committed height.</summary>
    Stale,
    /// <summary>More uncommitted blocks than <see cref="SequencerLimits.MaxPendingBlocks"/> would be held.</summary>
    TooManyPendingBlocks,
}

/// <summary>A block header or payload refused with a reason (what ProcessProposal records).</summary>
public sealed class InvalidPayloadException(PayloadError error, string message) : SequencerException(message)
{
    public PayloadError Error { get; } = error;
}
