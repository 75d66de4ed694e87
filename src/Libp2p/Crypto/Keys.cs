using System.Security.Cryptography;
using Keel.Libp2p.Wire;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Keel.Libp2p.Crypto;

/// <summary>libp2p's KeyType enum (keys.proto); the numbers are on the wire.</summary>
public enum KeyType
{
    Rsa = 0,
    Ed25519 = 1,
    Secp256k1 = 2,
    Ecdsa = 3,
}

/// <summary>
/// A peer's public key as libp2p carries it: the <c>PublicKey</c> protobuf
/// <c>08 type 12 len data</c>, whose bytes are also what the peer id hashes.
/// </summary>
public abstract class PublicKey : IEquatable<PublicKey>
{
    /// <summary>Largest key protobuf accepted from a peer; RSA keys (unsupported) are the only bigger ones.</summary>
    public const int MaxProtobufBytes = 1024;

    protected PublicKey(byte[] raw) => Raw = raw;

    public abstract KeyType Type { get; }

    /// <summary>The key material inside the protobuf (32 B Ed25519, 33 B compressed secp256k1).</summary>
    public byte[] Raw { get; }

    /// <summary>Verifies a signature made by the matching private key; false on any malformed input.</summary>
    public abstract bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature);

    public byte[] ToProtobuf() => KeyProtobuf.Encode(Type, Raw);

    public PeerId ToPeerId() => PeerId.FromPublicKey(this);

    /// <summary>Decodes a <c>PublicKey</c> protobuf; only Ed25519 and secp256k1 are accepted.</summary>
    /// <exception cref="MalformedDataException">bad protobuf, unsupported type or invalid key.</exception>
    public static PublicKey Decode(ReadOnlySpan<byte> protobuf)
    {
        if (protobuf.Length > MaxProtobufBytes)
        {
            throw new MalformedDataException($"public key protobuf of {protobuf.Length} bytes");
        }
        var (type, data) = KeyProtobuf.Decode(protobuf);
        return type switch
        {
            KeyType.Ed25519 => new Ed25519PublicKey(data),
            KeyType.Secp256k1 => new Secp256k1PublicKey(data),
            _ => throw new MalformedDataException($"unsupported key type {type}"),
        };
    }

    public bool Equals(PublicKey? other) => other is not null && other.Type == Type && other.Raw.AsSpan().SequenceEqual(Raw);
    public override bool Equals(object? obj) => obj is PublicKey k && Equals(k);
    public override int GetHashCode() => HashCode.Combine(Type, Raw.Length, Raw.Length > 4 ? BitConverter.ToInt32(Raw, 1) : 0);
}

public sealed class Ed25519PublicKey : PublicKey
{
    public Ed25519PublicKey(byte[] raw) : base(raw)
    {
        if (raw.Length != Ed25519.PublicKeySize)
        {
            throw new MalformedDataException($"Ed25519 public key of {raw.Length} bytes");
        }
    }

    public override KeyType Type => KeyType.Ed25519;

    public override bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != Ed25519.SignatureSize)
        {
            return false;
        }
        return OpenSslEd25519.IsAvailable
            ? OpenSslEd25519.Verify(Raw, message, signature)
            : ManagedEd25519.Verify(Raw, message, signature);
    }
}

