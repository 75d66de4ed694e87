using Keel.Core;
using Keel.Rollup.Execution;

namespace Keel.Sequencer.Namespaces;

/// <summary>How validators judge a namespace's transactions before voting.</summary>
public enum ValidationProfile
{
    /// <summary>The built-in transfer rollup: signature, chain id, nonce and balance are checked against the pending state.</summary>
    Transfer,

    /// <summary>External rollups: bytes ordered as they are; only sizes are checked.</summary>
    Opaque,
}

/// <summary>Devnet defaults of <see cref="NamespaceConfig"/> (each within <see cref="SequencerLimits"/>).</summary>
public static class NamespaceDefaults
{
    public const int MaxTxsPerBlock = 10_000;
    public const int MaxBlockBytes = 1024 * 1024;
    public const int OpaqueMaxBlockBytes = 2 * 1024 * 1024;
    public const int MempoolMaxTxs = 50_000;
    public const long MempoolMaxBytes = 64L * 1024 * 1024;
    public const int MempoolMaxTxsPerSender = 64;
    public const int MempoolMaxNonceGap = 64;
}

/// <summary>
/// One namespace (one rollup), identified by its chain id. The defaults are devnet settings; every
/// limit must stay within <see cref="SequencerLimits"/>, which <see cref="Validate"/> checks.
/// All validators must run the same set: the payload and table depend on it.
/// </summary>
public sealed record NamespaceConfig
{
    public required ulong ChainId { get; init; }

    public ValidationProfile Profile { get; init; } = ValidationProfile.Transfer;

    /// <summary>Receives the tips of each block's transfers (transfer profile).</summary>
    public Address FeeRecipient { get; init; } = Address.Zero;

    /// <summary>Burned per unit of gas (transfer profile); transactions whose max fee is below it are refused.</summary>
    public UInt128 BaseFeePerGas { get; init; } = RollupParameters.DefaultBaseFeePerGas;

    /// <summary>Largest single transaction accepted.</summary>
    public int MaxTxBytes { get; init; } = SequencerLimits.MaxTransferTxBytes;

    /// <summary>Transactions of this namespace in one block.</summary>
    public int MaxTxsPerBlock { get; init; } = NamespaceDefaults.MaxTxsPerBlock;

    /// <summary>Raw transaction bytes of this namespace in one block (framing not counted).</summary>
    public int MaxBlockBytes { get; init; } = NamespaceDefaults.MaxBlockBytes;

    public int MempoolMaxTxs { get; init; } = NamespaceDefaults.MempoolMaxTxs;

    public long MempoolMaxBytes { get; init; } = NamespaceDefaults.MempoolMaxBytes;

    /// <summary>Transactions one sender may have queued (transfer profile).</summary>
    public int MempoolMaxTxsPerSender { get; init; } = NamespaceDefaults.MempoolMaxTxsPerSender;

    /// <summary>How far beyond the committed nonce a queued nonce may be (transfer profile).</summary>
    public int MempoolMaxNonceGap { get; init; } = NamespaceDefaults.MempoolMaxNonceGap;

    /// <summary>The rollup's parameters for this namespace (transfer profile).</summary>
    public RollupParameters RollupParameters => new(ChainId, BaseFeePerGas, FeeRecipient);

    /// <summary>A transfer namespace with devnet defaults.</summary>
    public static NamespaceConfig Transfer(ulong chainId, Address feeRecipient) => new() { ChainId = chainId, FeeRecipient = feeRecipient };

    /// <summary>An opaque namespace with devnet defaults.</summary>
    public static NamespaceConfig Opaque(ulong chainId) => new()
    {
        ChainId = chainId,
        Profile = ValidationProfile.Opaque,
        MaxTxBytes = SequencerLimits.MaxOpaqueTxBytes,
        MaxBlockBytes = NamespaceDefaults.OpaqueMaxBlockBytes,
    };

