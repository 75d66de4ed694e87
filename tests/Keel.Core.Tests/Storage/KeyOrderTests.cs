using Keel.Core.Storage;

namespace Keel.Core.Tests.Storage;

public sealed class KeyOrderTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("00", "01")]
    [InlineData("10FF", "11")]
    [InlineData("10FFFF", "11")]
    [InlineData("FF", "")]
    [InlineData("FFFF", "")]
    [InlineData("0A0B", "0A0C")]
    public void The_prefix_upper_bound_is_the_next_key_after_every_extension(string prefixHex, string boundHex)
    {
        Assert.Equal(Convert.FromHexString(boundHex), KeyOrder.PrefixUpperBound(Convert.FromHexString(prefixHex)));
    }

    [Fact]
    public void Order_is_unsigned_and_a_prefix_sorts_first()
    {
        Assert.True(KeyOrder.Compare([0x7F], [0x80]) < 0);
        Assert.True(KeyOrder.Compare([0x01], [0x01, 0x00]) < 0);
        Assert.True(KeyOrder.Compare([0xFF], [0x01, 0xFF]) > 0);
        Assert.Equal(0, KeyOrder.Compare([1, 2], [1, 2]));
    }

    [Fact]
    public void Batch_limits_are_enforced_before_growth()
    {
        StorageLimits.CheckBatchGrowth(StorageLimits.MaxBatchOperations - 1, 0, 10);
        Assert.Throws<InvalidStorageArgumentException>(() => StorageLimits.CheckBatchGrowth(StorageLimits.MaxBatchOperations, 0, 10));
        Assert.Throws<InvalidStorageArgumentException>(() => StorageLimits.CheckBatchGrowth(1, StorageLimits.MaxBatchBytes - 5, 10));
    }

    [Fact]
    public void Oversized_values_are_rejected()
    {
        StorageLimits.CheckValue(new byte[16]);
        var error = Assert.Throws<InvalidStorageArgumentException>(() => StorageLimits.CheckValue(new byte[StorageLimits.MaxValueBytes + 1]));
        Assert.Contains(nameof(StorageLimits.MaxValueBytes), error.Message);
    }

    [Fact]
    public void Too_many_families_are_rejected()
    {
        var names = Enumerable.Range(0, StorageLimits.MaxColumnFamilies).Select(i => $"f{i}");
        Assert.Throws<InvalidStorageArgumentException>(() => StorageLimits.NormalizeColumnFamilies(names));
    }
}
