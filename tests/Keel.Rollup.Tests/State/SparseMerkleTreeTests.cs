using FsCheck.Fluent;
using Keel.Core;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;

namespace Keel.Rollup.Tests.State;

public class SparseMerkleTreeTests
{
    private static readonly RollupHasher Hasher = RollupHasher.Shared;

    /// <summary>A tree of 1..12 random accounts; some addresses share long prefixes (neighbours
    /// that differ only in low bits) so that paths meet deep in the tree.</summary>
    private static (SparseMerkleTree Tree, Dictionary<Address, Account> Accounts) RandomTree(int seed)
    {
        var rng = new Random(seed);
        var tree = new SparseMerkleTree(Hasher);
        var accounts = new Dictionary<Address, Account>();
        int n = rng.Next(1, 13);
        var baseBytes = new byte[20];
        rng.NextBytes(baseBytes);
        for (int i = 0; i < n; i++)
        {
            var b = (byte[])baseBytes.Clone();
            if (rng.Next(2) == 0)
                rng.NextBytes(b);
            else
                b[19] ^= (byte)rng.Next(256);
            var address = Address.FromBytes(b);
            var account = new Account(((UInt128)(ulong)rng.NextInt64() << 64) | (ulong)rng.NextInt64(), (ulong)rng.Next());
            accounts[address] = account;
            tree.SetLeaf(address, Hasher.HashLeaf(account.Balance, account.Nonce));
        }
        return (tree, accounts);
    }

    [Fact]
    public void Empty_tree_root_is_the_empty_subtree_of_height_160()
    {
        var tree = new SparseMerkleTree(Hasher);
        Assert.Equal(Hasher.EmptySubtree(160), tree.Root);
        var path = tree.GetPath(TestData.AddressFrom(1));
        Assert.Equal(tree.Root, path.ComputeRoot(Hasher, TestData.AddressFrom(1), Hasher.EmptySubtree(0)));
    }

    [Fact]
    public void Membership_of_every_account_verifies()
    {
        Prop.ForAll<int>(seed =>
        {
            var (tree, accounts) = RandomTree(seed);
            return accounts.All(kv =>
                tree.GetPath(kv.Key).ComputeRoot(Hasher, kv.Key, Hasher.HashLeaf(kv.Value.Balance, kv.Value.Nonce)) == tree.Root);
        }).CheckWith(25);
    }

    [Fact]
    public void Non_membership_is_membership_of_the_empty_leaf()
    {
        Prop.ForAll<int>(seed =>
        {
            var (tree, accounts) = RandomTree(seed);
            var absent = TestData.AddressFrom(seed ^ 0x5a5a5a);
            if (accounts.ContainsKey(absent))
                return true;
            var path = tree.GetPath(absent);
            return path.ComputeRoot(Hasher, absent, Hasher.EmptySubtree(0)) == tree.Root
                && tree.GetLeaf(absent) == Hasher.EmptySubtree(0);
        }).CheckWith(25);
    }

    [Fact]
    public void An_existing_account_cannot_be_opened_as_empty_or_with_another_value()
    {
        Prop.ForAll<int>(seed =>
        {
            var (tree, accounts) = RandomTree(seed);
            var (address, account) = accounts.First();
            var path = tree.GetPath(address);
            bool emptyFails = path.ComputeRoot(Hasher, address, Hasher.EmptySubtree(0)) != tree.Root;
            bool otherFails = path.ComputeRoot(Hasher, address, Hasher.HashLeaf(account.Balance + 1, account.Nonce)) != tree.Root;
            return emptyFails && otherFails;
        }).CheckWith(25);
    }

    [Fact]
    public void One_account_per_address_a_path_only_opens_its_own_position()
    {
        // A second account for address A would need a leaf at a position other than A that still
        // reads as A. The position is the address, so any opening "for A" that uses another
        // address's path (B's leaf and siblings) misses the root.
        Prop.ForAll<int>(seed =>
        {
            var (tree, accounts) = RandomTree(seed);
            if (accounts.Count < 2)
                return true;
            var list = accounts.ToList();
            var (a, _) = list[0];
            var (b, accountB) = list[1];
            var pathB = tree.GetPath(b);
            var leafB = Hasher.HashLeaf(accountB.Balance, accountB.Nonce);
            var absent = TestData.AddressFrom(seed + 17);
            var pathAbsent = tree.GetPath(absent);
            return pathB.ComputeRoot(Hasher, a, leafB) != tree.Root
                && (accounts.ContainsKey(absent) || pathAbsent.ComputeRoot(Hasher, a, Hasher.EmptySubtree(0)) != tree.Root);
        }).CheckWith(25);
    }

