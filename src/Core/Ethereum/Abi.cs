using System.Text;
using Keel.Core.Crypto;

namespace Keel.Core.Ethereum;

/// <summary>Solidity ABI data that is malformed or not what the reader expected.</summary>
public sealed class AbiException(string problem, int offset) : Exception($"ABI: {problem} at offset {offset}")
{
    public string Problem { get; } = problem;
    public int Offset { get; } = offset;
}

/// <summary>Helpers for the Solidity contract ABI.</summary>
public static class Abi
{
    public const int WordBytes = 32;

    /// <summary>The 4-byte function selector: the first bytes of keccak256 of the canonical signature, e.g. "transfer(address,uint256)".</summary>
    public static byte[] Selector(string signature)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signature);
        return Keccak256.Hash(Encoding.ASCII.GetBytes(signature))[..4];
    }

    /// <summary>keccak256 of an event signature: the first topic of its logs.</summary>
    public static Hash32 EventTopic(string signature)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signature);
        return Keccak256.HashToHash32(Encoding.ASCII.GetBytes(signature));
    }
}

/// <summary>
/// Encodes one tuple of arguments (abi.encode / calldata after the selector): static values go in
/// the head, dynamic ones (bytes, string, arrays) in the tail behind an offset word. Covers the
/// types Keel's contracts use: uint*, bool, address, bytes32, bytes, string, and arrays of
/// uint256 / bytes32 / address.
/// </summary>
public sealed class AbiEncoder
{
    private readonly List<(byte[] Head, byte[]? Tail)> _parameters = [];

    public AbiEncoder UInt256(UInt256 value) => Static(value.ToBigEndian());

    public AbiEncoder UInt64(ulong value) => UInt256(value);

    public AbiEncoder Bool(bool value) => UInt256(value ? 1UL : 0UL);

    public AbiEncoder Address(Address address) => Static(Word(address.Bytes));

    public AbiEncoder Bytes32(ReadOnlySpan<byte> value32)
    {
        if (value32.Length != Abi.WordBytes)
        {
            throw new ArgumentException($"bytes32 needs 32 bytes, got {value32.Length}", nameof(value32));
        }
        return Static(value32.ToArray());
    }

    public AbiEncoder Bytes32(Hash32 value) => Bytes32(value.Bytes);

    /// <summary>A raw 32-byte word (any static type the typed methods do not cover, e.g. a negative int256).</summary>
    public AbiEncoder RawWord(ReadOnlySpan<byte> word32) => Bytes32(word32);

    public AbiEncoder Bytes(ReadOnlySpan<byte> value) => Dynamic(LengthPrefixed(value));

    public AbiEncoder String(string value) => Bytes(Encoding.UTF8.GetBytes(value));

    public AbiEncoder UInt256Array(IReadOnlyList<UInt256> values) => Dynamic(Array(values.Count, i => values[i].ToBigEndian()));

    public AbiEncoder Bytes32Array(IReadOnlyList<Hash32> values) => Dynamic(Array(values.Count, i => values[i].ToArray()));

    public AbiEncoder AddressArray(IReadOnlyList<Address> values) => Dynamic(Array(values.Count, i => Word(values[i].Bytes)));

    /// <summary>The encoded tuple.</summary>
    public byte[] ToArray() => Encode([]);

    /// <summary>Calldata: the selector of <paramref name="functionSignature"/> followed by the encoded tuple.</summary>
    public byte[] ToCalldata(string functionSignature) => Encode(Abi.Selector(functionSignature));

    private byte[] Encode(ReadOnlySpan<byte> prefix)
    {
        var headBytes = _parameters.Count * Abi.WordBytes;
        var total = prefix.Length + headBytes + _parameters.Sum(p => p.Tail?.Length ?? 0);
        var output = new byte[total];
        prefix.CopyTo(output);
        var head = prefix.Length;
        var tail = prefix.Length + headBytes;
        foreach (var (headWord, tailBytes) in _parameters)
        {
            if (tailBytes is null)
            {
                headWord.CopyTo(output, head);
            }
            else
            {
                ((UInt256)(ulong)(tail - prefix.Length)).WriteBigEndian(output.AsSpan(head, Abi.WordBytes));
                tailBytes.CopyTo(output, tail);
                tail += tailBytes.Length;
            }
            head += Abi.WordBytes;
        }
        return output;
    }

    private AbiEncoder Static(byte[] word)
    {
        _parameters.Add((word, null));
        return this;
    }

    private AbiEncoder Dynamic(byte[] tail)
    {
        _parameters.Add(([], tail));
        return this;
    }

    private static byte[] Word(ReadOnlySpan<byte> rightAligned)
    {
        var word = new byte[Abi.WordBytes];
        rightAligned.CopyTo(word.AsSpan(Abi.WordBytes - rightAligned.Length));
        return word;
    }

    private static byte[] LengthPrefixed(ReadOnlySpan<byte> value)
    {
        var padded = (value.Length + Abi.WordBytes - 1) / Abi.WordBytes * Abi.WordBytes;
        var output = new byte[Abi.WordBytes + padded];
        ((UInt256)(ulong)value.Length).WriteBigEndian(output);
        value.CopyTo(output.AsSpan(Abi.WordBytes));
        return output;
    }

