using Keel.Consensus.Crypto;
using Keel.Core;

namespace Keel.Consensus.Model;

/// <summary>
/// Two messages of one kind, one round and one signer with different subjects, both validly signed:
/// proof that the signer's key is faulty. Anyone holding the validator set can re-check it.
/// </summary>
public sealed record EquivocationEvidence(
    SignedKind Kind,
    long Round,
    int Validator,
    Address ValidatorAddress,
    Hash32 FirstSubject,
    byte[] FirstSignature,
    Hash32 SecondSubject,
    byte[] SecondSignature)
{
    public bool Verify(ISignatureVerifier verifier) =>
        FirstSubject != SecondSubject
        && verifier.Verify(Validator, Kind, Round, FirstSubject, FirstSignature)
        && verifier.Verify(Validator, Kind, Round, SecondSubject, SecondSignature);

    public override string ToString() => $"{Kind} equivocation by v{Validator} ({ValidatorAddress}) in round {Round}: {FirstSubject} vs {SecondSubject}";
}
