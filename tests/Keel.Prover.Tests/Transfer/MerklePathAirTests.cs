using Keel.Core;
using Keel.Prover.Proving;
using Keel.Prover.Stark;
using Keel.Prover.Transfer;
using Keel.Prover.Verification;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;

namespace Keel.Prover.Tests.Transfer;

public class MerklePathAirTests
{
    private static readonly Address Prover = Address.Parse("0x2222222222222222222222222222222222222222");

    /// <summary>An opening of a real rollup state tree (a few accounts), in the AIR's terms.</summary>
    private static (byte[] Bits, ulong[] Limbs, ulong[] Leaf, ulong[][] Siblings, ulong[] Root) Opening()
    {
        var hasher = new RollupHasher();
        var tree = new SparseMerkleTree(hasher);
        var target = Address.Parse("0x8ba1f109551bD432803012645Ac136ddd64DBA72");
        tree.SetLeaf(Address.Parse("0x0000000000000000000000000000000000000001"), hasher.HashLeaf(5, 0));
        tree.SetLeaf(Address.Parse("0x8ba1f109551bd432803012645ac136ddd64dba73"), hasher.HashLeaf(7, 1));
        var leafDigest = hasher.HashLeaf(1_000_000, 3);
        tree.SetLeaf(target, leafDigest);
        var path = tree.GetPath(target);
        var bits = new byte[MerklePathAir.Depth];
        var siblings = new ulong[MerklePathAir.Depth][];
        for (var h = 0; h < bits.Length; h++)
        {
            bits[h] = (byte)FieldEncoding.AddressBit(target, h);
            siblings[h] = new ulong[4];
            path[h].CopyTo(siblings[h]);
        }
        var limbs = new ulong[5];
        FieldEncoding.WriteAddress(target, limbs);
        var leaf = new ulong[4];
        leafDigest.CopyTo(leaf);
        var root = new ulong[4];
        tree.Root.CopyTo(root);
        Assert.Equal(tree.Root, path.ComputeRoot(hasher, target, leafDigest));
        return (bits, limbs, leaf, siblings, root);
    }

    [Fact]
    public void Trace_reaches_the_rollup_tree_root()
    {
        var (bits, _, leaf, siblings, root) = Opening();
        Assert.Equal(root, MerklePathAir.ComputeRoot(bits, leaf, siblings));
        var (_, traceRoots) = MerklePathAir.BuildTrace(bits, [leaf], siblings);
        Assert.Equal(root, traceRoots[0]);
    }

