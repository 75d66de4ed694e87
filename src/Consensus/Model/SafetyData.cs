namespace Keel.Consensus.Model;

/// <summary>
/// What a validator must never forget across a crash: the last round it voted or timed out in, the QC
/// it locked on (one_chain_round is its round), the vote and timeout it signed last (a repeated request
/// gets the same signed message back) and the highest TC it knew. Written with a synchronous write
/// before any vote or timeout leaves the node.
/// </summary>
public sealed record SafetyData(
    long LastVotedRound,
    QuorumCertificate OneChainQc,
    VoteMessage? LastVote,
    TimeoutMessage? LastTimeout,
    TimeoutCertificate? HighTc)
{
    public long OneChainRound => OneChainQc.Round;

    public static SafetyData Initial(QuorumCertificate genesisQc) => new(0, genesisQc, null, null, null);
}
