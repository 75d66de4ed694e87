using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Crypto;
using Keel.Core.Native;

namespace Keel.Core.Tests.Crypto;

public class Secp256k1Tests
{
    internal const string AnvilKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    internal const string AnvilAddress0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

    private static readonly byte[] Key = Hex.Decode(AnvilKey0);

    [Fact]
    public void Anvil_dev_key_gives_the_known_address()
    {
        var publicKey = Secp256k1.GetPublicKey(Key);
        Assert.Equal(65, publicKey.Length);
        Assert.Equal(AnvilAddress0, Address.FromPublicKey(publicKey).ToString());
        Assert.Equal(AnvilAddress0, Address.FromPublicKey(publicKey.AsSpan(1)).ToString());
    }

    [Fact]
    public void Public_keys_match_ethers_in_both_forms()
    {
        Assert.Equal(
            "0x048318535b54105d4a7aae60c08fc45f9687181b4fdfc625bd1a753fa7397fed753547f11ca8696646f2f3acb08e31016afac23e630c5d11f59f61fef57b0d2aa5",
            Hex.Encode(Secp256k1.GetPublicKey(Key)));
        Assert.Equal(
            "0x038318535b54105d4a7aae60c08fc45f9687181b4fdfc625bd1a753fa7397fed75",
            Hex.Encode(Secp256k1.GetPublicKey(Key, compressed: true)));
    }

    [Fact]
    public void Signature_matches_ethers_deterministic_signature()
    {
        // ethers: new Wallet(key).signingKey.sign(keccak256("keel")) -> r, s, v = 28.
        var hash = Keccak256.Hash(Encoding.ASCII.GetBytes("keel"));
        Assert.Equal("0x1c941622fe628f75a4b012333a7e11314520dc95ab5be650d95339c064dc5222", Hex.Encode(hash));
        var signature = Secp256k1.SignRecoverable(hash, Key);
        Assert.Equal("0x214519ce19a9bdc47339e3ba6ceb3e0cb6b7aa1ac2ea2b5bac51e8fd1e42cc41", Hex.Encode(signature.AsSpan(0, 32)));
        Assert.Equal("0x5a4febcf3de7a12a09dc35bc1edc7b86f1d374f19ecf131c47f3a22269b51f15", Hex.Encode(signature.AsSpan(32, 32)));
        Assert.Equal(28 - 27, signature[64]);
    }

