using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Keel.Core.Native;

namespace Keel.Core.Crypto;

/// <summary>
/// secp256k1 ECDSA through Debian's libsecp256k1 (package libsecp256k1-1, built with the recovery
/// module). One context, created and randomized on first use, serves every thread: after
/// randomization libsecp256k1 only reads it. Signatures are low-s (libsecp256k1 always signs so),
/// and deterministic (RFC 6979 nonces).
/// </summary>
/// <remarks>
/// libsecp256k1 aborts the process on an "illegal argument" (a recovery id outside 0..3, a null
/// pointer), so every length and range is checked here before a call crosses into native code.
/// </remarks>
public static unsafe partial class Secp256k1
{
    public const string LibraryFileName = "libsecp256k1.so.1";
    public const string DebianPackage = "libsecp256k1-1";

    public const int PrivateKeySize = 32;
    public const int MessageHashSize = 32;
    public const int SignatureSize = 64;
    public const int RecoverableSignatureSize = 65;
    public const int UncompressedPublicKeySize = 65;
    public const int CompressedPublicKeySize = 33;

    private const string ImportName = "keel-secp256k1";

    // Sizes of libsecp256k1's opaque structs (secp256k1_pubkey, secp256k1_ecdsa_signature,
    // secp256k1_ecdsa_recoverable_signature).
    private const int PubKeyStructSize = 64;
    private const int SignatureStructSize = 64;
    private const int RecoverableStructSize = 65;

    private const uint ContextSign = (1 << 0) | (1 << 9);
    private const uint ContextVerify = (1 << 0) | (1 << 8);
    private const uint SerializeCompressed = (1 << 1) | (1 << 8);
    private const uint SerializeUncompressed = 1 << 1;

    private static readonly Lock InitLock = new();
    private static IntPtr _context;

    /// <summary>The shared context; the first call loads the library and creates it.</summary>
    /// <exception cref="NativeLibraryMissingException">libsecp256k1.so.1 is not installed</exception>
    private static IntPtr Context
    {
        get
        {
            var context = Volatile.Read(ref _context);
            return context != IntPtr.Zero ? context : CreateContext();
        }
    }

    private static IntPtr CreateContext()
    {
        lock (InitLock)
        {
            if (_context != IntPtr.Zero)
            {
                return _context;
            }
            NativeLibraryLoader.Register(ImportName, LibraryFileName, DebianPackage);
            var context = secp256k1_context_create(ContextSign | ContextVerify);
            if (context == IntPtr.Zero)
            {
                throw new CryptographicException("secp256k1_context_create failed");
            }
            // Randomization blinds the signing computation against side channels.
            Span<byte> seed = stackalloc byte[32];
            RandomNumberGenerator.Fill(seed);
            fixed (byte* s = seed)
            {
                if (secp256k1_context_randomize(context, s) != 1)
                {
                    throw new CryptographicException("secp256k1_context_randomize failed");
                }
            }
            CryptographicOperations.ZeroMemory(seed);
            Volatile.Write(ref _context, context);
            return context;
        }
    }

    /// <summary>Loads the library and creates the context now (start-up checks), instead of on first use.</summary>
    /// <exception cref="NativeLibraryMissingException">libsecp256k1.so.1 is not installed</exception>
    public static void EnsureAvailable() => _ = Context;

    public static byte[] CreatePrivateKey()
    {
        var key = new byte[PrivateKeySize];
        // A random 32-byte string is a valid key except with probability about 2^-128.
        do
        {
            RandomNumberGenerator.Fill(key);
        }
        while (!IsValidPrivateKey(key));
        return key;
    }

    /// <summary>True for 32 bytes that encode a scalar in [1, n-1].</summary>
    public static bool IsValidPrivateKey(ReadOnlySpan<byte> key32)
    {
        if (key32.Length != PrivateKeySize)
        {
            return false;
        }
        var context = Context;
        fixed (byte* k = key32)
        {
            return secp256k1_ec_seckey_verify(context, k) == 1;
        }
    }

