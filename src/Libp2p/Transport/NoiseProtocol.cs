using System.Text;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace Keel.Libp2p.Transport;

/// <summary>
/// One direction of Noise transport encryption: ChaCha20-Poly1305 with a 64-bit little-endian
/// counter in the last 8 bytes of the 12-byte nonce.
/// </summary>
internal sealed class CipherState : IDisposable
{
    public const int KeyBytes = 32;
    public const int TagBytes = 16;
    private readonly IAead? _aead;
    private ulong _nonce;

    public CipherState(byte[]? key)
    {
        if (key is not null)
        {
            _aead = Aead.Create(key);
        }
    }

    public bool HasKey => _aead is not null;

    public ulong Nonce => _nonce;

    public int Encrypt(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        if (_aead is null)
        {
            plaintext.CopyTo(destination);
            return plaintext.Length;
        }
        if (_nonce == ulong.MaxValue)
        {
            throw new HandshakeException("noise nonce exhausted");
        }
        Span<byte> nonce = stackalloc byte[12];
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _nonce++);
        _aead.Encrypt(nonce, plaintext, destination[..plaintext.Length], destination.Slice(plaintext.Length, TagBytes), ad);
        return plaintext.Length + TagBytes;
    }

    /// <exception cref="HandshakeException">authentication failed.</exception>
    public int Decrypt(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        if (_aead is null)
        {
            ciphertext.CopyTo(destination);
            return ciphertext.Length;
        }
        if (ciphertext.Length < TagBytes)
        {
            throw new HandshakeException("noise ciphertext shorter than its tag");
        }
        if (_nonce == ulong.MaxValue)
        {
            throw new HandshakeException("noise nonce exhausted");
        }
        Span<byte> nonce = stackalloc byte[12];
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _nonce);
        var plainLength = ciphertext.Length - TagBytes;
        if (!_aead.TryDecrypt(nonce, ciphertext[..plainLength], ciphertext[plainLength..], destination[..plainLength], ad))
        {
            throw new HandshakeException("noise message failed authentication");
        }
        _nonce++;
        return plainLength;
    }

    public void Dispose() => _aead?.Dispose();
}

/// <summary>The AEAD behind a narrow interface: .NET's where the platform has it, BouncyCastle elsewhere.</summary>
internal interface IAead : IDisposable
{
    void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> ad);
    bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> ad);
}

internal static class Aead
{
    public static IAead Create(byte[] key) =>
        ChaCha20Poly1305.IsSupported ? new NetAead(key) : new BouncyAead(key);

    private sealed class NetAead(byte[] key) : IAead
    {
        private readonly ChaCha20Poly1305 _impl = new(key);

        public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> ad) =>
            _impl.Encrypt(nonce, plaintext, ciphertext, tag, ad);

        public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> ad)
        {
            try
            {
                _impl.Decrypt(nonce, ciphertext, tag, plaintext, ad);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }
        }

        public void Dispose() => _impl.Dispose();
    }

    internal sealed class BouncyAead(byte[] key) : IAead
    {
        private readonly Org.BouncyCastle.Crypto.Parameters.KeyParameter _key = new(key);

        public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> ad)
        {
            var output = Run(true, nonce, plaintext.ToArray(), ad);
            output.AsSpan(0, plaintext.Length).CopyTo(ciphertext);
            output.AsSpan(plaintext.Length, CipherState.TagBytes).CopyTo(tag);
        }

        public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> ad)
        {
            try
            {
                Run(false, nonce, [.. ciphertext, .. tag], ad).CopyTo(plaintext);
                return true;
            }
            catch (Org.BouncyCastle.Crypto.InvalidCipherTextException)
            {
                return false;
            }
        }

        private byte[] Run(bool encrypt, ReadOnlySpan<byte> nonce, byte[] input, ReadOnlySpan<byte> ad)
        {
            var cipher = new Org.BouncyCastle.Crypto.Modes.ChaCha20Poly1305();
            cipher.Init(encrypt, new Org.BouncyCastle.Crypto.Parameters.AeadParameters(_key, 128, nonce.ToArray(), ad.ToArray()));
            var output = new byte[cipher.GetOutputSize(input.Length)];
            var n = cipher.ProcessBytes(input, 0, input.Length, output, 0);
            cipher.DoFinal(output, n);
            return output;
        }

        public void Dispose() { }
    }
}

