using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Keel.Libp2p.Wire;

namespace Keel.Libp2p;

/// <summary>A multiaddr protocol code (multicodec table) Keel understands.</summary>
public enum MultiaddrProtocol
{
    Ip4 = 4,
    Tcp = 6,
    Ip6 = 41,
    Dns4 = 54,
    Dns6 = 55,
    DnsAddr = 56,
    Udp = 273,
    P2p = 421,
    QuicV1 = 461,
    Ws = 477,
}

/// <summary>One <c>/proto/value</c> pair; Value holds the binary form (empty for ws, quic-v1).</summary>
public readonly record struct MultiaddrComponent(MultiaddrProtocol Protocol, byte[] Value);

/// <summary>Self-describing addresses (<c>/ip4/127.0.0.1/tcp/4001/p2p/12D3…</c>), text and binary forms.</summary>
public sealed class Multiaddr : IEquatable<Multiaddr>
{
    /// <summary>No legitimate address comes close; caps what a peer can make us parse.</summary>
    public const int MaxBytes = 1024;
    public const int MaxComponents = 16;
    private const int MaxDnsNameBytes = 255;

    private readonly MultiaddrComponent[] _components;

    private Multiaddr(MultiaddrComponent[] components) => _components = components;

    public IReadOnlyList<MultiaddrComponent> Components => _components;

    public static Multiaddr Parse(string text)
    {
        if (string.IsNullOrEmpty(text) || text[0] != '/' || text.Length > 4 * MaxBytes)
        {
            throw new MalformedDataException($"multiaddr must start with '/': '{text}'");
        }
        var parts = text.TrimEnd('/').Split('/');
        var list = new List<MultiaddrComponent>();
        var i = 1;
        while (i < parts.Length)
        {
            if (list.Count >= MaxComponents)
            {
                throw new MalformedDataException("multiaddr has too many components");
            }
            var name = parts[i++];
            MultiaddrProtocol proto = name switch
            {
                "ip4" => MultiaddrProtocol.Ip4,
                "ip6" => MultiaddrProtocol.Ip6,
                "tcp" => MultiaddrProtocol.Tcp,
                "udp" => MultiaddrProtocol.Udp,
                "dns4" => MultiaddrProtocol.Dns4,
                "dns6" => MultiaddrProtocol.Dns6,
                "dnsaddr" => MultiaddrProtocol.DnsAddr,
                "p2p" or "ipfs" => MultiaddrProtocol.P2p,
                "ws" => MultiaddrProtocol.Ws,
                "quic-v1" => MultiaddrProtocol.QuicV1,
                _ => throw new MalformedDataException($"unknown multiaddr protocol '{name}'"),
            };
            if (proto is MultiaddrProtocol.Ws or MultiaddrProtocol.QuicV1)
            {
                list.Add(new(proto, []));
                continue;
            }
            if (i >= parts.Length)
            {
                throw new MalformedDataException($"multiaddr protocol '{name}' lacks its value");
            }
            list.Add(new(proto, ParseValue(proto, parts[i++])));
        }
        if (list.Count == 0)
        {
            throw new MalformedDataException("empty multiaddr");
        }
        return new Multiaddr([.. list]);
    }

    public static bool TryParse(string text, out Multiaddr? address)
    {
        try
        {
            address = Parse(text);
            return true;
        }
        catch (MalformedDataException)
        {
            address = null;
            return false;
        }
    }

    private static byte[] ParseValue(MultiaddrProtocol proto, string value)
    {
        switch (proto)
        {
            case MultiaddrProtocol.Ip4:
                // IPAddress.TryParse also takes legacy forms ("1.2.3", hex); multiaddr wants four decimals.
                var quads = value.Split('.');
                if (quads.Length != 4 || quads.Any(q => q.Length is 0 or > 3 || !q.All(char.IsAsciiDigit))
                    || !IPAddress.TryParse(value, out var ip4) || ip4.AddressFamily != AddressFamily.InterNetwork)
                {
                    throw new MalformedDataException($"bad ip4 address '{value}'");
                }
                return ip4.GetAddressBytes();
            case MultiaddrProtocol.Ip6:
                if (!IPAddress.TryParse(value, out var ip6) || ip6.AddressFamily != AddressFamily.InterNetworkV6)
                {
                    throw new MalformedDataException($"bad ip6 address '{value}'");
                }
                return ip6.GetAddressBytes();
            case MultiaddrProtocol.Tcp or MultiaddrProtocol.Udp:
                if (!ushort.TryParse(value, System.Globalization.NumberStyles.None, null, out var port))
                {
                    throw new MalformedDataException($"bad port '{value}'");
                }
                var b = new byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(b, port);
                return b;
            case MultiaddrProtocol.Dns4 or MultiaddrProtocol.Dns6 or MultiaddrProtocol.DnsAddr:
                var name = Encoding.UTF8.GetBytes(value);
                if (name.Length == 0 || name.Length > MaxDnsNameBytes)
                {
                    throw new MalformedDataException($"bad dns name '{value}'");
                }
                return name;
            case MultiaddrProtocol.P2p:
                return PeerId.Parse(value).ToByteArray();
            default:
                throw new MalformedDataException($"protocol {proto} takes no value");
        }
    }

