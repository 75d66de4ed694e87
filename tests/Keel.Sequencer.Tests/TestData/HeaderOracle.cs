using Keel.Consensus.Model;
using Keel.Core;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Namespaces;

namespace Keel.Sequencer.Tests.TestData;

/// <summary>
/// Recomputes a block's app header from its payload the long way (decode every transfer, commit
/// with the rollup's BatchCommitment, hash each body): the test's independent check of what the
/// application builds, and the way tests make well-formed blocks with bad contents.
/// </summary>
internal static class HeaderOracle
{
    public static NamespaceTable Table(NamespaceSet namespaces, byte[] payload)
    {
        var sections = BlockPayloadCodec.Decode(payload, namespaces);
        var entries = new List<NamespaceEntry>();
        for (var i = 0; i < sections.Count; i++)
        {
            var ns = namespaces[i];
            var commitment = Hash32.Zero;
            if (ns.Profile == ValidationProfile.Transfer)
            {
                var transfers = sections[i].Transactions.Select(t => TransferDecoder.Decode(t.Span, ns.ChainId)).ToList();
                commitment = NamespaceEntry.ToWord(BatchCommitment.Compute(RollupHasher.Shared, ns.RollupParameters, transfers));
            }
            entries.Add(new NamespaceEntry(ns.ChainId, (uint)sections[i].Transactions.Count, sections[i].PayloadHash, commitment));
        }
        return new NamespaceTable(entries);
    }

    /// <summary>A block on <paramref name="parent"/> whose header matches its payload; <paramref name="headersRoot"/> is the accumulator over the parent chain.</summary>
    public static Block Block(NamespaceSet namespaces, Block parent, Hash32 headersRoot, byte[] payload, long? round = null) =>
        AppHarness.MakeBlock(parent, new AppHeader(AppHeader.CurrentVersion, Table(namespaces, payload).Root, headersRoot).Encode(), payload, round);

    public static byte[] Payload(NamespaceSet namespaces, IReadOnlyDictionary<ulong, byte[][]> txs) =>
        BlockPayloadCodec.Encode([.. namespaces.All.Select(ns => (ns.ChainId, (IReadOnlyList<byte[]>)(txs.TryGetValue(ns.ChainId, out var list) ? list : [])))]);
}
