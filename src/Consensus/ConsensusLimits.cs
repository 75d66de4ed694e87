namespace Keel.Consensus;

/// <summary>
/// Every bound the state machine enforces on what peers can make it hold or do. A peer that exceeds
/// one is ignored for that message; none of these can be raised by a peer.
/// </summary>
public static class ConsensusLimits
{
    /// <summary>Committee size cap; signer bitmaps and per-round tables are sized by it.</summary>
    public const int MaxValidators = 1024;

    /// <summary>A message for a round further ahead than this is dropped (it cannot be verified as useful yet).</summary>
    public const int MaxFutureRounds = 64;

    /// <summary>Rounds behind the current one for which first-seen signatures are kept for equivocation checks.</summary>
    public const int EvidenceWindowRounds = 32;

    /// <summary>Equivocation records kept in memory (oldest dropped first); the store keeps all it is given.</summary>
    public const int MaxEvidenceRecords = 4096;

    /// <summary>Opaque payload bytes in one block.</summary>
    public const int MaxPayloadBytes = 4 * 1024 * 1024;

    /// <summary>App-defined header bytes (whole 32-byte words, hashed into the block hash).</summary>
    public const int MaxAppHeaderBytes = 1024;

    /// <summary>A whole encoded block (header, app header, payload).</summary>
    public const int MaxBlockBytes = MaxPayloadBytes + MaxAppHeaderBytes + 1024;

    /// <summary>A whole encoded consensus message; a sync response may carry several blocks up to this.</summary>
    public const int MaxMessageBytes = 2 * MaxBlockBytes;

    /// <summary>Blocks in one sync response.</summary>
    public const int MaxSyncBlocks = 64;

    /// <summary>Payload bytes in one sync response (at least one block is always sent).</summary>
    public const int MaxSyncResponseBytes = 8 * 1024 * 1024;

    /// <summary>Block fetches outstanding at once.</summary>
    public const int MaxInflightSyncRequests = 16;

    /// <summary>Proposals waiting for a missing parent.</summary>
    public const int MaxBufferedProposals = 8;

    /// <summary>Blocks held in memory above the committed height; proposals beyond it are dropped until commits catch up.</summary>
    public const int MaxUncommittedBlocks = 4096;

    /// <summary>
    /// Inbound messages a host may queue per peer before it drops (the host's transport enforces it;
    /// the simulator's network does too).
    /// </summary>
    public const int MaxPendingMessagesPerPeer = 1024;

    /// <summary>Events processed in one Handle call, internal ones included (a loop guard).</summary>
    public const int MaxEventsPerHandle = 100_000;

    /// <summary>Entries in the verified-certificate cache before it is cleared.</summary>
    public const int MaxVerifiedCertificateCache = 4096;

    /// <summary>Exponent cap of the round-timeout backoff.</summary>
    public const int MaxBackoffExponent = 6;
}
