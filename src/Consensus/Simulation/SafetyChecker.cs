using Keel.Consensus.Crypto;
using Keel.Core;

namespace Keel.Consensus.Simulation;

/// <summary>
/// The invariants, checked as the run goes: one block per height across honest instances, honest
/// chains that are prefixes of the longest, and no honest key signing two different votes in a round
/// (crash-restarts included; twins share a key on purpose and are excluded as the Byzantine fault).
/// </summary>
internal sealed class SafetyChecker
{
    /// <summary>Violations recorded per run beyond which more are counted but not described.</summary>
    public const int MaxViolationMessages = 20;

    private readonly Dictionary<long, (Hash32 Hash, int Instance)> _committedAt = [];
    private readonly Dictionary<(int Validator, long Round), Hash32> _honestVotes = [];
    private readonly List<string> _violations = [];

    public IReadOnlyList<string> Violations => _violations;

    public int ViolationCount { get; private set; }

    public void Violation(string message)
    {
        ViolationCount++;
        if (_violations.Count < MaxViolationMessages)
        {
            _violations.Add(message);
        }
    }

    public void OnCommit(int instance, bool honest, long height, Hash32 hash)
    {
        if (!honest)
        {
            return;
        }
        if (_committedAt.TryGetValue(height, out var first))
        {
            if (first.Hash != hash)
            {
                Violation($"agreement: instances {first.Instance} and {instance} committed different blocks at height {height} ({first.Hash} vs {hash})");
            }
        }
        else
        {
            _committedAt[height] = (hash, instance);
        }
    }

    public void OnHonestSignature(int validator, SignedKind kind, long round, Hash32 subject)
    {
        if (kind != SignedKind.Vote)
        {
            return;
        }
        if (_honestVotes.TryGetValue((validator, round), out var first))
        {
            if (first != subject)
            {
                Violation($"honest validator {validator} signed votes for two blocks in round {round} ({first} vs {subject})");
            }
        }
        else
        {
            _honestVotes[(validator, round)] = subject;
        }
    }

    /// <summary>Every honest chain must be a prefix of the longest one.</summary>
    public void CheckPrefixes(IReadOnlyList<(int Instance, IReadOnlyList<Hash32> Chain)> chains)
    {
        if (chains.Count == 0)
        {
            return;
        }
        var longest = chains.MaxBy(c => c.Chain.Count);
        foreach (var (instance, chain) in chains)
        {
            for (var i = 0; i < chain.Count; i++)
            {
                if (chain[i] != longest.Chain[i])
                {
                    Violation($"prefix: instance {instance}'s chain differs from instance {longest.Instance}'s at height {i + 1}");
                    break;
                }
            }
        }
    }
}

/// <summary>Wraps an honest validator's signer so the checker sees every vote its key signs.</summary>
internal sealed class RecordingSigner(IConsensusSigner inner, SafetyChecker checker) : IConsensusSigner
{
    public int ValidatorIndex => inner.ValidatorIndex;

    public byte[] Sign(SignedKind kind, long round, Hash32 subject)
    {
        checker.OnHonestSignature(inner.ValidatorIndex, kind, round, subject);
        return inner.Sign(kind, round, subject);
    }
}
