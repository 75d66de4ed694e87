using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup.Genesis;

namespace Keel.Sequencer.Tests.TestData;

/// <summary>
/// The ten developer keys anvil, hardhat and foundry fund from the public test mnemonic
/// ("test test ... junk"). Public knowledge; devnet only.
/// </summary>
internal static class DevKeys
{
    private static readonly byte[][] Keys = [.. RollupGenesis.AnvilDevKeys.Select(Keel.Core.Hex.Decode)];
    private static readonly Address[] Addresses = [.. Keys.Select(k => Keel.Core.Address.FromPublicKey(Secp256k1.GetPublicKey(k)))];

    public const int Count = 10;

    public static byte[] Key(int i) => Keys[i];

    public static Address Address(int i) => Addresses[i];
}
