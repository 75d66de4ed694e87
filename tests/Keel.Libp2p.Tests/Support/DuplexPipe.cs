using System.IO.Pipelines;

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

    private sealed class End(Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => read.ReadAsync(buffer, ct);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => write.WriteAsync(buffer, ct);
        public override Task FlushAsync(CancellationToken ct) => write.FlushAsync(ct);
        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);
        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);
        public override void Flush() => write.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

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
