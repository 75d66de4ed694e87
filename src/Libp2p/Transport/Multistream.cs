using System.Text;
using Keel.Libp2p.Wire;

namespace Keel.Libp2p.Transport;

/// <summary>
/// multistream-select 1.0: agree on one protocol id per channel (raw TCP, inside Noise, and on
/// every yamux stream). Reads byte-exactly so that what follows the agreement stays in the stream
/// for the chosen protocol.
/// </summary>
public static class Multistream
{
    public const string ProtocolId = "/multistream/1.0.0";
    /// <summary>js-libp2p's limit on one protocol line.</summary>
    public const int MaxLineBytes = 1024;
    /// <summary>How many proposals a listener hears before giving up on the channel.</summary>
    public const int MaxProposals = 32;
    private const string Na = "na";

    /// <summary>
    /// Dialer side: proposes <paramref name="protocols"/> in order and returns the one accepted.
    /// The header and the first proposal go out in one write, as js does, to save a round trip.
    /// </summary>
    public static async Task<string> SelectAsync(Stream stream, IReadOnlyList<string> protocols, CancellationToken ct)
    {
        if (protocols.Count == 0)
        {
            throw new ArgumentException("no protocols to propose", nameof(protocols));
        }
        await stream.WriteAsync((byte[])[.. Line(ProtocolId), .. Line(protocols[0])], ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
        var header = await ReadLineAsync(stream, ct).ConfigureAwait(false);
        if (header != ProtocolId)
        {
            throw new NegotiationException($"peer does not speak {ProtocolId} (sent '{header}')");
        }
        for (var i = 0; i < protocols.Count; i++)
        {
            if (i > 0)
            {
                await stream.WriteAsync(Line(protocols[i]), ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
            }
            var answer = await ReadLineAsync(stream, ct).ConfigureAwait(false);
            if (answer == protocols[i])
            {
                return answer;
            }
            if (answer != Na)
            {
                throw new NegotiationException($"peer answered '{answer}' to a proposal of '{protocols[i]}'");
            }
        }
        throw new NegotiationException($"peer supports none of: {string.Join(", ", protocols)}");
    }

    /// <summary>Listener side: answers proposals until one is supported, and returns it.</summary>
    public static async Task<string> HandleAsync(Stream stream, Func<string, bool> isSupported, Func<IEnumerable<string>> list, CancellationToken ct)
    {
        await stream.WriteAsync(Line(ProtocolId), ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
        var header = await ReadLineAsync(stream, ct).ConfigureAwait(false);
        if (header != ProtocolId)
        {
            throw new NegotiationException($"peer does not speak {ProtocolId} (sent '{header}')");
        }
        for (var i = 0; i < MaxProposals; i++)
        {
            var proposal = await ReadLineAsync(stream, ct).ConfigureAwait(false);
            if (proposal == "ls")
            {
                var body = list().SelectMany(p => Line(p)).ToArray();
                await stream.WriteAsync(LengthPrefixed.Frame(body), ct).ConfigureAwait(false);
            }
            else if (isSupported(proposal))
            {
                await stream.WriteAsync(Line(proposal), ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
                return proposal;
            }
            else
            {
                await stream.WriteAsync(Line(Na), ct).ConfigureAwait(false);
            }
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }
        throw new NegotiationException($"peer made more than {MaxProposals} proposals");
    }

    internal static byte[] Line(string text)
    {
        var body = Encoding.UTF8.GetByteCount(text) + 1;
        if (body > MaxLineBytes)
        {
            throw new ArgumentException($"protocol id longer than {MaxLineBytes} bytes", nameof(text));
        }
        var frame = new byte[Varint.Size((ulong)body) + body];
        var n = Varint.Write(frame, (ulong)body);
        Encoding.UTF8.GetBytes(text, frame.AsSpan(n));
        frame[^1] = (byte)'\n';
        return frame;
    }

    internal static async Task<string> ReadLineAsync(Stream stream, CancellationToken ct)
    {
        var length = await Varint.ReadAsync(stream, ct).ConfigureAwait(false)
            ?? throw new NegotiationException("stream closed during protocol negotiation");
        if (length == 0 || length > MaxLineBytes)
        {
            throw new NegotiationException($"protocol line of {length} bytes");
        }
        var buffer = new byte[(int)length];
        await stream.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
        if (buffer[^1] != (byte)'\n')
        {
            throw new NegotiationException("protocol line does not end in a newline");
        }
        try
        {
            return new UTF8Encoding(false, true).GetString(buffer, 0, buffer.Length - 1);
        }
        catch (DecoderFallbackException)
        {
            throw new NegotiationException("protocol line is not UTF-8");
        }
    }
}