/// <summary>Noise's SymmetricState with SHA-256 and HKDF as the spec defines them.</summary>
internal sealed class SymmetricState : IDisposable
{
    private byte[] _ck;
    private byte[] _h;
    private CipherState _cipher = new(null);

    public SymmetricState(string protocolName)
    {
        var name = Encoding.ASCII.GetBytes(protocolName);
        _h = name.Length <= 32 ? [.. name, .. new byte[32 - name.Length]] : SHA256.HashData(name);
        _ck = (byte[])_h.Clone();
    }

    public byte[] HandshakeHash => (byte[])_h.Clone();

    public void MixHash(ReadOnlySpan<byte> data)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(_h);
        sha.AppendData(data);
        _h = sha.GetHashAndReset();
    }

    public void MixKey(ReadOnlySpan<byte> ikm)
    {
        var (ck, k) = Hkdf(_ck, ikm);
        _ck = ck;
        _cipher.Dispose();
        _cipher = new CipherState(k);
    }

    public byte[] EncryptAndHash(ReadOnlySpan<byte> plaintext)
    {
        var output = new byte[plaintext.Length + (_cipher.HasKey ? CipherState.TagBytes : 0)];
        _cipher.Encrypt(_h, plaintext, output);
        MixHash(output);
        return output;
    }

    public byte[] DecryptAndHash(ReadOnlySpan<byte> ciphertext)
    {
        var output = new byte[_cipher.HasKey ? ciphertext.Length - CipherState.TagBytes : ciphertext.Length];
        if (output.Length < 0)
        {
            throw new HandshakeException("noise handshake field shorter than its tag");
        }
        _cipher.Decrypt(_h, ciphertext, output);
        MixHash(ciphertext);
        return output;
    }

    public (CipherState First, CipherState Second) Split()
    {
        var (k1, k2) = Hkdf(_ck, []);
        return (new CipherState(k1), new CipherState(k2));
    }

    internal static (byte[], byte[]) Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> ikm)
    {
        var temp = HMACSHA256.HashData(chainingKey, ikm);
        var o1 = HMACSHA256.HashData(temp, (ReadOnlySpan<byte>)[0x01]);
        var o2 = HMACSHA256.HashData(temp, (byte[])[.. o1, 0x02]);
        return (o1, o2);
    }

    public void Dispose() => _cipher.Dispose();
}

/// <summary>
/// The Noise XX handshake with X25519 (<c>Noise_XX_25519_ChaChaPoly_SHA256</c>):
/// <c>-> e; &lt;- e, ee, s, es; -> s, se</c>. Ephemeral keys can be injected for known-answer tests.
/// </summary>
internal sealed class XxHandshake : IDisposable
{
    public const string ProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";
    public const int DhBytes = 32;

    private readonly bool _initiator;
    private readonly SymmetricState _state = new(ProtocolName);
    private readonly byte[] _staticPrivate;
    private readonly byte[] _staticPublic;
    private readonly byte[] _ephemeralPrivate;
    private readonly byte[] _ephemeralPublic;
    private byte[]? _remoteEphemeral;
    private int _step;

    public XxHandshake(bool initiator, ReadOnlySpan<byte> prologue, byte[] staticPrivate, byte[]? ephemeralPrivate = null)
    {
        _initiator = initiator;
        _staticPrivate = staticPrivate;
        _staticPublic = PublicFor(staticPrivate);
        _ephemeralPrivate = ephemeralPrivate ?? RandomNumberGenerator.GetBytes(DhBytes);
        _ephemeralPublic = PublicFor(_ephemeralPrivate);
        _state.MixHash(prologue);
    }

