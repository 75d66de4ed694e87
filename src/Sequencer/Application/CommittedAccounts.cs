using Keel.Core;
using Keel.Rollup.State;

namespace Keel.Sequencer.Application;

/// <summary>
/// The committed balances and nonces of one transfer namespace as a plain map: what validators and
/// the mempool check against (no tree, no hashing; the rollup executor keeps the Poseidon2 tree off
/// this path). Written by the consensus thread on commit, read by any thread.
/// </summary>
public sealed class CommittedAccounts : IAccountReader
{
    private readonly ReaderWriterLockSlim _lock = new();
    private readonly Dictionary<Address, Account> _accounts = [];

    public CommittedAccounts(IEnumerable<KeyValuePair<Address, Account>>? initial = null)
    {
        foreach (var (address, account) in initial ?? [])
        {
            if (!account.IsEmpty)
            {
                _accounts[address] = account;
            }
        }
    }

    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _accounts.Count; }
            finally { _lock.ExitReadLock(); }
        }
    }

    public Account GetAccount(Address address)
    {
        _lock.EnterReadLock();
        try
        {
            return _accounts.TryGetValue(address, out var account) ? account : Account.Empty;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Writes a committed block's account changes at once (readers see all or none).</summary>
    internal void Apply(IReadOnlyDictionary<Address, Account> changes)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var (address, account) in changes)
            {
                if (account.IsEmpty)
                {
                    _accounts.Remove(address);
                }
                else
                {
                    _accounts[address] = account;
                }
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }
}
