using System.Buffers.Binary;
using System.Security.Cryptography;
using Keel.Libp2p.Tests.Support;
using Keel.Libp2p.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Libp2p.Tests.Transport;

public sealed class YamuxTests
{
    private static (Yamux Client, Yamux Server, Func<Task<YamuxStream>> NextInbound) Pair()
    {
        var (a, b) = DuplexPipe.Create();
        var inbound = System.Threading.Channels.Channel.CreateUnbounded<YamuxStream>();
        var client = new Yamux(a, isClient: true, NullLogger.Instance, s => Task.CompletedTask);
        var server = new Yamux(b, isClient: false, NullLogger.Instance, s => inbound.Writer.WriteAsync(s).AsTask());
        client.Start();
        server.Start();
        return (client, server, async () => await inbound.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Transfer_far_beyond_the_window_completes_through_credit_updates()
    {
        var (client, server, next) = Pair();
        var data = RandomNumberGenerator.GetBytes(5 * Yamux.InitialWindowBytes + 123);
        var stream = await client.OpenStreamAsync(default);
        var writing = Task.Run(async () =>
        {
            await stream.WriteAsync(data);
            await stream.CloseWriteAsync();
        });
        var inbound = await next();
        var received = new MemoryStream();
        await inbound.CopyToAsync(received).WaitAsync(TimeSpan.FromSeconds(20));
        await writing;
        Assert.Equal(data, received.ToArray());
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Writer_blocks_at_the_window_until_the_reader_consumes()
    {
        var (client, server, next) = Pair();
        var stream = await client.OpenStreamAsync(default);
        var write = stream.WriteAsync(new byte[Yamux.InitialWindowBytes + 1]).AsTask();
        var inbound = await next();
        await Task.Delay(200);
        Assert.False(write.IsCompleted);
        var buffer = new byte[Yamux.InitialWindowBytes];
        await inbound.ReadExactlyAsync(buffer);
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Streams_are_independent_and_half_close_reads_eof()
    {
        var (client, server, next) = Pair();
        var s1 = await client.OpenStreamAsync(default);
        var s2 = await client.OpenStreamAsync(default);
        Assert.Equal(1u, s1.Id);
        Assert.Equal(3u, s2.Id);
        await s2.WriteAsync("two"u8.ToArray());
        await s1.WriteAsync("one"u8.ToArray());
        await s1.CloseWriteAsync();
        var i1 = await next();
        var i2 = await next();
        var byId = new[] { i1, i2 }.ToDictionary(s => s.Id);
        var buf = new byte[3];
        await byId[3].ReadExactlyAsync(buf);
        Assert.Equal("two"u8.ToArray(), buf);
        await byId[1].ReadExactlyAsync(buf);
        Assert.Equal("one"u8.ToArray(), buf);
        Assert.Equal(0, await byId[1].ReadAsync(buf));
        // The other direction still works after the half-close.
        await byId[1].WriteAsync("back"u8.ToArray());
        var back = new byte[4];
        await s1.ReadExactlyAsync(back);
        Assert.Equal("back"u8.ToArray(), back);
        var rtt = await client.PingAsync(default);
        Assert.True(rtt < TimeSpan.FromSeconds(5));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Reset_fails_the_remote_reader()
    {
        var (client, server, next) = Pair();
        var s = await client.OpenStreamAsync(default);
        var inbound = await next();
        s.Reset();
        await Assert.ThrowsAsync<MuxerException>(async () => await inbound.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    private static byte[] Header(byte type, ushort flags, uint id, uint length)
    {
        var h = new byte[12];
        h[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(4), id);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(8), length);
        return h;
    }

    public static TheoryData<string, byte[]> Violations => new()
    {
        { "wrong parity", Header(1, 1, 1, 0) },
        { "bad version", [1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0] },
        { "unknown type", Header(9, 0, 0, 0) },
        { "data past the window", [.. Header(0, 1, 2, Yamux.InitialWindowBytes + 1)] },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task Protocol_violations_close_the_session_with_a_reason(string what, byte[] frame)
    {
        var (a, b) = DuplexPipe.Create();
        var client = new Yamux(a, isClient: true, NullLogger.Instance, s => Task.CompletedTask);
        client.Start();
        await b.WriteAsync(frame);
        await b.FlushAsync();
        var reason = await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("protocol error", reason);
        // The peer is told why (GoAway with protocol error); an ACK for the offending stream may come first.
        var goAway = new byte[12];
        for (var frames = 0; frames < 4 && goAway[1] != 3; frames++)
        {
            await b.ReadExactlyAsync(goAway).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        Assert.Equal(3, goAway[1]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(goAway.AsSpan(8)));
        Assert.NotNull(what);
    }

    [Fact]
    public async Task Ping_is_answered_with_the_same_value()
    {
        var (a, b) = DuplexPipe.Create();
        var server = new Yamux(a, isClient: false, NullLogger.Instance, s => Task.CompletedTask);
        server.Start();
        await b.WriteAsync(Header(2, 1, 0, 0xdeadbeef));
        await b.FlushAsync();
        var reply = new byte[12];
        await b.ReadExactlyAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Header(2, 2, 0, 0xdeadbeef), reply);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Unanswered_keepalive_closes_a_half_open_session()
    {
        var (a, b) = DuplexPipe.Create();
        var session = new Yamux(a, isClient: true, NullLogger.Instance, s => Task.CompletedTask, keepAliveIntervalMs: 100, pingTimeoutMs: 200);
        session.Start();
        // The other end stays open but never answers (a peer that vanished without a FIN).
        var reason = await session.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("half-open", reason);
        GC.KeepAlive(b);
    }
}
