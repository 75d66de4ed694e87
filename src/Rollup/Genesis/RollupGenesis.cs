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

    /// <summary>
    /// The private keys of <see cref="AnvilDevAccounts"/>, in the same order. Public knowledge like the
    /// addresses (a devnet prints them; wallets and tests sign with them); never fund them elsewhere.
    /// </summary>
    public static IReadOnlyList<string> AnvilDevKeys { get; } =
    [
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
        "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
        "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
        "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
        "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
        "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
        "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
    ];

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
