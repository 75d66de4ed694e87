using System.Security.Cryptography;
using Keel.Libp2p.Crypto;
using Keel.Libp2p.Wire;
using SimpleBase;

namespace Keel.Libp2p;

/// <summary>
/// A libp2p peer id: the multihash of the peer's PublicKey protobuf (identity multihash when the
/// protobuf is at most 42 bytes, else SHA-256). Compared by bytes; printed as base58btc.
/// </summary>
public sealed class PeerId : IEquatable<PeerId>
{
    /// <summary>Keys whose protobuf fits here are inlined (identity multihash) rather than hashed.</summary>
    public const int MaxInlineKeyBytes = 42;
    /// <summary>Upper bound on a peer id's multihash (an inlined 42-byte key plus its 2-byte header).</summary>
    public const int MaxBytes = 64;
    private const byte IdentityCode = 0x00;
    private const byte Sha256Code = 0x12;
    private const byte CidVersion1 = 0x01;
    private const byte LibP2pKeyCodec = 0x72;

    private readonly byte[] _bytes;
    private readonly int _hash;
    private string? _text;

    private PeerId(byte[] bytes)
    {
        _bytes = bytes;
        var h = new HashCode();
        h.AddBytes(bytes);
        _hash = h.ToHashCode();
    }

    /// <summary>The multihash bytes (what gossipsub's <c>from</c> and the <c>/p2p/</c> multiaddr carry).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    public byte[] ToByteArray() => (byte[])_bytes.Clone();

    public static PeerId FromPublicKey(PublicKey key)
    {
        var proto = key.ToProtobuf();
        if (proto.Length <= MaxInlineKeyBytes)
        {
            return new PeerId([IdentityCode, (byte)proto.Length, .. proto]);
        }
        return new PeerId([Sha256Code, 32, .. SHA256.HashData(proto)]);
    }

    /// <summary>Parses multihash bytes, checking the multihash structure.</summary>
    public static PeerId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 2 || bytes.Length > MaxBytes)
        {
            throw new MalformedDataException($"peer id of {bytes.Length} bytes");
        }
        var code = Varint.Read(bytes, out var used);
        var length = Varint.Read(bytes[used..], out var used2);
        if ((ulong)(bytes.Length - used - used2) != length)
        {
            throw new MalformedDataException("peer id multihash length does not match");
        }
        if (code == IdentityCode)
        {
            if (length > MaxInlineKeyBytes)
            {
                throw new MalformedDataException("identity multihash longer than 42 bytes");
            }
        }
        else if (code != Sha256Code || length != 32)
        {
            throw new MalformedDataException($"peer id multihash code 0x{code:x} is not identity or sha2-256");
        }
        return new PeerId(bytes.ToArray());
    }

    /// <summary>Parses base58btc (<c>12D3KooW…</c>, <c>16Uiu2H…</c>, <c>Qm…</c>) or the CIDv1 form (<c>bafz…</c>).</summary>
    public static PeerId Parse(string text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 2 * MaxBytes)
        {
            throw new MalformedDataException("peer id text is empty or too long");
        }
        // Both alphabets are ASCII letters and digits; SimpleBase indexes lookup tables by char
        // code and throws IndexOutOfRange on anything else (found by the decoder fuzz test).
        if (!text.All(char.IsAsciiLetterOrDigit))
        {
            throw new MalformedDataException("peer id text has characters outside base58 and base32");
        }
        if (text[0] == '1' || text.StartsWith("Qm", StringComparison.Ordinal))
        {
            byte[] bytes;
            try
            {
                bytes = Base58.Bitcoin.Decode(text);
            }
            catch (ArgumentException e)
            {
                throw new MalformedDataException($"peer id is not base58btc: {e.Message}");
            }
            return FromBytes(bytes);
        }
        if (text[0] == 'b')
        {
            byte[] cid;
            try
            {
                cid = Base32.Rfc4648.Decode(text[1..].ToUpperInvariant());
            }
            catch (ArgumentException e)
            {
                throw new MalformedDataException($"peer id CID is not base32: {e.Message}");
            }
            if (cid.Length < 3 || cid[0] != CidVersion1 || cid[1] != LibP2pKeyCodec)
            {
                throw new MalformedDataException("peer id CID is not CIDv1 with the libp2p-key codec");
            }
            return FromBytes(cid.AsSpan(2));
        }
        throw new MalformedDataException($"unrecognised peer id text '{text}'");
    }

    public static bool TryParse(string text, out PeerId? id)
    {
        try
        {
            id = Parse(text);
            return true;
        }
        catch (MalformedDataException)
        {
            id = null;
            return false;
        }
    }

    /// <summary>The public key when it is inlined in the id (Ed25519, secp256k1); null for hashed keys.</summary>
    public PublicKey? TryGetPublicKey()
    {
        if (_bytes[0] != IdentityCode)
        {
            return null;
        }
        try
        {
            return PublicKey.Decode(_bytes.AsSpan(2));
        }
        catch (MalformedDataException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="key"/> is the key this id names.</summary>
    public bool Matches(PublicKey key) => Equals(FromPublicKey(key));

    /// <summary>Multibase base32 CIDv1 (<c>bafz…</c>).</summary>
    public string ToCidString() =>
        "b" + Base32.Rfc4648.Encode([CidVersion1, LibP2pKeyCodec, .. _bytes], padding: false).ToLowerInvariant();

    public override string ToString() => _text ??= Base58.Bitcoin.Encode(_bytes);

    public bool Equals(PeerId? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);
    public override bool Equals(object? obj) => obj is PeerId p && Equals(p);
    public override int GetHashCode() => _hash;
    public static bool operator ==(PeerId? a, PeerId? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(PeerId? a, PeerId? b) => !(a == b);
}
