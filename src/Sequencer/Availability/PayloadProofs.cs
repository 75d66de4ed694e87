using Keel.Core;
using Keel.Core.Crypto;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Merkle;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Availability;

/// <summary>
/// One namespace's transactions in a committed block, with what a light client or an L1 contract
/// needs to check them: the header (whose hash the certificate signs), the table entry and its path
/// to the header's namespace-table root. What <c>keel_getNamespacePayload</c> serves.
/// </summary>
public sealed record NamespacePayloadProof(
    SequencerHeader Header,
    NamespaceEntry Entry,
    MerkleProof Proof,
    IReadOnlyList<byte[]> Transactions)
{
    /// <summary>
    /// Checks the whole chain of evidence: the entry is in the header's table, names this namespace,
    /// and its count and payload hash match the transactions.
    /// </summary>
    public bool Verify(ulong namespaceId)
    {
        if (Entry.NamespaceId != namespaceId || Entry.TxCount != (uint)Transactions.Count)
        {
            return false;
        }
        if (!NamespaceTable.Verify(Header.NamespaceTableRoot, Entry, Proof))
        {
            return false;
        }
        return PayloadHashOf(Transactions) == Entry.PayloadHash;
    }

    /// <summary>keccak256(abi.encodePacked(uint32(len(tx_0)), tx_0, ...)): the namespace body hash.</summary>
    public static Hash32 PayloadHashOf(IReadOnlyList<byte[]> transactions)
    {
        var hasher = new Keccak256Hasher();
        Span<byte> length = stackalloc byte[BlockPayloadCodec.TxHeaderBytes];
        foreach (var tx in transactions)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(length, (uint)tx.Length);
            hasher.Update(length);
            hasher.Update(tx);
        }
        Span<byte> digest = stackalloc byte[32];
        hasher.Finish(digest);
        return Hash32.FromBytes(digest);
    }
}

/// <summary>
/// That a header hash is leaf <c>Proof.Index</c> (its height) of the headers accumulator whose root
/// a later header carries (<c>Proof.Count</c> = that header's height).
/// </summary>
public sealed record HeaderProof(Hash32 HeaderHash, MerkleProof Proof, Hash32 AccumulatorRoot)
{
    public bool Verify() => AccumulatorFrontier.Verify(AccumulatorRoot, HeaderHash, Proof);
}

internal static class PayloadProofs
{
    public static NamespacePayloadProof? Build(StoredBlock stored, NamespaceSet namespaces, ulong namespaceId)
    {
        var table = new NamespaceTable(stored.Table);
        var index = table.IndexOf(namespaceId);
        if (index < 0)
        {
            return null;
        }
        var sections = BlockPayloadCodec.Decode(stored.Block.Payload.ToArray(), namespaces);
        var section = sections.First(s => s.NamespaceId == namespaceId);
        return new NamespacePayloadProof(
            SequencerHeader.FromBlock(stored.Block),
            table.Entries[index],
            table.Prove(index),
            [.. section.Transactions.Select(t => t.ToArray())]);
    }
}
