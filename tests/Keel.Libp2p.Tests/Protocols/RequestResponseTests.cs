using Keel.Libp2p.Host;
using Keel.Libp2p.Protocols;
using Keel.Libp2p.Tests.Support;

namespace Keel.Libp2p.Tests.Protocols;

public sealed class RequestResponseTests : IAsyncLifetime
{
    private Libp2pHost _a = null!;
    private Libp2pHost _b = null!;
    private RequestResponse _ra = null!;
    private RequestResponse _rb = null!;

    public async Task InitializeAsync()
    {
        _a = await TestHosts.StartAsync();
        _b = await TestHosts.StartAsync();
        _ra = new RequestResponse(_a, maxRequestBytes: 1024, maxResponseBytes: 4096, timeoutMs: 2_000);
        _rb = new RequestResponse(_b, maxRequestBytes: 1024, maxResponseBytes: 4096, timeoutMs: 2_000);
        _rb.Register("echo", (from, payload, ct) => ValueTask.FromResult<byte[]>([.. "from "u8, .. from.Bytes[^4..], .. payload.Span]));
        _rb.Register("slow", async (_, _, ct) => { await Task.Delay(10_000, ct); return []; });
        _rb.Register("fail", (_, _, _) => throw new InvalidOperationException("no such block"));
        _rb.Register("huge", (_, _, _) => ValueTask.FromResult(new byte[8192]));
        await _a.DialAsync(_b.ListenAddresses[0]);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task Request_gets_the_handlers_response_with_the_callers_identity()
    {
        var response = await _ra.RequestAsync(_b.PeerId, "echo", "ping"u8.ToArray());
        Assert.Equal([.. "from "u8, .. _a.PeerId.Bytes[^4..], .. "ping"u8], response);
        // Many in parallel, each on its own stream.
        var all = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => _ra.RequestAsync(_b.PeerId, "echo", new byte[] { (byte)i })));
        Assert.All(all.Select((r, i) => (r, i)), x => Assert.Equal((byte)x.i, x.r[^1]));
    }

    [Fact]
    public async Task Unknown_method_handler_failure_timeout_and_sizes_are_typed_errors()
    {
        Assert.Contains("does not serve", (await Assert.ThrowsAsync<RequestException>(() => _ra.RequestAsync(_b.PeerId, "nope", Array.Empty<byte>()))).Message);
        Assert.Contains("no such block", (await Assert.ThrowsAsync<RequestException>(() => _ra.RequestAsync(_b.PeerId, "fail", Array.Empty<byte>()))).Message);
        Assert.Contains("timed out", (await Assert.ThrowsAsync<RequestException>(() => _ra.RequestAsync(_b.PeerId, "slow", Array.Empty<byte>(), timeoutMs: 300))).Message);
        await Assert.ThrowsAsync<MessageTooLargeException>(() => _ra.RequestAsync(_b.PeerId, "echo", new byte[2048]));
        await Assert.ThrowsAsync<RequestException>(() => _ra.RequestAsync(_b.PeerId, "huge", Array.Empty<byte>()));
        // The connection survives all of it.
        Assert.NotEmpty(await _ra.RequestAsync(_b.PeerId, "echo", new byte[] { 1 }));
    }

    [Fact]
    public void Request_frames_decode_and_bad_ones_are_refused()
    {
        var frame = RequestResponse.EncodeRequest("m", [9, 9]);
        var (method, payload) = RequestResponse.DecodeRequest(frame);
        Assert.Equal("m", method);
        Assert.Equal([9, 9], payload.ToArray());
        Assert.Throws<MalformedDataException>(() => RequestResponse.DecodeRequest([0]));
        Assert.Throws<MalformedDataException>(() => RequestResponse.DecodeRequest([5, 1]));
        Assert.Throws<MalformedDataException>(() => RequestResponse.DecodeRequest([1, 0xff]));
    }
}