    private static byte[] Array(int count, Func<int, byte[]> element)
    {
        var output = new byte[Abi.WordBytes * (1 + count)];
        ((UInt256)(ulong)count).WriteBigEndian(output);
        for (var i = 0; i < count; i++)
        {
            element(i).CopyTo(output, Abi.WordBytes * (1 + i));
        }
        return output;
    }
}

/// <summary>
/// Reads one ABI-encoded tuple (return data, event data, calldata after the selector) in
/// parameter order. Strict: addresses and bools must be zero-extended, offsets and lengths must
/// stay inside the data, and padding must be zero; anything else is an <see cref="AbiException"/>.
/// </summary>
public ref struct AbiDecoder
{
    /// <summary>Most elements an array may claim; bounds allocation before the length is checked against the data.</summary>
    public const int MaxArrayElements = 1 << 20;

    private readonly ReadOnlySpan<byte> _data;
    private int _head;

    public AbiDecoder(ReadOnlySpan<byte> data)
    {
        _data = data;
        _head = 0;
    }

    public UInt256 ReadUInt256() => UInt256.FromBigEndian(NextWord());

    public ulong ReadUInt64()
    {
        var offset = _head;
        var value = ReadUInt256();
        return value.FitsInUInt64 ? (ulong)value : throw new AbiException($"value {value} does not fit in 64 bits", offset);
    }

    public bool ReadBool()
    {
        var offset = _head;
        var value = ReadUInt256();
        return value == UInt256.One || (value.IsZero ? false : throw new AbiException($"bool must be 0 or 1, got {value}", offset));
    }

    public Address ReadAddress()
    {
        var offset = _head;
        return ToAddress(NextWord(), offset);
    }

    public Hash32 ReadBytes32() => Hash32.FromBytes(NextWord());

    public byte[] ReadBytes()
    {
        var start = TailStart();
        var length = Length(start, 1);
        var padded = (length + Abi.WordBytes - 1) / Abi.WordBytes * Abi.WordBytes;
        var data = Slice(start + Abi.WordBytes, padded, "bytes with padding");
        if (data[length..].IndexOfAnyExcept((byte)0) >= 0)
        {
            throw new AbiException("non-zero padding after bytes", start + Abi.WordBytes + length);
        }
        return data[..length].ToArray();
    }

    public string ReadString()
    {
        var offset = _head;
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(ReadBytes());
        }
        catch (DecoderFallbackException)
        {
            throw new AbiException("string is not valid UTF-8", offset);
        }
    }

    public UInt256[] ReadUInt256Array() => ReadArray(static (word, _) => UInt256.FromBigEndian(word));

    public Hash32[] ReadBytes32Array() => ReadArray(static (word, _) => Hash32.FromBytes(word));

    public Address[] ReadAddressArray() => ReadArray(ToAddress);

    private delegate T ElementReader<out T>(ReadOnlySpan<byte> word, int offset);

    private T[] ReadArray<T>(ElementReader<T> element)
    {
        var start = TailStart();
        var count = Length(start, Abi.WordBytes);
        var elements = Slice(start + Abi.WordBytes, count * Abi.WordBytes, "array");
        var result = new T[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = element(elements.Slice(i * Abi.WordBytes, Abi.WordBytes), start + Abi.WordBytes * (1 + i));
        }
        return result;
    }

    private static Address ToAddress(ReadOnlySpan<byte> word, int offset) =>
        word[..12].IndexOfAnyExcept((byte)0) < 0
            ? Keel.Core.Address.FromBytes(word[12..])
            : throw new AbiException("address has non-zero high bytes", offset);

    private ReadOnlySpan<byte> NextWord()
    {
        var word = Slice(_head, Abi.WordBytes, "head");
        _head += Abi.WordBytes;
        return word;
    }

    private int TailStart()
    {
        var offset = _head;
        var pointer = ReadUInt256();
        if (!pointer.FitsInUInt64 || (ulong)pointer > (ulong)_data.Length || (ulong)pointer % Abi.WordBytes != 0)
        {
            throw new AbiException($"offset {pointer} is outside the data or not word-aligned", offset);
        }
        return (int)(ulong)pointer;
    }

    private readonly int Length(int at, int elementBytes)
    {
        var length = UInt256.FromBigEndian(Slice(at, Abi.WordBytes, "length"));
        var limit = elementBytes == 1 ? (ulong)_data.Length : MaxArrayElements;
        if (!length.FitsInUInt64 || (ulong)length > limit)
        {
            throw new AbiException($"length {length} exceeds the data", at);
        }
        return (int)(ulong)length;
    }

    private readonly ReadOnlySpan<byte> Slice(int start, int length, string what)
    {
        if (start < 0 || length < 0 || (long)start + length > _data.Length)
        {
            throw new AbiException($"{what} of {length} bytes runs past the end of the data ({_data.Length} bytes)", start);
        }
        return _data.Slice(start, length);
    }
}
