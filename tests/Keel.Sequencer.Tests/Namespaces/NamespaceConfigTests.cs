using Keel.Core;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Tests.Namespaces;

public class NamespaceConfigTests
{
    [Fact]
    public void Set_is_sorted_by_id_and_indexes_namespaces()
    {
        var set = new NamespaceSet([NamespaceConfig.Opaque(50), NamespaceConfig.Transfer(7, Address.Zero), NamespaceConfig.Transfer(9, Address.Zero)]);
        Assert.Equal(new ulong[] { 7, 9, 50 }, set.All.Select(n => n.ChainId));
        Assert.Equal(2, set.IndexOf(50));
        Assert.Equal(-1, set.IndexOf(8));
        Assert.True(set.TryGet(9, out var nine));
        Assert.Equal(ValidationProfile.Transfer, nine.Profile);
        Assert.False(set.TryGet(10, out _));
        Assert.True(set.WorstCaseBlockBytes > 0);
    }

    [Fact]
    public void Bad_sets_are_refused()
    {
        Assert.Throws<SequencerConfigException>(() => new NamespaceSet([]));
        Assert.Throws<SequencerConfigException>(() => new NamespaceSet([NamespaceConfig.Opaque(5), NamespaceConfig.Transfer(5, Address.Zero)]));
        Assert.Throws<SequencerConfigException>(() => new NamespaceSet(Enumerable.Range(1, SequencerLimits.MaxNamespaces + 1).Select(i => NamespaceConfig.Opaque((ulong)i))));
    }

    [Theory]
    [InlineData("chain-zero")]
    [InlineData("tx-too-big-for-transfer")]
    [InlineData("block-smaller-than-tx")]
    [InlineData("txs-per-block")]
    [InlineData("mempool-txs")]
    [InlineData("mempool-bytes")]
    [InlineData("per-sender")]
    [InlineData("nonce-gap")]
    public void Limits_out_of_range_are_config_errors(string kind)
    {
        var c = NamespaceConfig.Transfer(901, Address.Zero);
        var bad = kind switch
        {
            "chain-zero" => c with { ChainId = 0 },
            "tx-too-big-for-transfer" => c with { MaxTxBytes = SequencerLimits.MaxTransferTxBytes + 1 },
            "block-smaller-than-tx" => c with { MaxBlockBytes = c.MaxTxBytes - 1 },
            "txs-per-block" => c with { MaxTxsPerBlock = SequencerLimits.MaxTxsPerNamespacePerBlock + 1 },
            "mempool-txs" => c with { MempoolMaxTxs = 0 },
            "mempool-bytes" => c with { MempoolMaxBytes = SequencerLimits.MaxMempoolBytes + 1 },
            "per-sender" => c with { MempoolMaxTxsPerSender = SequencerLimits.MaxTxsPerSender + 1 },
            "nonce-gap" => c with { MempoolMaxNonceGap = 0 },
            _ => throw new ArgumentException(kind),
        };
        var e = Assert.Throws<SequencerConfigException>(bad.Validate);
        Assert.Contains("namespace", e.Message);
        Assert.Throws<SequencerConfigException>(() => new NamespaceSet([bad]));
    }
}
