using System.Runtime.InteropServices;

namespace Keel.Libp2p.Crypto;

/// <summary>
/// Ed25519 through OpenSSL's libcrypto (EVP, raw keys), which .NET itself loads on Linux for its
/// cryptography. It is several times faster than BouncyCastle's managed code, and gossip
/// throughput is bound by signing and verifying. Where libcrypto cannot be loaded,
/// <see cref="IsAvailable"/> is false and callers use BouncyCastle.
/// </summary>
internal static partial class OpenSslEd25519
{
    private const string Library = "libcrypto.so.3";
    private const int EvpPkeyEd25519 = 1087; // NID_ED25519

    public static readonly bool IsAvailable = Probe();

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            // A known answer (RFC 8032 test 1 key, empty message) proves the binding before use.
            var seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
            var expected = Convert.FromHexString("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
            var sig = new byte[64];
            return TrySign(seed, [], sig) && sig.AsSpan().SequenceEqual(expected);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    public static bool TrySign(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> message, Span<byte> signature)
    {
        var key = EVP_PKEY_new_raw_private_key(EvpPkeyEd25519, IntPtr.Zero, seed, (nuint)seed.Length);
        if (key == IntPtr.Zero)
        {
            return false;
        }
        var ctx = EVP_MD_CTX_new();
        try
        {
            if (ctx == IntPtr.Zero || EVP_DigestSignInit(ctx, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, key) != 1)
            {
                return false;
            }
            var length = (nuint)signature.Length;
            return EVP_DigestSign(ctx, signature, ref length, message, (nuint)message.Length) == 1 && length == 64;
        }
        finally
        {
            EVP_MD_CTX_free(ctx);
            EVP_PKEY_free(key);
        }
    }

    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        var key = EVP_PKEY_new_raw_public_key(EvpPkeyEd25519, IntPtr.Zero, publicKey, (nuint)publicKey.Length);
        if (key == IntPtr.Zero)
        {
            return false;
        }
        var ctx = EVP_MD_CTX_new();
        try
        {
            return ctx != IntPtr.Zero
                && EVP_DigestVerifyInit(ctx, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, key) == 1
                && EVP_DigestVerify(ctx, signature, (nuint)signature.Length, message, (nuint)message.Length) == 1;
        }
        finally
        {
            EVP_MD_CTX_free(ctx);
            EVP_PKEY_free(key);
            // A failed verification leaves an entry on OpenSSL's per-thread error queue.
            ERR_clear_error();
        }
    }

    [LibraryImport(Library)]
    private static partial IntPtr EVP_PKEY_new_raw_private_key(int type, IntPtr engine, ReadOnlySpan<byte> key, nuint length);

    [LibraryImport(Library)]
    private static partial IntPtr EVP_PKEY_new_raw_public_key(int type, IntPtr engine, ReadOnlySpan<byte> key, nuint length);

    [LibraryImport(Library)]
    private static partial void EVP_PKEY_free(IntPtr key);

    [LibraryImport(Library)]
    private static partial IntPtr EVP_MD_CTX_new();

    [LibraryImport(Library)]
    private static partial void EVP_MD_CTX_free(IntPtr ctx);

    [LibraryImport(Library)]
    private static partial int EVP_DigestSignInit(IntPtr ctx, IntPtr pctx, IntPtr type, IntPtr engine, IntPtr key);

    [LibraryImport(Library)]
    private static partial int EVP_DigestSign(IntPtr ctx, Span<byte> signature, ref nuint signatureLength, ReadOnlySpan<byte> message, nuint messageLength);

    [LibraryImport(Library)]
    private static partial int EVP_DigestVerifyInit(IntPtr ctx, IntPtr pctx, IntPtr type, IntPtr engine, IntPtr key);

    [LibraryImport(Library)]
    private static partial int EVP_DigestVerify(IntPtr ctx, ReadOnlySpan<byte> signature, nuint signatureLength, ReadOnlySpan<byte> message, nuint messageLength);

    [LibraryImport(Library)]
    private static partial void ERR_clear_error();
}