    public byte[] LocalStaticPublic => _staticPublic;
    public byte[]? RemoteStaticPublic { get; private set; }
    public bool IsComplete => _step == 3;
    public byte[] HandshakeHash => _state.HandshakeHash;

    public static byte[] PublicFor(byte[] privateKey)
    {
        var pub = new byte[DhBytes];
        X25519.ScalarMultBase(privateKey, 0, pub, 0);
        return pub;
    }

    private static byte[] Dh(byte[] privateKey, byte[] publicKey)
    {
        var shared = new byte[DhBytes];
        X25519.ScalarMult(privateKey, 0, publicKey, 0, shared, 0);
        // A low-order point yields all zeros: the peer chose a key that gives no secrecy.
        if (shared.AsSpan().IndexOfAnyExcept((byte)0) < 0)
        {
            throw new HandshakeException("noise DH produced the all-zero secret (low-order point)");
        }
        return shared;
    }

    private bool IsMyTurn => (_step % 2 == 0) == _initiator;

    public byte[] WriteMessage(ReadOnlySpan<byte> payload)
    {
        if (!IsMyTurn || IsComplete)
        {
            throw new InvalidOperationException("not this side's turn to write");
        }
        using var ms = new MemoryStream();
        switch (_step)
        {
            case 0:
                ms.Write(_ephemeralPublic);
                _state.MixHash(_ephemeralPublic);
                break;
            case 1:
                ms.Write(_ephemeralPublic);
                _state.MixHash(_ephemeralPublic);
                _state.MixKey(Dh(_ephemeralPrivate, _remoteEphemeral!));
                ms.Write(_state.EncryptAndHash(_staticPublic));
                _state.MixKey(Dh(_staticPrivate, _remoteEphemeral!));
                break;
            case 2:
                ms.Write(_state.EncryptAndHash(_staticPublic));
                _state.MixKey(Dh(_staticPrivate, _remoteEphemeral!));
                break;
        }
        ms.Write(_state.EncryptAndHash(payload));
        _step++;
        return ms.ToArray();
    }

    /// <exception cref="HandshakeException">the message is short or fails authentication.</exception>
    public byte[] ReadMessage(ReadOnlySpan<byte> message)
    {
        if (IsMyTurn || IsComplete)
        {
            throw new InvalidOperationException("not this side's turn to read");
        }
        var pos = 0;
        ReadOnlySpan<byte> Take(ReadOnlySpan<byte> m, int n, ref int p)
        {
            if (m.Length - p < n)
            {
                throw new HandshakeException($"noise handshake message {_step + 1} is too short");
            }
            var s = m.Slice(p, n);
            p += n;
            return s;
        }
        switch (_step)
        {
            case 0:
                _remoteEphemeral = Take(message, DhBytes, ref pos).ToArray();
                _state.MixHash(_remoteEphemeral);
                break;
            case 1:
                _remoteEphemeral = Take(message, DhBytes, ref pos).ToArray();
                _state.MixHash(_remoteEphemeral);
                _state.MixKey(Dh(_ephemeralPrivate, _remoteEphemeral));
                RemoteStaticPublic = _state.DecryptAndHash(Take(message, DhBytes + CipherState.TagBytes, ref pos));
                _state.MixKey(Dh(_ephemeralPrivate, RemoteStaticPublic));
                break;
            case 2:
                RemoteStaticPublic = _state.DecryptAndHash(Take(message, DhBytes + CipherState.TagBytes, ref pos));
                _state.MixKey(Dh(_ephemeralPrivate, RemoteStaticPublic));
                break;
        }
        var payload = _state.DecryptAndHash(message[pos..]);
        _step++;
        return payload;
    }

    /// <summary>The transport ciphers as (send, receive) for this side.</summary>
    public (CipherState Send, CipherState Receive) Split()
    {
        if (!IsComplete)
        {
            throw new InvalidOperationException("handshake not complete");
        }
        var (c1, c2) = _state.Split();
        return _initiator ? (c1, c2) : (c2, c1);
    }

    public void Dispose() => _state.Dispose();
}
