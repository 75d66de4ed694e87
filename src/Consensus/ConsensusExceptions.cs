namespace Keel.Consensus;

/// <summary>Base of every error the consensus project raises on purpose.</summary>
public class ConsensusException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A configuration or membership that cannot run (bounds that contradict each other).</summary>
public sealed class ConsensusConfigException(string message) : ConsensusException(message);

/// <summary>Bytes or fields from outside (a peer, a file) that do not form a valid message.</summary>
public sealed class InvalidConsensusMessageException(string message) : ConsensusException(message);

/// <summary>The store returned data that contradicts itself (a committed block missing, a bad record).</summary>
public sealed class ConsensusStoreException(string message) : ConsensusException(message);

/// <summary>The application broke its side of the contract (an oversized payload, a bad header).</summary>
public sealed class ConsensusApplicationException(string message) : ConsensusException(message);

/// <summary>
/// A broken invariant that only a bug or more than f faulty stake can cause (two blocks committed at
/// one height). The node stops rather than continue on a forked chain.
/// </summary>
public sealed class ConsensusSafetyException(string message) : ConsensusException(message);
