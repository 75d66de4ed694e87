using Keel.Core;
using Keel.Rollup.State;

namespace Keel.Rollup.Validation;

/// <summary>
/// A plain account map layered over executed state: what a sequencer validator checks a block's
/// transfers against before voting. Writes stay in the overlay (no tree, no hashing), so checking
/// a transfer costs a few dictionary operations. Discard it, or <see cref="Reset"/> it, when the
/// block is decided.
/// </summary>
public sealed class PendingAccounts : IAccountReader
{
    /// <summary>Most distinct accounts one overlay may hold (a block touches at most two per
    /// transfer, plus the fee recipient).</summary>
    public const int MaxTouchedAccounts = 2 * Execution.BatchCommitment.MaxTransfers + 1;

    private readonly IAccountReader _base;
    private readonly Dictionary<Address, Account> _overlay = new();

    public PendingAccounts(IAccountReader executed)
    {
        ArgumentNullException.ThrowIfNull(executed);
        _base = executed;
    }

    public int TouchedCount => _overlay.Count;

    public Account GetAccount(Address address) =>
        _overlay.TryGetValue(address, out var a) ? a : _base.GetAccount(address);

    public void SetAccount(Address address, Account account)
    {
        if (_overlay.Count >= MaxTouchedAccounts && !_overlay.ContainsKey(address))
            throw new RollupException($"A pending overlay holds at most {MaxTouchedAccounts} accounts.");
        _overlay[address] = account;
    }

    /// <summary>Tips of the batch being validated, credited to the fee recipient by
    /// <see cref="TransferValidator.CloseBatch"/>.</summary>
    public UInt128 UncreditedTips { get; internal set; }

    /// <summary>Copies this overlay's writes and tips into <paramref name="parent"/> (the overlay
    /// this one was layered on): how a block validated on a scratch overlay is kept.</summary>
    public void MergeInto(PendingAccounts parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (!ReferenceEquals(_base, parent))
            throw new ArgumentException("Merge an overlay only into the overlay it was layered on.", nameof(parent));
        foreach (var (address, account) in _overlay)
            parent.SetAccount(address, account);
        parent.UncreditedTips += UncreditedTips;
        Reset();
    }

    public void Reset()
    {
        _overlay.Clear();
        UncreditedTips = 0;
    }
}
