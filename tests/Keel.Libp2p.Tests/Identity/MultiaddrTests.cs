namespace Keel.Libp2p.Tests.Identity;

/// <summary>Vectors from go-multiaddr and js-multiaddr.</summary>
public sealed class MultiaddrTests
{
    [Theory]
    [InlineData("/ip4/127.0.0.1/udp/1234", "047f000001910204d2")]
    [InlineData("/ip4/127.0.0.1/tcp/4321", "047f0000010610e1")]
    [InlineData("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1")]
    [InlineData("/ip6/::1/tcp/4001", "29000000000000000000000000000000010" + "60fa1")]
    [InlineData("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", "047f000001060fa1a503260024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")]
    public void Text_and_binary_forms_match_the_vectors(string text, string hex)
    {
        var a = Multiaddr.Parse(text);
        Assert.Equal(hex, Convert.ToHexString(a.ToBytes()).ToLowerInvariant());
        Assert.Equal(text, Multiaddr.FromBytes(Convert.FromHexString(hex)).ToString());
    }

    [Fact]
    public void Legacy_ipfs_prefix_and_dns_and_ws_parse()
    {
        var a = Multiaddr.Parse("/ip4/10.0.0.1/tcp/30400/ipfs/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
        Assert.Equal("/ip4/10.0.0.1/tcp/30400/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", a.ToString());
        Assert.Equal("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", a.PeerId!.ToString());
        Assert.True(a.TryGetTcpTarget(out var host, out var port));
        Assert.Equal(("10.0.0.1", 30400), (host, port));
        Assert.Equal("/ip4/10.0.0.1/tcp/30400", a.WithoutPeerId().ToString());
        var d = Multiaddr.Parse("/dns4/node.example/tcp/443/ws");
        Assert.Equal(d, Multiaddr.FromBytes(d.ToBytes()));
        Assert.False(d.TryGetTcpTarget(out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ip4/1.2.3.4")]
    [InlineData("/ip4/1.2.3")]
    [InlineData("/ip4/1.2.3.4/tcp")]
    [InlineData("/ip4/1.2.3.4/tcp/70000")]
    [InlineData("/ip6/1.2.3.4")]
    [InlineData("/foo/1")]
    [InlineData("/p2p/notapeer")]
    public void Bad_text_is_refused(string text)
    {
        Assert.Throws<MalformedDataException>(() => Multiaddr.Parse(text));
    }

    [Theory]
    [InlineData("04")]
    [InlineData("047f0000")]
    [InlineData("06")]
    [InlineData("a503ff")]
    [InlineData("ffffffffffffffffffff")]
    [InlineData("a5030500240801")]
    public void Bad_bytes_are_refused(string hex)
    {
        Assert.Throws<MalformedDataException>(() => Multiaddr.FromBytes(Convert.FromHexString(hex)));
    }
}
