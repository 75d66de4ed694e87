using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.Testing;
using Keel.Rollup.Transactions;
using Keel.Rollup.Witness;

namespace Keel.Rollup.Tests.Testing;

public class RandomBatchGeneratorTests
{
    [Fact]
    public void Same_seed_same_batch_other_seed_other_batch()
    {
        var a = RandomBatchGenerator.FromGenesis(40, 7);
        var b = RandomBatchGenerator.FromGenesis(40, 7);
        var c = RandomBatchGenerator.FromGenesis(40, 8);
        Assert.Equal(a.Transfers, b.Transfers);
        Assert.NotEqual(a.Transfers, c.Transfers);
        Assert.Equal(40, a.Transfers.Count);
    }

    [Fact]
    public void Generated_batches_execute_without_skips_and_their_witnesses_check()
    {
        var hasher = new RollupHasher();
        for (int seed = 0; seed < 3; seed++)
        {
            var g = RandomBatchGenerator.FromGenesis(60, seed, hasher);
            var result = new BatchExecutor(g.State).Execute(g.Parameters, g.Transfers);
            Assert.All(result.Receipts, r => Assert.Equal(TransferStatus.Applied, r.Outcome));
            WitnessChecker.Check(hasher, result.Witness);
            // The mix covers the interesting shapes.
            Assert.Contains(g.Transfers, t => t.Type == 0);
            Assert.Contains(g.Transfers, t => t.Type == 2);
            Assert.Contains(result.Witness.Transfers, t => t.Receiver!.Before.IsEmpty);
            Assert.Contains(result.Witness.Transfers, t => !t.Receiver!.Before.IsEmpty);
        }
    }

    [Fact]
    public void Zero_transfers_and_limits()
    {
        Assert.Empty(RandomBatchGenerator.FromGenesis(0, 1).Transfers);
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomBatchGenerator.FromGenesis(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomBatchGenerator.FromGenesis(RandomBatchGenerator.MaxTransfers + 1, 1));
    }
}