    [Fact]
    public void Opening_proof_verifies_and_binds_address_leaf_and_root()
    {
        var (bits, limbs, leaf, siblings, root) = Opening();
        var (trace, _) = MerklePathAir.BuildTrace(bits, [leaf], siblings);
        var air = new MerklePathAir(limbs, leaf, root);
        var proof = new StarkProver().Prove(air, trace, Prover).ToBytes();
        StarkVerifier.Verify(air, proof, Prover);

        var otherAddress = (ulong[])limbs.Clone();
        otherAddress[2] ^= 4;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new MerklePathAir(otherAddress, leaf, root), proof, Prover));
        var otherLeaf = (ulong[])leaf.Clone();
        otherLeaf[0] ^= 1;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new MerklePathAir(limbs, otherLeaf, root), proof, Prover));
        var otherRoot = (ulong[])root.Clone();
        otherRoot[3] ^= 1;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new MerklePathAir(limbs, leaf, otherRoot), proof, Prover));
    }

    [Fact]
    public void Prover_refuses_an_opening_for_another_address()
    {
        var (bits, limbs, leaf, siblings, root) = Opening();
        bits[40] ^= 1; // the path is hashed with a different operand order at level 40
        var (trace, wrongRoots) = MerklePathAir.BuildTrace(bits, [leaf], siblings);
        var wrongRoot = wrongRoots[0];
        Assert.NotEqual(root, wrongRoot);
        Assert.Throws<TraceException>(() => new StarkProver().Prove(new MerklePathAir(limbs, leaf, wrongRoot), trace, Prover));
    }

    [Fact]
    public void Update_proof_matches_the_tree_after_the_leaf_changes()
    {
        var (bits, limbs, oldLeaf, siblings, oldRoot) = Opening();
        var hasher = new RollupHasher();
        var newLeafDigest = hasher.HashLeaf(999_000, 4);
        var newLeaf = new ulong[4];
        newLeafDigest.CopyTo(newLeaf);
        var (trace, roots) = MerklePathAir.BuildTrace(bits, [oldLeaf, newLeaf], siblings);
        Assert.Equal(oldRoot, roots[0]);
        Assert.Equal(MerklePathAir.ComputeRoot(bits, newLeaf, siblings), roots[1]);

        var air = new MerklePathAir(limbs, oldLeaf, oldRoot, newLeaf, roots[1]);
        Assert.Equal(MerklePathAir.UpdateName, air.Name);
        var proof = new StarkProver().Prove(air, trace, Prover).ToBytes();
        StarkVerifier.Verify(air, proof, Prover);
        // Claiming the update left the root unchanged is refused.
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(new MerklePathAir(limbs, oldLeaf, oldRoot, newLeaf, oldRoot), proof, Prover));
    }

    [Fact]
    public void Account_update_proves_the_leaves_from_balances_and_nonces()
    {
        var hasher = new RollupHasher();
        var tree = new SparseMerkleTree(hasher);
        var target = Address.Parse("0x00000000219ab540356cBB839Cbe05303d7705Fa");
        tree.SetLeaf(Address.Parse("0x00000000219ab540356cbb839cbe05303d7705fb"), hasher.HashLeaf(42, 0));
        tree.SetLeaf(target, hasher.HashLeaf(1_000_000, 3));
        var oldRoot = tree.Root;
        var path = tree.GetPath(target);
        tree.SetLeaf(target, hasher.HashLeaf(999_000, 4));
        var newRoot = tree.Root;

        ulong[] Account(UInt128 balance, ulong nonce)
        {
            var a = new ulong[MerklePathAir.AccountElements];
            FieldEncoding.WriteAmount(balance, a.AsSpan(0, 4));
            a[4] = nonce;
            return a;
        }
        var oldAccount = Account(1_000_000, 3);
        var newAccount = Account(999_000, 4);
        var leaf = new ulong[4];
        hasher.HashLeaf(1_000_000, 3).CopyTo(leaf);
        Assert.Equal(leaf, MerklePathAir.LeafOf(oldAccount));

        var bits = new byte[MerklePathAir.Depth];
        var siblings = new ulong[MerklePathAir.Depth][];
        for (var h = 0; h < bits.Length; h++)
        {
            bits[h] = (byte)FieldEncoding.AddressBit(target, h);
            siblings[h] = new ulong[4];
            path[h].CopyTo(siblings[h]);
        }
        var limbs = new ulong[5];
        FieldEncoding.WriteAddress(target, limbs);
        var (trace, roots) = MerklePathAir.BuildAccountTrace(bits, [oldAccount, newAccount], siblings);
        var expectedOld = new ulong[4];
        var expectedNew = new ulong[4];
        oldRoot.CopyTo(expectedOld);
        newRoot.CopyTo(expectedNew);
        Assert.Equal(expectedOld, roots[0]);
        Assert.Equal(expectedNew, roots[1]);

        var air = MerklePathAir.AccountUpdate(limbs, oldAccount, roots[0], newAccount, roots[1]);
        Assert.Equal(MerklePathAir.AccountUpdateName, air.Name);
        var proof = new StarkProver().Prove(air, trace, Prover).ToBytes();
        StarkVerifier.Verify(air, proof, Prover);

        var richer = (ulong[])newAccount.Clone();
        richer[0] += 1;
        Assert.Throws<ProofRejectedException>(() => StarkVerifier.Verify(MerklePathAir.AccountUpdate(limbs, oldAccount, roots[0], richer, roots[1]), proof, Prover));
    }
}