    /// <summary>The public key: 65 bytes 0x04‖X‖Y, or 33 bytes 0x02/0x03‖X when compressed.</summary>
    /// <exception cref="ArgumentException">not a valid private key</exception>
    public static byte[] GetPublicKey(ReadOnlySpan<byte> privateKey32, bool compressed = false)
    {
        RequireLength(privateKey32, PrivateKeySize, nameof(privateKey32));
        var context = Context;
        Span<byte> pub = stackalloc byte[PubKeyStructSize];
        fixed (byte* k = privateKey32)
        fixed (byte* p = pub)
        {
            if (secp256k1_ec_pubkey_create(context, p, k) != 1)
            {
                throw new ArgumentException("not a valid secp256k1 private key (zero or not below the group order)", nameof(privateKey32));
            }
        }
        return Serialize(context, pub, compressed);
    }

    /// <summary>
    /// Signs a 32-byte message hash: 65 bytes r‖s‖recId with recId 0 or 1 and s in the lower
    /// half, which is what ecrecover takes with v = recId + 27.
    /// </summary>
    /// <exception cref="ArgumentException">a wrong length or an invalid private key</exception>
    public static byte[] SignRecoverable(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32)
    {
        var signature = new byte[RecoverableSignatureSize];
        SignRecoverable(hash32, privateKey32, signature);
        return signature;
    }

    /// <summary>Span form of <see cref="SignRecoverable(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>: writes 65 bytes.</summary>
    public static void SignRecoverable(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32, Span<byte> signature65)
    {
        RequireLength(hash32, MessageHashSize, nameof(hash32));
        RequireLength(privateKey32, PrivateKeySize, nameof(privateKey32));
        if (signature65.Length < RecoverableSignatureSize)
        {
            throw new ArgumentException($"signature output needs {RecoverableSignatureSize} bytes", nameof(signature65));
        }
        var context = Context;
        Span<byte> sig = stackalloc byte[RecoverableStructSize];
        int recId;
        fixed (byte* h = hash32)
        fixed (byte* k = privateKey32)
        fixed (byte* s = sig)
        fixed (byte* output = signature65)
        {
            if (secp256k1_ecdsa_sign_recoverable(context, s, h, k, IntPtr.Zero, IntPtr.Zero) != 1)
            {
                throw new ArgumentException("not a valid secp256k1 private key", nameof(privateKey32));
            }
            secp256k1_ecdsa_recoverable_signature_serialize_compact(context, output, &recId, s);
        }
        signature65[64] = (byte)recId;
    }

    /// <summary>
    /// Recovers the signer's uncompressed public key (65 bytes) from r‖s‖recId. High-s signatures
    /// are accepted, as ecrecover accepts them; transaction rules that forbid them check s first.
    /// </summary>
    public static bool TryRecoverPublicKey(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> signature65, Span<byte> publicKey65)
    {
        if (hash32.Length != MessageHashSize || signature65.Length != RecoverableSignatureSize
            || publicKey65.Length < UncompressedPublicKeySize || signature65[64] > 3)
        {
            return false;
        }
        var context = Context;
        Span<byte> sig = stackalloc byte[RecoverableStructSize];
        Span<byte> pub = stackalloc byte[PubKeyStructSize];
        fixed (byte* h = hash32)
        fixed (byte* input = signature65)
        fixed (byte* s = sig)
        fixed (byte* p = pub)
        fixed (byte* output = publicKey65)
        {
            if (secp256k1_ecdsa_recoverable_signature_parse_compact(context, s, input, signature65[64]) != 1
                || secp256k1_ecdsa_recover(context, p, s, h) != 1)
            {
                return false;
            }
            nuint length = UncompressedPublicKeySize;
            return secp256k1_ec_pubkey_serialize(context, output, &length, p, SerializeUncompressed) == 1;
        }
    }

    public static bool TryRecoverAddress(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> signature65, out Address address)
    {
        Span<byte> publicKey = stackalloc byte[UncompressedPublicKeySize];
        if (!TryRecoverPublicKey(hash32, signature65, publicKey))
        {
            address = default;
            return false;
        }
        address = Address.FromPublicKey(publicKey);
        return true;
    }

