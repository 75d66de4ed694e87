using Keel.Core;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;

namespace Keel.Rollup.Genesis;

/// <summary>
/// The initial balances of a rollup namespace. The devnet genesis funds the same ten developer
/// accounts that anvil funds on L1, so one wallet works on both layers.
/// </summary>
public sealed class RollupGenesis
{
    /// <summary>10,000 ETH in wei, what anvil gives each developer account.</summary>
    public static readonly UInt128 DevAccountBalance = (UInt128)10_000 * 1_000_000_000_000_000_000UL;

    /// <summary>
    /// The first ten accounts of the public test mnemonic
    /// "test test test test test test test test test test test junk" (BIP-44 path
    /// m/44'/60'/0'/0/i), which anvil, hardhat and foundry fund by default. Their keys are public
    /// knowledge: never use them outside a devnet. The test project re-derives them from the
    /// mnemonic.
    /// </summary>
    public static IReadOnlyList<Address> AnvilDevAccounts { get; } = new[]
    {
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
        "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
        "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
        "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
        "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
        "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
        "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
    }.Select(Address.Parse).ToArray();

    private readonly KeyValuePair<Address, UInt128>[] _allocations;

    /// <summary>Allocations with distinct addresses whose sum fits in 128 bits: with that, no
    /// balance can ever overflow, since transfers only move or burn wei.</summary>
    public RollupGenesis(IEnumerable<KeyValuePair<Address, UInt128>> allocations)
    {
        ArgumentNullException.ThrowIfNull(allocations);
        _allocations = allocations.ToArray();
        var seen = new HashSet<Address>();
        UInt128 supply = 0;
        foreach (var (address, balance) in _allocations)
        {
            if (!seen.Add(address))
                throw new RollupException($"Genesis lists {address} twice.");
            if (!Transactions.TransferRules.TryAdd(supply, balance, out supply))
                throw new RollupException("Genesis supply exceeds 2^128 - 1 wei.");
        }
        TotalSupply = supply;
    }

    /// <summary>The devnet genesis: each anvil developer account holds <paramref name="balance"/>
    /// (10,000 ETH when omitted).</summary>
    public static RollupGenesis Devnet(UInt128? balance = null) =>
        new(AnvilDevAccounts.Select(a => KeyValuePair.Create(a, balance ?? DevAccountBalance)));

    public IReadOnlyList<KeyValuePair<Address, UInt128>> Allocations => _allocations;

    public UInt128 TotalSupply { get; }

    /// <summary>A fresh state holding the allocations (nonce 0 each).</summary>
    public AccountState CreateState(RollupHasher? hasher = null)
    {
        var state = new AccountState(hasher ?? RollupHasher.Shared);
        foreach (var (address, balance) in _allocations)
            state.SetAccount(address, new Account(balance, 0));
        return state;
    }
}
