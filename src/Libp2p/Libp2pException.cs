namespace Keel.Libp2p;

/// <summary>Base of every error the p2p stack raises on purpose; anything else is a bug.</summary>
public class Libp2pException : Exception
{
    public Libp2pException(string message) : base(message) { }
    public Libp2pException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Bytes from a peer (or an operator) that do not decode: varints, keys, multiaddrs, frames.</summary>
public sealed class MalformedDataException(string message) : Libp2pException(message);

/// <summary>A length prefix or message above the limit that applies where it was read.</summary>
public sealed class MessageTooLargeException(string what, long size, long limit)
    : Libp2pException($"{what} of {size} bytes exceeds the limit of {limit} bytes")
{
    public long Size { get; } = size;
    public long Limit { get; } = limit;
}

/// <summary>multistream-select found no protocol both sides speak, or the peer broke the exchange.</summary>
public sealed class NegotiationException(string message) : Libp2pException(message);

/// <summary>The Noise handshake failed: bad ciphertext, bad identity signature, or the wrong peer.</summary>
public sealed class HandshakeException(string message) : Libp2pException(message);

/// <summary>The remote broke the yamux protocol or reset a stream.</summary>
public sealed class MuxerException(string message) : Libp2pException(message);

/// <summary>A request on /keel/req/1 failed: the remote refused it, timed out, or answered too much.</summary>
public sealed class RequestException(string message) : Libp2pException(message);

/// <summary>The node refused a connection or dial because of a configured limit.</summary>
public sealed class ConnectionLimitException(string message) : Libp2pException(message);