    /// <summary>
    /// Verifies r‖s (a 65th recovery byte, if present, is ignored) against a 33- or 65-byte
    /// public key. High-s signatures fail, as libsecp256k1 requires, so that each message has
    /// one valid signature per key (no malleability).
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> signature64, ReadOnlySpan<byte> publicKey33or65)
    {
        if (hash32.Length != MessageHashSize
            || (signature64.Length != SignatureSize && signature64.Length != RecoverableSignatureSize)
            || (publicKey33or65.Length != CompressedPublicKeySize && publicKey33or65.Length != UncompressedPublicKeySize))
        {
            return false;
        }
        var context = Context;
        Span<byte> sig = stackalloc byte[SignatureStructSize];
        Span<byte> pub = stackalloc byte[PubKeyStructSize];
        fixed (byte* h = hash32)
        fixed (byte* input = signature64)
        fixed (byte* key = publicKey33or65)
        fixed (byte* s = sig)
        fixed (byte* p = pub)
        {
            return secp256k1_ecdsa_signature_parse_compact(context, s, input) == 1
                && secp256k1_ec_pubkey_parse(context, p, key, (nuint)publicKey33or65.Length) == 1
                && secp256k1_ecdsa_verify(context, s, h, p) == 1;
        }
    }

    /// <summary>Re-encodes a 33- or 65-byte public key in the other (or the same) form; false if it is not on the curve.</summary>
    public static bool TryConvertPublicKey(ReadOnlySpan<byte> publicKey, bool compressed, out byte[] converted)
    {
        converted = [];
        if (publicKey.Length != CompressedPublicKeySize && publicKey.Length != UncompressedPublicKeySize)
        {
            return false;
        }
        var context = Context;
        Span<byte> pub = stackalloc byte[PubKeyStructSize];
        fixed (byte* key = publicKey)
        fixed (byte* p = pub)
        {
            if (secp256k1_ec_pubkey_parse(context, p, key, (nuint)publicKey.Length) != 1)
            {
                return false;
            }
        }
        converted = Serialize(context, pub, compressed);
        return true;
    }

    private static byte[] Serialize(IntPtr context, ReadOnlySpan<byte> pubStruct, bool compressed)
    {
        var output = new byte[compressed ? CompressedPublicKeySize : UncompressedPublicKeySize];
        nuint length = (nuint)output.Length;
        fixed (byte* p = pubStruct)
        fixed (byte* o = output)
        {
            secp256k1_ec_pubkey_serialize(context, o, &length, p, compressed ? SerializeCompressed : SerializeUncompressed);
        }
        return output;
    }

    private static void RequireLength(ReadOnlySpan<byte> value, int length, string name)
    {
        if (value.Length != length)
        {
            throw new ArgumentException($"{name} must be {length} bytes, got {value.Length}", name);
        }
    }

    [LibraryImport(ImportName)]
    private static partial IntPtr secp256k1_context_create(uint flags);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_context_randomize(IntPtr context, byte* seed32);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ec_seckey_verify(IntPtr context, byte* seckey);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ec_pubkey_create(IntPtr context, byte* pubkey, byte* seckey);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ec_pubkey_serialize(IntPtr context, byte* output, nuint* outputLength, byte* pubkey, uint flags);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ec_pubkey_parse(IntPtr context, byte* pubkey, byte* input, nuint inputLength);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ecdsa_sign_recoverable(IntPtr context, byte* signature, byte* hash32, byte* seckey, IntPtr nonceFunction, IntPtr nonceData);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ecdsa_recoverable_signature_serialize_compact(IntPtr context, byte* output64, int* recId, byte* signature);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ecdsa_recoverable_signature_parse_compact(IntPtr context, byte* signature, byte* input64, int recId);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ecdsa_recover(IntPtr context, byte* pubkey, byte* signature, byte* hash32);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ecdsa_signature_parse_compact(IntPtr context, byte* signature, byte* input64);

    [LibraryImport(ImportName)]
    private static partial int secp256k1_ecdsa_verify(IntPtr context, byte* signature, byte* hash32, byte* pubkey);
}