/// <summary>BouncyCastle's Ed25519, the fallback where OpenSSL is missing; tests compare the two.</summary>
internal static class ManagedEd25519
{
    public static byte[] Sign(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message)
    {
        var sig = new byte[Ed25519.SignatureSize];
        var msg = message.ToArray();
        Ed25519.Sign(seed.ToArray(), 0, publicKey.ToArray(), 0, msg, 0, msg.Length, sig, 0);
        return sig;
    }

    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        try
        {
            return signature.Length == Ed25519.SignatureSize
                && Ed25519.Verify(signature.ToArray(), 0, publicKey.ToArray(), 0, message.ToArray(), 0, message.Length);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

public sealed class Secp256k1PublicKey : PublicKey
{
    internal static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");
    internal static readonly ECDomainParameters Domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    private readonly ECPublicKeyParameters _parameters;

    public Secp256k1PublicKey(byte[] raw) : base(raw)
    {
        if (raw.Length != 33 || (raw[0] != 2 && raw[0] != 3))
        {
            throw new MalformedDataException("secp256k1 public key must be 33-byte compressed SEC1");
        }
        try
        {
            _parameters = new ECPublicKeyParameters(Curve.Curve.DecodePoint(raw), Domain);
        }
        catch (ArgumentException e)
        {
            throw new MalformedDataException($"secp256k1 public key is not on the curve: {e.Message}");
        }
    }

    public override KeyType Type => KeyType.Secp256k1;

    /// <summary>ECDSA over SHA-256(message), signature DER-encoded (what libp2p's secp256k1 keys sign).</summary>
    public override bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        BigInteger r, s;
        try
        {
            var seq = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(signature.ToArray()));
            if (seq.Count != 2)
            {
                return false;
            }
            r = DerInteger.GetInstance(seq[0]).PositiveValue;
            s = DerInteger.GetInstance(seq[1]).PositiveValue;
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidCastException)
        {
            return false;
        }
        var signer = new ECDsaSigner();
        signer.Init(false, _parameters);
        return signer.VerifySignature(SHA256.HashData(message), r, s);
    }
}

/// <summary>A node's own signing key: what it proves its peer id with.</summary>
public abstract class IdentityKey
{
    public abstract PublicKey PublicKey { get; }

    public PeerId PeerId => PublicKey.ToPeerId();

    public abstract byte[] Sign(ReadOnlySpan<byte> message);

    /// <summary>The <c>PrivateKey</c> protobuf (Ed25519: 64 B seed‖pub).</summary>
    public abstract byte[] ToProtobuf();

    /// <summary>Decodes a <c>PrivateKey</c> protobuf (Ed25519 or secp256k1).</summary>
    public static IdentityKey Decode(ReadOnlySpan<byte> protobuf)
    {
        var (type, data) = KeyProtobuf.Decode(protobuf);
        switch (type)
        {
            case KeyType.Ed25519:
                // 64 B seed‖pub, or the legacy 96 B seed‖pub‖pub.
                if (data.Length != 64 && data.Length != 96)
                {
                    throw new MalformedDataException($"Ed25519 private key of {data.Length} bytes");
                }
                var key = Ed25519IdentityKey.FromSeed(data.AsSpan(0, 32));
                if (!data.AsSpan(32, 32).SequenceEqual(key.PublicKey.Raw)
                    || (data.Length == 96 && !data.AsSpan(64, 32).SequenceEqual(key.PublicKey.Raw)))
                {
                    throw new MalformedDataException("Ed25519 private key: public half does not match the seed");
                }
                return key;
            case KeyType.Secp256k1:
                return Secp256k1IdentityKey.FromScalar(data);
            default:
                throw new MalformedDataException($"unsupported private key type {type}");
        }
    }
}

/// <summary>The default node identity: Ed25519 (RFC 8032, pure).</summary>
public sealed class Ed25519IdentityKey : IdentityKey
{
    public const int SeedBytes = 32;
    private readonly byte[] _seed;
    private readonly Ed25519PublicKey _public;

    private Ed25519IdentityKey(byte[] seed)
    {
        _seed = seed;
        var pub = new byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(seed, 0, pub, 0);
        _public = new Ed25519PublicKey(pub);
    }

    public static Ed25519IdentityKey Generate() => new(RandomNumberGenerator.GetBytes(SeedBytes));

    public static Ed25519IdentityKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedBytes)
        {
            throw new MalformedDataException($"Ed25519 seed of {seed.Length} bytes");
        }
        return new Ed25519IdentityKey(seed.ToArray());
    }

    public override PublicKey PublicKey => _public;

    /// <summary>The 32-byte seed; keep it secret.</summary>
    public byte[] Seed => (byte[])_seed.Clone();

    public override byte[] Sign(ReadOnlySpan<byte> message)
    {
        var sig = new byte[Ed25519.SignatureSize];
        if (OpenSslEd25519.IsAvailable && OpenSslEd25519.TrySign(_seed, message, sig))
        {
            return sig;
        }
        // BouncyCastle, given the public key so that it does not derive it again per signature.
        return ManagedEd25519.Sign(_seed, _public.Raw, message);
    }

    public override byte[] ToProtobuf() => KeyProtobuf.Encode(KeyType.Ed25519, [.. _seed, .. _public.Raw]);
}

