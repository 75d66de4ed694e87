using System.IO.Pipelines;
using Keel.Libp2p.Transport;

namespace Keel.Libp2p.Tests.Support;

/// <summary>Two connected in-memory streams, like a socket pair.</summary>
public static class DuplexPipe
{
    public static (Stream A, Stream B) Create()
    {
        var ab = new Pipe();
        var ba = new Pipe();
        return (new End(ba.Reader.AsStream(), ab.Writer.AsStream()), new End(ab.Reader.AsStream(), ba.Writer.AsStream()));
    }

    private sealed class End(Stream read, Stream write) : ByteChannelStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => read.ReadAsync(buffer, ct);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => write.WriteAsync(buffer, ct);
        public override Task FlushAsync(CancellationToken ct) => write.FlushAsync(ct);
        public override void Flush() => write.Flush();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                write.Dispose();
                read.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
