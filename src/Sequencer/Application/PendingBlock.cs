using Keel.Core;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Merkle;

namespace Keel.Sequencer.Application;

/// <summary>One namespace's part of an evaluated block.</summary>
internal sealed class NamespaceBlock
{
    public required NamespacePayload Payload { get; init; }
    public required NamespaceEntry Entry { get; init; }
    public required Hash32[] TxHashes { get; init; }

    /// <summary>Transfer namespaces: the decoded transfers in block order.</summary>
    public IReadOnlyList<Transfer>? Transfers { get; init; }

    /// <summary>Transfer namespaces: every account the block touched, with its value after the block.</summary>
    public IReadOnlyDictionary<Address, Account>? Delta { get; init; }

    /// <summary>Opaque namespaces: the transaction hashes (duplicate checks along the uncommitted chain).</summary>
    public HashSet<Hash32>? OpaqueHashes { get; init; }
}

/// <summary>What evaluating a payload against a parent produced, before the block hash is known.</summary>
internal sealed class BlockBody
{
    public required Hash32 ParentHash { get; init; }
    public required long Height { get; init; }
    public required AccumulatorFrontier ParentAccumulator { get; init; }
    public required AppHeader AppHeader { get; init; }
    public required NamespaceBlock[] Namespaces { get; init; }
    public required NamespaceTable Table { get; init; }
}

/// <summary>
/// An evaluated, not yet committed block: its effects as deltas over its parent, so the pending
/// state of any uncommitted block is its own deltas, then its ancestors', then the committed map.
/// </summary>
internal sealed class PendingBlock(Hash32 hash, BlockBody body, PendingBlock? parent, bool checkedStrictly)
{
    public Hash32 Hash { get; } = hash;
    public BlockBody Body { get; } = body;
    public long Height => Body.Height;
    public Hash32 ParentHash => Body.ParentHash;

    /// <summary>Null once the parent is the committed tip (the link is cut on commit).</summary>
    public PendingBlock? Parent { get; set; } = parent;

    /// <summary>
    /// Whether this node checked it as a validator does. Blocks rebuilt from consensus's store were
    /// applied as certified blocks are (invalid transfers skipped) and are never voted for on that basis.
    /// </summary>
    public bool CheckedStrictly { get; } = checkedStrictly;

    public AccumulatorFrontier AccumulatorAfter { get; } = body.ParentAccumulator.Append(hash);
}

/// <summary>Accounts of one namespace as of the end of an uncommitted block.</summary>
internal sealed class ChainReader(IAccountReader committed, PendingBlock? tip, int namespaceIndex) : IAccountReader
{
    public Account GetAccount(Address address)
    {
        for (var block = tip; block is not null; block = block.Parent)
        {
            if (block.Body.Namespaces[namespaceIndex].Delta is { } delta && delta.TryGetValue(address, out var account))
            {
                return account;
            }
        }
        return committed.GetAccount(address);
    }
}
