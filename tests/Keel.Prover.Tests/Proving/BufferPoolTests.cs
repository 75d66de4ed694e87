using Keel.Prover.Proving;

namespace Keel.Prover.Tests.Proving;

public class BufferPoolTests
{
    [Fact]
    public void Returned_arrays_are_reused_by_length_within_the_bound()
    {
        var words = BufferPool.MinPooledWords;
        var pool = new BufferPool(maxRetainedBytes: 8L * words * 2);
        var a = pool.Rent(words);
        var b = pool.Rent(words);
        var c = pool.Rent(words);
        pool.Return([a, b, c]);
        Assert.Equal(8L * words * 2, pool.RetainedBytes); // the third did not fit
        Assert.Same(b, pool.Rent(words));
        Assert.Same(a, pool.Rent(words));
        Assert.NotSame(c, pool.Rent(words));
        Assert.Equal(0, pool.RetainedBytes);
        Assert.Equal(2 * words, pool.Rent(2 * words).Length);
    }

    [Fact]
    public void Small_arrays_and_nulls_are_not_kept()
    {
        var pool = new BufferPool();
        pool.Return([new ulong[BufferPool.MinPooledWords - 1], null]);
        Assert.Equal(0, pool.RetainedBytes);
        pool.Return([pool.Rent(BufferPool.MinPooledWords)]);
        Assert.True(pool.RetainedBytes > 0);
        pool.Clear();
        Assert.Equal(0, pool.RetainedBytes);
    }
}
