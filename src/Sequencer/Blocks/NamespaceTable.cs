using System.Buffers.Binary;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup.Hashing;
using Keel.Sequencer.Merkle;

namespace Keel.Sequencer.Blocks;

/// <summary>
/// One namespace's line in a block's table.
/// <code>
/// leaf = keccak256(abi.encode(uint64 namespaceId, uint32 txCount, bytes32 payloadHash, bytes32 batchCommitment))
/// </code>
/// payloadHash is keccak256 of the namespace's payload body (see <see cref="BlockPayloadCodec"/>);
/// batchCommitment is the rollup's Poseidon2 commitment for a transfer namespace
/// (<see cref="ToWord(Digest)"/>) and bytes32(0) for an opaque one.
/// </summary>
public readonly record struct NamespaceEntry(ulong NamespaceId, uint TxCount, Hash32 PayloadHash, Hash32 BatchCommitment)
{
    public const int EncodedBytes = 4 * 32;

    /// <summary>The ABI encoding the leaf hash is taken over.</summary>
    public byte[] Encode()
    {
        var buffer = new byte[EncodedBytes];
        BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(24, 8), NamespaceId);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(60, 4), TxCount);
        PayloadHash.Bytes.CopyTo(buffer.AsSpan(64, 32));
        BatchCommitment.Bytes.CopyTo(buffer.AsSpan(96, 32));
        return buffer;
    }

    public Hash32 LeafHash => Keccak256.HashToHash32(Encode());

    /// <summary>Reads the 128-byte encoding back (for stores that keep tables).</summary>
    /// <exception cref="InvalidPayloadException">wrong length or a non-canonical word</exception>
    public static NamespaceEntry Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != EncodedBytes)
        {
            throw new InvalidPayloadException(PayloadError.Malformed, $"a namespace entry is {EncodedBytes} bytes, got {encoded.Length}");
        }
        if (encoded[..24].IndexOfAnyExcept((byte)0) >= 0 || encoded[32..60].IndexOfAnyExcept((byte)0) >= 0)
        {
            throw new InvalidPayloadException(PayloadError.Malformed, "namespace entry id or count word is not canonical");
        }
        return new NamespaceEntry(
            BinaryPrimitives.ReadUInt64BigEndian(encoded[24..32]),
            BinaryPrimitives.ReadUInt32BigEndian(encoded[60..64]),
            Hash32.FromBytes(encoded[64..96]),
            Hash32.FromBytes(encoded[96..128]));
    }

    /// <summary>
    /// A Poseidon2 digest (four Goldilocks elements) as a bytes32: element 0 first, each element a
    /// big-endian uint64. A contract reads element i as uint64(uint256(word) &gt;&gt; (192 - 64 i)).
    /// </summary>
    public static Hash32 ToWord(Digest digest)
    {
        Span<byte> word = stackalloc byte[32];
        for (var i = 0; i < Digest.Elements; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(word.Slice(8 * i, 8), digest[i]);
        }
        return Hash32.FromBytes(word);
    }
}

/// <summary>
/// A block's namespace table: one entry per configured namespace, in namespace-id order, committed by
/// <code>
/// root = keccak256(abi.encode(bytes32 merkleRoot, uint256 entryCount))
/// </code>
/// where merkleRoot is the Keccak Merkle root (<see cref="KeccakMerkle"/>) of the entry leaves padded
/// with bytes32(0) to the next power of two (depth ceil(log2(entryCount)); one entry: its leaf).
/// </summary>
public sealed class NamespaceTable
{
    private readonly NamespaceEntry[] _entries;
    private readonly Hash32[] _leaves;

    public NamespaceTable(IReadOnlyList<NamespaceEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count > SequencerLimits.MaxNamespaces)
        {
            throw new ArgumentException($"a table holds at most {SequencerLimits.MaxNamespaces} entries", nameof(entries));
        }
        _entries = [.. entries];
        _leaves = [.. _entries.Select(e => e.LeafHash)];
        Depth = KeccakMerkle.DepthFor((ulong)_entries.Length);
        Root = KeccakMerkle.MixInCount(KeccakMerkle.TreeRoot(_leaves, Depth), (ulong)_entries.Length);
    }

    public IReadOnlyList<NamespaceEntry> Entries => _entries;

    public int Depth { get; }

    public Hash32 Root { get; }

    /// <summary>Index of a namespace's entry, or -1.</summary>
    public int IndexOf(ulong namespaceId) => Array.FindIndex(_entries, e => e.NamespaceId == namespaceId);

    public MerkleProof Prove(int index)
    {
        if ((uint)index >= (uint)_entries.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"the table has {_entries.Length} entries");
        }
        return new MerkleProof((ulong)index, (ulong)_entries.Length, KeccakMerkle.TreePath(_leaves, index, Depth));
    }

    /// <summary>Checks that <paramref name="entry"/> is entry <c>proof.Index</c> of the table whose root is <paramref name="root"/>.</summary>
    public static bool Verify(Hash32 root, NamespaceEntry entry, MerkleProof proof) =>
        proof is not null
        && proof.Count <= SequencerLimits.MaxNamespaces
        && KeccakMerkle.Verify(root, entry.LeafHash, proof, KeccakMerkle.DepthFor(proof.Count));
}
