using Keel.Core.Hashing;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Tests.Execution;

public class BatchCommitmentTests
{
    private static readonly RollupHasher Hasher = RollupHasher.Shared;

    [Fact]
    public void Commitment_is_the_core_sponge_over_the_documented_encoding()
    {
        var from = Keel.Core.Address.Parse("0x0102030405060708090a0b0c0d0e0f1011121314");
        var to = Keel.Core.Address.Parse("0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");
        var tx = new Transfer(2, 0x1_0000_0385, from, to, ((UInt128)1 << 100) + 9, 77, 3_000_000_000, 5, 21_000, Keel.Core.Hash32.Zero);
        var p = new RollupParameters(0x1_0000_0385, 0x1_0000_0002, to);
        ulong[] input =
        [
            2,
            2, 0x0385, 1, 1, 0x0002, 1, 0, 0, 0xb0b1b2b3, 0xacadaeaf, 0xa8a9aaab, 0xa4a5a6a7, 0xa0a1a2a3, 0, 0,
            0x11121314, 0x0d0e0f10, 0x090a0b0c, 0x05060708, 0x01020304,
            0xb0b1b2b3, 0xacadaeaf, 0xa8a9aaab, 0xa4a5a6a7, 0xa0a1a2a3,
            9, 0, 0, 16,
            77,
            3_000_000_000, 0, 0, 0,
            5, 0, 0, 0,
            0,
        ];
        Assert.Equal(BatchCommitment.InputElements(1), input.Length);
        Assert.Equal(Digest.FromSpan(Poseidon2.Hash(input)), BatchCommitment.Compute(Hasher, p, [tx]));
    }

    [Fact]
    public void Every_field_order_and_parameter_changes_the_commitment()
    {
        var a = TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 5, 0);
        var b = TestData.Transfer(TestData.Dev(1), TestData.Dev(2), 6, 0);
        var p = TestData.Parameters;
        var baseline = BatchCommitment.Compute(Hasher, p, [a, b]);
        var variants = new[]
        {
            BatchCommitment.Compute(Hasher, p, [b, a]),
            BatchCommitment.Compute(Hasher, p, [a]),
            BatchCommitment.Compute(Hasher, p, [a, b with { Value = 7 }]),
            BatchCommitment.Compute(Hasher, p, [a, b with { Nonce = 1 }]),
            BatchCommitment.Compute(Hasher, p, [a, b with { To = TestData.Dev(3) }]),
            BatchCommitment.Compute(Hasher, p with { BaseFeePerGas = 2 }, [a, b]),
            BatchCommitment.Compute(Hasher, p with { FeeRecipient = TestData.Dev(5) }, [a, b]),
            BatchCommitment.Compute(Hasher, p with { ChainId = 902 }, [a, b]),
            BatchCommitment.Compute(Hasher, p, [a, TestData.Transfer(TestData.Dev(1), TestData.Dev(2), 6, 0, maxFee: 4 * TestData.BaseFee)]),
        };
        Assert.All(variants, v => Assert.NotEqual(baseline, v));
        Assert.Equal(variants.Length, variants.Distinct().Count());
        // The transaction hash is not committed (it is bound by the Keccak payload hash instead).
        Assert.Equal(baseline, BatchCommitment.Compute(Hasher, p, [a, TestData.Transfer(TestData.Dev(1), TestData.Dev(2), 6, 0)]));
    }

    [Fact]
    public void Builder_enforces_the_announced_count()
    {
        var c = new BatchCommitment(Hasher, TestData.Parameters, 1);
        Assert.Throws<InvalidOperationException>(() => c.Finish());
        c.Add(TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 5, 0));
        Assert.Throws<InvalidOperationException>(() => c.Add(TestData.Transfer(TestData.Dev(0), TestData.Dev(1), 5, 1)));
        c.Finish();
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchCommitment(Hasher, TestData.Parameters, BatchCommitment.MaxTransfers + 1));
        Assert.Equal(2, BatchCommitment.Permutations(0));
        Assert.Equal(5, BatchCommitment.Permutations(1));
        Assert.Equal(8, BatchCommitment.Permutations(2));
        Assert.Equal(2 + 3 * 1000, BatchCommitment.Permutations(1000));
    }
}
