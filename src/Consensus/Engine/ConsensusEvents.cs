using Keel.Consensus.Model;
using Keel.Core;

namespace Keel.Consensus.Engine;

/// <summary>
/// Everything that happens to a node goes through <see cref="ConsensusNode.Handle"/> as one of these;
/// names say what happened. Inputs come from the host; the rest are raised by the node itself, drive
/// its logic in the same loop, and reach the observer for metrics and tests.
/// </summary>
public abstract record ConsensusEvent
{
    /// <summary>The input event for a message received from a validator.</summary>
    public static ConsensusEvent FromMessage(int from, ConsensusMessage message) => message switch
    {
        ProposalMessage p => new ProposalReceived(from, p),
        VoteMessage v => new VoteReceived(from, v),
        TimeoutMessage t => new TimeoutReceived(from, t),
        SyncInfoMessage s => new SyncInfoReceived(from, s),
        BlockRequestMessage r => new BlocksRequested(from, r),
        BlockResponseMessage r => new BlocksReceived(from, r),
        _ => throw new InvalidConsensusMessageException($"unknown message type {message.GetType().Name}"),
    };
}

// Inputs.
public sealed record ProposalReceived(int From, ProposalMessage Proposal) : ConsensusEvent;
public sealed record VoteReceived(int From, VoteMessage Vote) : ConsensusEvent;
public sealed record TimeoutReceived(int From, TimeoutMessage Timeout) : ConsensusEvent;
public sealed record SyncInfoReceived(int From, SyncInfoMessage Info) : ConsensusEvent;
public sealed record BlocksRequested(int From, BlockRequestMessage Request) : ConsensusEvent;
public sealed record BlocksReceived(int From, BlockResponseMessage Response) : ConsensusEvent;

/// <summary>The clock reached a time the node asked to be woken at.</summary>
public sealed record TimerFired : ConsensusEvent
{
    public static readonly TimerFired Instance = new();
}

/// <summary>The application has something to order (lets a waiting leader propose before its next poll).</summary>
public sealed record PayloadAvailable : ConsensusEvent
{
    public static readonly PayloadAvailable Instance = new();
}

// Raised by the node; they drive its logic.
public sealed record QcFormed(QuorumCertificate Qc) : ConsensusEvent;
public sealed record TcFormed(TimeoutCertificate Tc) : ConsensusEvent;
public sealed record RoundTimedOut(long Round) : ConsensusEvent;

// Raised by the node; notifications only.
public sealed record RoundEntered(long Round, int Leader) : ConsensusEvent;
public sealed record ProposalSent(ProposalMessage Proposal) : ConsensusEvent;
public sealed record VoteSent(VoteMessage Vote, int To) : ConsensusEvent;
public sealed record TimeoutSent(TimeoutMessage Timeout) : ConsensusEvent;
public sealed record BlockCommitted(Block Block, QuorumCertificate Certificate) : ConsensusEvent;
public sealed record EquivocationDetected(EquivocationEvidence Evidence) : ConsensusEvent;
public sealed record BlocksFetchRequested(int Peer, Hash32 Target) : ConsensusEvent;
public sealed record MessageRejected(int From, MessageType Type, string Reason) : ConsensusEvent;

/// <summary>Receives every event a node handles, after it was handled (metrics, traces, tests).</summary>
public interface IConsensusObserver
{
    void OnEvent(int validatorIndex, ConsensusEvent e);
}
