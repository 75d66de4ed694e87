using Keel.Core;
using Keel.Rollup.Hashing;

namespace Keel.Rollup.State;

/// <summary>Read access to account balances and nonces (the executor's state, or a pending map).</summary>
public interface IAccountReader
{
    Account GetAccount(Address address);
}

/// <summary>
/// The executed state of one rollup namespace: the plain account map (for reads) and the sparse
/// Merkle tree over it (for roots and paths). Both are updated together through
/// <see cref="SetAccount"/>, which is the only writer.
/// </summary>
public sealed class AccountState : IAccountReader
{
    private readonly Dictionary<Address, Account> _accounts = new();
    private readonly SparseMerkleTree _tree;

    public AccountState(RollupHasher hasher) => _tree = new SparseMerkleTree(hasher);

    public RollupHasher Hasher => _tree.Hasher;

    public Digest Root => _tree.Root;

    public int AccountCount => _accounts.Count;

    public IEnumerable<KeyValuePair<Address, Account>> Accounts => _accounts;

    public Account GetAccount(Address address) => _accounts.TryGetValue(address, out var a) ? a : Account.Empty;

    public MerklePath GetPath(Address address) => _tree.GetPath(address);

    public void SetAccount(Address address, Account account)
    {
        if (account.Nonce > Account.MaxNonce)
            throw new RollupInvariantException($"Nonce {account.Nonce} of {address} exceeds {Account.MaxNonce}.");
        if (account.IsEmpty)
            _accounts.Remove(address);
        else
            _accounts[address] = account;
        _tree.SetLeaf(address, _tree.Hasher.HashLeaf(account.Balance, account.Nonce));
    }

    /// <summary>A deep copy (replays the accounts into a fresh tree; costs 160 compressions per
    /// account, so it is for tests and tools, not for the block path).</summary>
    public AccountState Clone()
    {
        var copy = new AccountState(Hasher);
        foreach (var (address, account) in _accounts)
            copy.SetAccount(address, account);
        return copy;
    }
}