    [Fact]
    public void Root_does_not_depend_on_insertion_order_and_clearing_restores_the_empty_root()
    {
        Prop.ForAll<int>(seed =>
        {
            var (tree, accounts) = RandomTree(seed);
            var reversed = new SparseMerkleTree(Hasher);
            foreach (var (address, account) in accounts.Reverse())
                reversed.SetLeaf(address, Hasher.HashLeaf(account.Balance, account.Nonce));
            bool same = reversed.Root == tree.Root && reversed.LeafCount == accounts.Count;
            foreach (var address in accounts.Keys)
                reversed.SetLeaf(address, Hasher.EmptySubtree(0));
            return same && reversed.Root == Hasher.EmptySubtree(160) && reversed.LeafCount == 0;
        }).CheckWith(20);
    }

    [Fact]
    public void Neighbouring_addresses_and_extreme_addresses_work()
    {
        var tree = new SparseMerkleTree(Hasher);
        var zero = Address.Zero;
        var max = Address.Parse("0xffffffffffffffffffffffffffffffffffffffff");
        var one = Address.Parse("0x0000000000000000000000000000000000000001");
        var top = Address.Parse("0x8000000000000000000000000000000000000000");
        var leaves = new[] { zero, max, one, top }.Select((a, i) => (a, Hasher.HashLeaf((UInt128)(i + 1), 0))).ToArray();
        foreach (var (a, leaf) in leaves)
            tree.SetLeaf(a, leaf);
        foreach (var (a, leaf) in leaves)
            Assert.Equal(tree.Root, tree.GetPath(a).ComputeRoot(Hasher, a, leaf));
        // zero and one differ only in bit 0: each is the other's level-0 sibling.
        Assert.Equal(leaves[2].Item2, tree.GetPath(zero)[0]);
        Assert.Equal(leaves[0].Item2, tree.GetPath(one)[0]);
    }

    [Fact]
    public void Key_shift_handles_every_boundary()
    {
        var key = SparseMerkleTree.Key160.From(Address.Parse("0xffffffffffffffffffffffffffffffffffffffff"));
        for (int n = 0; n <= 160; n++)
        {
            var shifted = key.ShiftRight(n);
            int bits = 160 - n;
            UInt128 expectedLow = bits >= 128 ? UInt128.MaxValue : bits == 0 ? 0 : (UInt128.One << bits) - 1;
            uint expectedHigh = bits > 128 ? (uint)((1UL << (bits - 128)) - 1) : 0;
            Assert.Equal(expectedLow, shifted.Low);
            Assert.Equal(expectedHigh, shifted.High);
        }
    }

    [Fact]
    public void Sparse_path_storage_returns_every_sibling_as_given()
    {
        Prop.ForAll<int>(seed =>
        {
            var rng = new Random(seed);
            var siblings = new Digest[SparseMerkleTree.Depth];
            for (int level = 0; level < siblings.Length; level++)
                siblings[level] = rng.Next(3) == 0 ? new Digest((ulong)rng.Next(), (ulong)level, 7, 9) : Hasher.EmptySubtree(level);
            var path = new MerklePath(Hasher, siblings);
            bool indexer = Enumerable.Range(0, siblings.Length).All(l => path[l] == siblings[l] && path.IsEmptySibling(l) == (siblings[l] == Hasher.EmptySubtree(l)));
            return indexer && path.ToArray().SequenceEqual(siblings)
                && path.NonEmptyCount == siblings.Where((d, l) => d != Hasher.EmptySubtree(l)).Count()
                && path.With(128, new Digest(1, 1, 1, 1))[128] == new Digest(1, 1, 1, 1);
        }).CheckWith(50);
        Assert.Throws<ArgumentException>(() => new MerklePath(Hasher, new Digest[159]));
    }
}
