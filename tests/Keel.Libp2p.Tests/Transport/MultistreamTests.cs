using Keel.Libp2p.Tests.Support;
using Keel.Libp2p.Transport;

namespace Keel.Libp2p.Tests.Transport;

public sealed class MultistreamTests
{
    [Fact]
    public void Header_frame_matches_the_spec_bytes()
    {
        Assert.Equal("132f6d756c746973747265616d2f312e302e300a", Convert.ToHexString(Multistream.Line(Multistream.ProtocolId)).ToLowerInvariant());
        Assert.Equal("036e610a", Convert.ToHexString(Multistream.Line("na")).ToLowerInvariant());
    }

    [Fact]
    public async Task Dialer_falls_back_and_leftover_bytes_stay_in_the_stream()
    {
        var (a, b) = DuplexPipe.Create();
        var listening = Multistream.HandleAsync(b, p => p == "/two", () => ["/two"], default);
        var chosen = await Multistream.SelectAsync(a, ["/one", "/two"], default);
        Assert.Equal("/two", chosen);
        Assert.Equal("/two", await listening);
        await a.WriteAsync("payload"u8.ToArray());
        await a.FlushAsync();
        var buf = new byte[7];
        await b.ReadExactlyAsync(buf);
        Assert.Equal("payload"u8.ToArray(), buf);
    }

    [Fact]
    public async Task No_common_protocol_fails_with_a_typed_error()
    {
        var (a, b) = DuplexPipe.Create();
        _ = Multistream.HandleAsync(b, _ => false, () => [], default);
        await Assert.ThrowsAsync<NegotiationException>(() => Multistream.SelectAsync(a, ["/x", "/y"], default));
    }

    [Fact]
    public async Task Garbage_instead_of_a_header_fails_negotiation()
    {
        var (a, b) = DuplexPipe.Create();
        var listening = Multistream.HandleAsync(b, _ => true, () => [], default);
        await a.WriteAsync(Multistream.Line("/not-multistream"));
        await a.FlushAsync();
        await Assert.ThrowsAsync<NegotiationException>(() => listening);
    }
}
