using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;

namespace Keel.Rollup.Tests.Genesis;

public class RollupGenesisTests
{
    private const string Mnemonic = "test test test test test test test test test test test junk";

    [Fact]
    public void Hard_coded_dev_accounts_and_keys_are_the_first_ten_of_the_test_mnemonic()
    {
        // BIP-39 seed, BIP-32 derivation along m/44'/60'/0'/0/i: recomputed here, so the data in
        // RollupGenesis cannot silently drift from what anvil funds.
        var seed = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(Mnemonic), Encoding.UTF8.GetBytes("mnemonic"), 2048, HashAlgorithmName.SHA512, 64);
        var (key, chain) = Split(HMACSHA512.HashData(Encoding.ASCII.GetBytes("Bitcoin seed"), seed));
        foreach (uint index in new[] { 44u | Hardened, 60u | Hardened, Hardened, 0u })
            (key, chain) = Child(key, chain, index);
        for (uint i = 0; i < 10; i++)
        {
            var (accountKey, _) = Child(key, chain, i);
            Assert.Equal(RollupGenesis.AnvilDevAccounts[(int)i], TestData.AddressOf(accountKey));
            Assert.Equal(Hex.Encode(accountKey), RollupGenesis.AnvilDevKeys[(int)i]);
        }
    }

    [Fact]
    public void Devnet_genesis_funds_ten_accounts_with_10000_ether()
    {
        var g = RollupGenesis.Devnet();
        Assert.Equal(10, g.Allocations.Count);
        Assert.Equal(10_000 * TestData.Ether, RollupGenesis.DevAccountBalance);
        Assert.Equal(10 * RollupGenesis.DevAccountBalance, g.TotalSupply);
        var state = g.CreateState();
        Assert.Equal(10, state.AccountCount);
        Assert.Equal(new Account(RollupGenesis.DevAccountBalance, 0), state.GetAccount(TestData.Dev(9)));
        Assert.Equal(Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"), TestData.Dev(0));
        // The root does not depend on the order of the allocations.
        var reversed = new RollupGenesis(g.Allocations.Reverse()).CreateState();
        Assert.Equal(state.Root, reversed.Root);
        Assert.NotEqual(RollupHasher.Shared.EmptySubtree(160), state.Root);
    }

    [Fact]
    public void Duplicate_address_and_supply_above_2_pow_128_are_refused()
    {
        var a = TestData.Dev(0);
        Assert.Throws<RollupException>(() => new RollupGenesis([KeyValuePair.Create(a, (UInt128)1), KeyValuePair.Create(a, (UInt128)2)]));
        Assert.Throws<RollupException>(() => new RollupGenesis([KeyValuePair.Create(a, UInt128.MaxValue), KeyValuePair.Create(TestData.Dev(1), (UInt128)1)]));
        Assert.Equal(UInt128.MaxValue, new RollupGenesis([KeyValuePair.Create(a, UInt128.MaxValue)]).TotalSupply);
    }

    private const uint Hardened = 0x8000_0000;
    private static readonly BigInteger Order = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    private static (byte[] Key, byte[] Chain) Split(byte[] i) => (i[..32], i[32..]);

    private static (byte[] Key, byte[] Chain) Child(byte[] key, byte[] chain, uint index)
    {
        byte[] data = (index & Hardened) != 0
            ? [0, .. key, .. BigEndian(index)]
            : [.. Secp256k1.GetPublicKey(key, compressed: true), .. BigEndian(index)];
        var (il, ir) = Split(HMACSHA512.HashData(chain, data));
        var sum = (new BigInteger(il, isUnsigned: true, isBigEndian: true) + new BigInteger(key, isUnsigned: true, isBigEndian: true)) % Order;
        var bytes = sum.ToByteArray(isUnsigned: true, isBigEndian: true);
        var child = new byte[32];
        bytes.CopyTo(child, 32 - bytes.Length);
        return (child, ir);
    }

    private static byte[] BigEndian(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
}