/// <summary>secp256k1 identity (ECDSA over SHA-256, DER, RFC 6979 nonces); peers may use it, Keel nodes default to Ed25519.</summary>
public sealed class Secp256k1IdentityKey : IdentityKey
{
    private readonly ECPrivateKeyParameters _private;
    private readonly Secp256k1PublicKey _public;

    private Secp256k1IdentityKey(BigInteger d)
    {
        _private = new ECPrivateKeyParameters(d, Secp256k1PublicKey.Domain);
        var point = Secp256k1PublicKey.Domain.G.Multiply(d).Normalize();
        _public = new Secp256k1PublicKey(point.GetEncoded(true));
    }

    public static Secp256k1IdentityKey FromScalar(ReadOnlySpan<byte> scalar)
    {
        if (scalar.Length != 32)
        {
            throw new MalformedDataException($"secp256k1 private key of {scalar.Length} bytes");
        }
        var d = new BigInteger(1, scalar.ToArray());
        if (d.SignValue == 0 || d.CompareTo(Secp256k1PublicKey.Domain.N) >= 0)
        {
            throw new MalformedDataException("secp256k1 private key out of range");
        }
        return new Secp256k1IdentityKey(d);
    }

    public static Secp256k1IdentityKey Generate()
    {
        while (true)
        {
            try
            {
                return FromScalar(RandomNumberGenerator.GetBytes(32));
            }
            catch (MalformedDataException)
            {
                // Out of range scalars are vanishingly rare; draw again.
            }
        }
    }

    public override PublicKey PublicKey => _public;

    public override byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, _private);
        var rs = signer.GenerateSignature(SHA256.HashData(message));
        var s = rs[1];
        // Low-s form, which strict verifiers require.
        var halfN = Secp256k1PublicKey.Domain.N.ShiftRight(1);
        if (s.CompareTo(halfN) > 0)
        {
            s = Secp256k1PublicKey.Domain.N.Subtract(s);
        }
        return new DerSequence(new DerInteger(rs[0]), new DerInteger(s)).GetDerEncoded();
    }

    public override byte[] ToProtobuf() =>
        KeyProtobuf.Encode(KeyType.Secp256k1, Org.BouncyCastle.Utilities.BigIntegers.AsUnsignedByteArray(32, _private.D));
}

/// <summary>The deterministic <c>PublicKey</c>/<c>PrivateKey</c> protobuf: both fields, tag order, minimal varints.</summary>
internal static class KeyProtobuf
{
    public static byte[] Encode(KeyType type, ReadOnlySpan<byte> data)
    {
        var buffer = new byte[2 + 1 + Varint.Size((ulong)data.Length) + data.Length];
        buffer[0] = 0x08;
        buffer[1] = (byte)type;
        buffer[2] = 0x12;
        var n = 3 + Varint.Write(buffer.AsSpan(3), (ulong)data.Length);
        data.CopyTo(buffer.AsSpan(n));
        return buffer;
    }

    /// <summary>Strict: exactly fields 1 then 2, nothing else, so that one key has one encoding (peer ids hash it).</summary>
    public static (KeyType Type, byte[] Data) Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4 || bytes[0] != 0x08)
        {
            throw new MalformedDataException("key protobuf must start with the type field");
        }
        var type = Varint.Read(bytes[1..], out var used);
        var pos = 1 + used;
        if (type > 3)
        {
            throw new MalformedDataException($"unknown key type {type}");
        }
        if (pos >= bytes.Length || bytes[pos] != 0x12)
        {
            throw new MalformedDataException("key protobuf lacks the data field");
        }
        pos++;
        var length = Varint.Read(bytes[pos..], out used);
        pos += used;
        if ((ulong)(bytes.Length - pos) != length)
        {
            throw new MalformedDataException("key protobuf data length does not match");
        }
        return ((KeyType)type, bytes[pos..].ToArray());
    }
}