    [Fact]
    public void Sign_recover_verify_round_trip_for_random_keys_and_messages()
    {
        Prop.ForAll<int>(seed =>
        {
            var random = new Random(seed);
            var hash = new byte[32];
            random.NextBytes(hash);
            var key = Secp256k1.CreatePrivateKey();
            var publicKey = Secp256k1.GetPublicKey(key);
            var signature = Secp256k1.SignRecoverable(hash, key);
            var recovered = new byte[65];
            return signature[64] <= 1
                && Secp256k1.TryRecoverPublicKey(hash, signature, recovered)
                && recovered.AsSpan().SequenceEqual(publicKey)
                && Secp256k1.TryRecoverAddress(hash, signature, out var address)
                && address == Address.FromPublicKey(publicKey)
                && Secp256k1.Verify(hash, signature.AsSpan(0, 64), publicKey)
                && Secp256k1.Verify(hash, signature.AsSpan(0, 64), Secp256k1.GetPublicKey(key, compressed: true))
                && IsLowS(signature);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Verify_fails_for_another_message_key_or_a_flipped_bit()
    {
        var hash = Keccak256.Hash([1]);
        var signature = Secp256k1.SignRecoverable(hash, Key);
        var publicKey = Secp256k1.GetPublicKey(Key);
        Assert.True(Secp256k1.Verify(hash, signature.AsSpan(0, 64), publicKey));
        Assert.False(Secp256k1.Verify(Keccak256.Hash([2]), signature.AsSpan(0, 64), publicKey));
        Assert.False(Secp256k1.Verify(hash, signature.AsSpan(0, 64), Secp256k1.GetPublicKey(Secp256k1.CreatePrivateKey())));
        var flipped = (byte[])signature.Clone();
        flipped[10] ^= 1;
        Assert.False(Secp256k1.Verify(hash, flipped.AsSpan(0, 64), publicKey));
        Assert.False(Secp256k1.Verify(hash, signature.AsSpan(0, 64), new byte[65]));
        Assert.False(Secp256k1.Verify(hash, signature.AsSpan(0, 63), publicKey));
    }

    [Fact]
    public void High_s_signature_fails_verify_but_still_recovers()
    {
        var hash = Keccak256.Hash([3]);
        var signature = Secp256k1.SignRecoverable(hash, Key);
        var high = ToHighS(signature);
        Assert.False(Secp256k1.Verify(hash, high.AsSpan(0, 64), Secp256k1.GetPublicKey(Key)));
        Assert.True(Secp256k1.TryRecoverAddress(hash, high, out var address));
        Assert.Equal(AnvilAddress0, address.ToString());
    }

    [Fact]
    public void Bad_inputs_are_rejected_without_reaching_native_code()
    {
        var hash = Keccak256.Hash([4]);
        var signature = Secp256k1.SignRecoverable(hash, Key);
        var output = new byte[65];
        var badRecId = (byte[])signature.Clone();
        badRecId[64] = 27;
        Assert.False(Secp256k1.TryRecoverPublicKey(hash, badRecId, output));
        Assert.False(Secp256k1.TryRecoverPublicKey(hash.AsSpan(1), signature, output));
        Assert.False(Secp256k1.TryRecoverPublicKey(hash, signature.AsSpan(0, 64), output));
        Assert.False(Secp256k1.TryRecoverAddress(hash, new byte[65], out _));
        Assert.Throws<ArgumentException>(() => Secp256k1.SignRecoverable(hash, new byte[32]));
        Assert.Throws<ArgumentException>(() => Secp256k1.SignRecoverable(hash, new byte[31]));
        Assert.Throws<ArgumentException>(() => Secp256k1.GetPublicKey(Hex.Decode("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")));
    }

    [Fact]
    public void Private_key_validity()
    {
        Assert.True(Secp256k1.IsValidPrivateKey(Key));
        Assert.False(Secp256k1.IsValidPrivateKey(new byte[32]));
        Assert.False(Secp256k1.IsValidPrivateKey(Hex.Decode("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")));
        Assert.True(Secp256k1.IsValidPrivateKey(Hex.Decode("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")));
        Assert.False(Secp256k1.IsValidPrivateKey(Key.AsSpan(1)));
        Assert.NotEqual(Secp256k1.CreatePrivateKey(), Secp256k1.CreatePrivateKey());
    }

    [Fact]
    public void Compressed_and_uncompressed_keys_convert()
    {
        var uncompressed = Secp256k1.GetPublicKey(Key);
        Assert.True(Secp256k1.TryConvertPublicKey(Secp256k1.GetPublicKey(Key, compressed: true), compressed: false, out var back));
        Assert.Equal(uncompressed, back);
        Assert.False(Secp256k1.TryConvertPublicKey(new byte[33], compressed: false, out _));
    }

    [Fact]
    public void Concurrent_signing_and_recovery_agree()
    {
        var failures = 0;
        Parallel.For(0, 200, i =>
        {
            var hash = Keccak256.Hash(BitConverter.GetBytes(i));
            var signature = Secp256k1.SignRecoverable(hash, Key);
            if (!Secp256k1.TryRecoverAddress(hash, signature, out var address) || address.ToString() != AnvilAddress0)
            {
                Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void A_missing_library_names_the_Debian_package()
    {
        var error = Assert.Throws<NativeLibraryMissingException>(
            () => NativeLibraryLoader.Load("libkeel-does-not-exist.so.1", Secp256k1.DebianPackage));
        Assert.Contains("libsecp256k1-1", error.Message);
        Assert.Contains("libkeel-does-not-exist.so.1", error.Message);
    }

    private static readonly System.Numerics.BigInteger Order = System.Numerics.BigInteger.Parse(
        "115792089237316195423570985008687907852837564279074904382605163141518161494337");

    private static bool IsLowS(byte[] signature) =>
        new System.Numerics.BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true) <= Order / 2;

    private static byte[] ToHighS(byte[] signature)
    {
        var s = new System.Numerics.BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        var high = (Order - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        var result = (byte[])signature.Clone();
        Array.Clear(result, 32, 32);
        high.CopyTo(result, 64 - high.Length);
        result[64] ^= 1;
        return result;
    }
}
