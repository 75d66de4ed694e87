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

    public void Reset()
    {
        _overlay.Clear();
        UncreditedTips = 0;
    }
}