    public static Multiaddr FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0 || bytes.Length > MaxBytes)
        {
            throw new MalformedDataException($"multiaddr of {bytes.Length} bytes");
        }
        var list = new List<MultiaddrComponent>();
        var pos = 0;
        while (pos < bytes.Length)
        {
            if (list.Count >= MaxComponents)
            {
                throw new MalformedDataException("multiaddr has too many components");
            }
            var code = Varint.Read(bytes[pos..], out var used);
            pos += used;
            var proto = (MultiaddrProtocol)code;
            int size = proto switch
            {
                MultiaddrProtocol.Ip4 => 4,
                MultiaddrProtocol.Ip6 => 16,
                MultiaddrProtocol.Tcp or MultiaddrProtocol.Udp => 2,
                MultiaddrProtocol.Ws or MultiaddrProtocol.QuicV1 => 0,
                MultiaddrProtocol.Dns4 or MultiaddrProtocol.Dns6 or MultiaddrProtocol.DnsAddr or MultiaddrProtocol.P2p => -1,
                _ => throw new MalformedDataException($"unknown multiaddr code {code}"),
            };
            if (size < 0)
            {
                var length = Varint.Read(bytes[pos..], out used);
                pos += used;
                if (length > (ulong)(bytes.Length - pos))
                {
                    throw new MalformedDataException("multiaddr value runs past the end");
                }
                size = (int)length;
            }
            if (pos + size > bytes.Length)
            {
                throw new MalformedDataException("multiaddr value runs past the end");
            }
            var value = bytes.Slice(pos, size).ToArray();
            if (proto == MultiaddrProtocol.P2p)
            {
                PeerId.FromBytes(value);
            }
            list.Add(new(proto, value));
            pos += size;
        }
        return new Multiaddr([.. list]);
    }

    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        Span<byte> v = stackalloc byte[Varint.MaxBytes];
        foreach (var c in _components)
        {
            ms.Write(v[..Varint.Write(v, (ulong)c.Protocol)]);
            if (c.Protocol is MultiaddrProtocol.Dns4 or MultiaddrProtocol.Dns6 or MultiaddrProtocol.DnsAddr or MultiaddrProtocol.P2p)
            {
                ms.Write(v[..Varint.Write(v, (ulong)c.Value.Length)]);
            }
            ms.Write(c.Value);
        }
        return ms.ToArray();
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var c in _components)
        {
            sb.Append('/').Append(Name(c.Protocol));
            switch (c.Protocol)
            {
                case MultiaddrProtocol.Ip4 or MultiaddrProtocol.Ip6:
                    sb.Append('/').Append(new IPAddress(c.Value));
                    break;
                case MultiaddrProtocol.Tcp or MultiaddrProtocol.Udp:
                    sb.Append('/').Append(BinaryPrimitives.ReadUInt16BigEndian(c.Value));
                    break;
                case MultiaddrProtocol.Dns4 or MultiaddrProtocol.Dns6 or MultiaddrProtocol.DnsAddr:
                    sb.Append('/').Append(Encoding.UTF8.GetString(c.Value));
                    break;
                case MultiaddrProtocol.P2p:
                    sb.Append('/').Append(PeerId.FromBytes(c.Value));
                    break;
            }
        }
        return sb.ToString();
    }

    private static string Name(MultiaddrProtocol p) => p switch
    {
        MultiaddrProtocol.Ip4 => "ip4",
        MultiaddrProtocol.Ip6 => "ip6",
        MultiaddrProtocol.Tcp => "tcp",
        MultiaddrProtocol.Udp => "udp",
        MultiaddrProtocol.Dns4 => "dns4",
        MultiaddrProtocol.Dns6 => "dns6",
        MultiaddrProtocol.DnsAddr => "dnsaddr",
        MultiaddrProtocol.P2p => "p2p",
        MultiaddrProtocol.Ws => "ws",
        MultiaddrProtocol.QuicV1 => "quic-v1",
        _ => throw new InvalidOperationException($"unnamed protocol {p}"),
    };

    /// <summary>The peer id of the trailing <c>/p2p/</c> component, if any.</summary>
    public PeerId? PeerId
    {
        get
        {
            var last = _components[^1];
            return last.Protocol == MultiaddrProtocol.P2p ? PeerId.FromBytes(last.Value) : null;
        }
    }

    public Multiaddr WithPeerId(PeerId id) =>
        new([.. WithoutPeerId()._components, new MultiaddrComponent(MultiaddrProtocol.P2p, id.ToByteArray())]);

    public Multiaddr WithoutPeerId() =>
        _components[^1].Protocol == MultiaddrProtocol.P2p ? new Multiaddr(_components[..^1]) : this;

    /// <summary>Host and port for a TCP dial: <c>/ip4|ip6|dns4|dns6/…/tcp/…</c>, optionally ending in <c>/p2p/…</c>.</summary>
    public bool TryGetTcpTarget(out string host, out int port)
    {
        host = "";
        port = 0;
        var c = WithoutPeerId()._components;
        if (c.Length != 2 || c[1].Protocol != MultiaddrProtocol.Tcp)
        {
            return false;
        }
        port = BinaryPrimitives.ReadUInt16BigEndian(c[1].Value);
        switch (c[0].Protocol)
        {
            case MultiaddrProtocol.Ip4 or MultiaddrProtocol.Ip6:
                host = new IPAddress(c[0].Value).ToString();
                return true;
            case MultiaddrProtocol.Dns4 or MultiaddrProtocol.Dns6:
                host = Encoding.UTF8.GetString(c[0].Value);
                return true;
            default:
                return false;
        }
    }

    public static Multiaddr FromEndPoint(IPEndPoint endPoint)
    {
        var ip = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var port = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(port, (ushort)endPoint.Port);
        var proto = ip.AddressFamily == AddressFamily.InterNetwork ? MultiaddrProtocol.Ip4 : MultiaddrProtocol.Ip6;
        return new Multiaddr([new(proto, ip.GetAddressBytes()), new(MultiaddrProtocol.Tcp, port)]);
    }

    public bool Equals(Multiaddr? other) => other is not null && ToBytes().AsSpan().SequenceEqual(other.ToBytes());
    public override bool Equals(object? obj) => obj is Multiaddr m && Equals(m);
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