    /// <exception cref="SequencerConfigException">a limit is out of range</exception>
    public void Validate()
    {
        var maxTx = Profile == ValidationProfile.Transfer ? SequencerLimits.MaxTransferTxBytes : SequencerLimits.MaxOpaqueTxBytes;
        Require(ChainId != 0, "chain id 0 is not a valid namespace id");
        Require(Profile is ValidationProfile.Transfer or ValidationProfile.Opaque, $"unknown profile {Profile}");
        Require(MaxTxBytes > 0 && MaxTxBytes <= maxTx, $"MaxTxBytes must be 1..{maxTx} for the {Profile} profile");
        Require(MaxTxsPerBlock > 0 && MaxTxsPerBlock <= SequencerLimits.MaxTxsPerNamespacePerBlock, $"MaxTxsPerBlock must be 1..{SequencerLimits.MaxTxsPerNamespacePerBlock}");
        Require(MaxBlockBytes >= MaxTxBytes && MaxBlockBytes <= SequencerLimits.MaxPayloadBytes, $"MaxBlockBytes must be between MaxTxBytes and {SequencerLimits.MaxPayloadBytes}");
        Require(MempoolMaxTxs > 0 && MempoolMaxTxs <= SequencerLimits.MaxMempoolTxs, $"MempoolMaxTxs must be 1..{SequencerLimits.MaxMempoolTxs}");
        Require(MempoolMaxBytes >= MaxTxBytes && MempoolMaxBytes <= SequencerLimits.MaxMempoolBytes, $"MempoolMaxBytes must be between MaxTxBytes and {SequencerLimits.MaxMempoolBytes}");
        Require(MempoolMaxTxsPerSender > 0 && MempoolMaxTxsPerSender <= SequencerLimits.MaxTxsPerSender, $"MempoolMaxTxsPerSender must be 1..{SequencerLimits.MaxTxsPerSender}");
        Require(MempoolMaxNonceGap > 0 && MempoolMaxNonceGap <= SequencerLimits.MaxNonceGap, $"MempoolMaxNonceGap must be 1..{SequencerLimits.MaxNonceGap}");
    }

    private void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new SequencerConfigException($"namespace {ChainId}: {message}");
        }
    }
}

/// <summary>
/// The namespaces a sequencer orders, sorted by id: the order of payload sections and table entries.
/// </summary>
public sealed class NamespaceSet
{
    private readonly NamespaceConfig[] _namespaces;
    private readonly Dictionary<ulong, int> _indexById = [];

    /// <exception cref="SequencerConfigException">empty, too many, a repeated id, or a namespace's limits out of range</exception>
    public NamespaceSet(IEnumerable<NamespaceConfig> namespaces)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        _namespaces = [.. namespaces.OrderBy(n => n.ChainId)];
        if (_namespaces.Length == 0 || _namespaces.Length > SequencerLimits.MaxNamespaces)
        {
            throw new SequencerConfigException($"a sequencer orders 1..{SequencerLimits.MaxNamespaces} namespaces, got {_namespaces.Length}");
        }
        long worstBlock = Blocks.BlockPayloadCodec.HeaderBytes;
        for (var i = 0; i < _namespaces.Length; i++)
        {
            var ns = _namespaces[i];
            ns.Validate();
            if (!_indexById.TryAdd(ns.ChainId, i))
            {
                throw new SequencerConfigException($"namespace {ns.ChainId} is configured twice");
            }
            worstBlock += Blocks.BlockPayloadCodec.NamespaceHeaderBytes + ns.MaxBlockBytes + (long)Blocks.BlockPayloadCodec.TxHeaderBytes * ns.MaxTxsPerBlock;
        }
        // The builder stops at MaxPayloadBytes anyway, so a larger sum only means namespaces compete
        // for space; it is allowed, and recorded for operators.
        WorstCaseBlockBytes = worstBlock;
    }

    public int Count => _namespaces.Length;

    public NamespaceConfig this[int index] => _namespaces[index];

    public IReadOnlyList<NamespaceConfig> All => _namespaces;

    /// <summary>Payload bytes if every namespace filled its block limits (may exceed MaxPayloadBytes).</summary>
    public long WorstCaseBlockBytes { get; }

    /// <summary>Position of a namespace in payloads and tables, or -1.</summary>
    public int IndexOf(ulong chainId) => _indexById.TryGetValue(chainId, out var i) ? i : -1;

    public bool TryGet(ulong chainId, out NamespaceConfig config)
    {
        if (_indexById.TryGetValue(chainId, out var i))
        {
            config = _namespaces[i];
            return true;
        }
        config = null!;
        return false;
    }
}
