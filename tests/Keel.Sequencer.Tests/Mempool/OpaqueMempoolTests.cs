using Keel.Sequencer.Mempool;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Tests.Mempool;

public class OpaqueMempoolTests
{
    private static OpaqueMempool Pool(Func<NamespaceConfig, NamespaceConfig>? tweak = null) =>
        new((tweak ?? (c => c))(NamespaceConfig.Opaque(7777)));

    [Fact]
    public void Keeps_arrival_order_and_removes_included()
    {
        var pool = Pool();
        var hashes = Enumerable.Range(0, 5).Select(i => pool.Submit(new byte[] { (byte)i, 1 }).Hash).ToList();
        Assert.Equal(hashes, pool.Snapshot(10).Select(e => e.Hash));
        Assert.Equal(hashes.Take(2), pool.Snapshot(2).Select(e => e.Hash));
        pool.OnCommitted([hashes[1], hashes[3]]);
        Assert.Equal(new[] { hashes[0], hashes[2], hashes[4] }, pool.Snapshot(10).Select(e => e.Hash));
        Assert.Equal(3 * 2, pool.Bytes);
        Assert.True(pool.HasReady);
    }

    [Fact]
    public void Refusals_are_typed()
    {
        var pool = Pool(c => c with { MaxTxBytes = 10, MaxBlockBytes = 10, MempoolMaxTxs = 2, MempoolMaxBytes = 15 });
        Assert.Equal(MempoolError.Malformed, Assert.Throws<MempoolRejectedException>(() => pool.Submit([])).Error);
        Assert.Equal(MempoolError.Oversized, Assert.Throws<MempoolRejectedException>(() => pool.Submit(new byte[11])).Error);
        pool.Submit(new byte[10]);
        Assert.Equal(MempoolError.AlreadyKnown, Assert.Throws<MempoolRejectedException>(() => pool.Submit(new byte[10])).Error);
        Assert.Equal(MempoolError.PoolFull, Assert.Throws<MempoolRejectedException>(() => pool.Submit(new byte[6])).Error);
        pool.Submit(new byte[5]);
        Assert.Equal(MempoolError.PoolFull, Assert.Throws<MempoolRejectedException>(() => pool.Submit(new byte[] { 1 })).Error);
        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public void Profile_mismatch_is_a_config_error() =>
        Assert.Throws<SequencerConfigException>(() => new OpaqueMempool(NamespaceConfig.Transfer(901, Keel.Core.Address.Zero)));
}
