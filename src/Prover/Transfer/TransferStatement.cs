using Keel.Core.Hashing;
using Keel.Prover.Air;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.Transactions;

namespace Keel.Prover.Transfer;

/// <summary>
/// The public statement of a transfer-batch proof, as field elements (the AIR's public inputs):
/// <code>
/// [chainId lo32, chainId hi32, preRoot 0..3, postRoot 0..3, batchCommitment 0..3, n,
///  baseFee limbs 0..3, feeRecipient limbs 0..4]
/// </code>
/// The transfers are not in it: the proof recomputes the batch commitment (format 2 of
/// docs/rollup.md section 5) from its private transfer columns. The base fee and fee recipient
/// are the rollup's parameters for the batch; they are public because the fee rules read them
/// and because the commitment's header (which holds them) is absorbed by the verifier, not the
/// proof: <see cref="HeaderSpongeState"/>.
/// </summary>
public sealed class TransferStatement
{
    public const int Elements = 24;
    public const int TransferElements = BatchCommitment.TransferElements;
    public const int AddressLimbs = 5;
    public const int AmountLimbs = 4;
    public const ulong IntrinsicGas = 21_000;

    /// <summary>Batch-commitment sponge tag and format (docs/rollup.md section 5).</summary>
    private const ulong BatchDomain = RollupHasher.BatchDomain;
    private const ulong CommitmentFormat = BatchCommitment.FormatVersion;
    private const int HeaderAbsorbed = 1 + BatchCommitment.HeaderElements;
    private const int AbsorbedPerTransfer = BatchCommitment.AbsorbedPerTransfer;

    public TransferStatement(IReadOnlyList<ulong> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        if (elements.Count != Elements)
        {
            throw new AirDefinitionException($"a transfer statement has {Elements} elements, not {elements.Count}");
        }
        Values = [.. elements];
        var n = elements[14];
        if (n > (ulong)TransferAir.MaxTransfers)
        {
            throw new AirDefinitionException($"a statement of {n} transfers: at most {TransferAir.MaxTransfers} per proof");
        }
        Count = (int)n;
        foreach (var i in Enumerable.Range(0, 2).Concat(Enumerable.Range(15, 9)))
        {
            if (elements[i] > uint.MaxValue)
            {
                throw new AirDefinitionException($"statement element {i} ({elements[i]}) is not a 32-bit limb");
            }
        }
        BaseFee = Amount(Values, 15);
    }

    public ulong[] Values { get; }

    public int Count { get; }

    public UInt128 BaseFee { get; }

    public ReadOnlySpan<ulong> PreRoot => Values.AsSpan(2, 4);

    public ReadOnlySpan<ulong> PostRoot => Values.AsSpan(6, 4);

    public ReadOnlySpan<ulong> Commitment => Values.AsSpan(10, 4);

    public ReadOnlySpan<ulong> FeeRecipient => Values.AsSpan(19, AddressLimbs);

    /// <summary>Index of base-fee limb 0 among the public inputs.</summary>
    public const int BaseFeeIndex = 15;

    /// <summary>Index of fee-recipient limb 0 among the public inputs.</summary>
    public const int FeeRecipientIndex = 19;

    /// <summary>
    /// The commitment sponge's state after its header: state[8] = input length (16 + 24 n), then the
    /// blocks [2, 2, chainId lo, hi, n, baseFee 0..2] and [baseFee 3, feeRecipient 0..4, 0, 0] absorbed
    /// and permuted. The proof continues from here with three blocks per transfer.
    /// </summary>
    public ulong[] HeaderSpongeState()
    {
        var state = new ulong[Poseidon2.SpongeWidth];
        state[Poseidon2.SpongeRate] = (ulong)(HeaderAbsorbed + AbsorbedPerTransfer * Count);
        ulong[] header = [BatchDomain, CommitmentFormat, Values[0], Values[1], (ulong)Count, .. Values.AsSpan(15, 9), 0, 0];
        for (var block = 0; block < 2; block++)
        {
            for (var i = 0; i < Poseidon2.SpongeRate; i++)
            {
                state[i] = Core.Field.Goldilocks.Add(state[i], header[block * Poseidon2.SpongeRate + i]);
            }
            Poseidon2.Width12.Permute(state);
        }
        return state;
    }

    /// <summary>What the rules derive from a transfer and the base fee alone (the parts that do not depend on the sender's account); the trace builder's reference.</summary>
    public TransferTerms Terms(Rollup.Transactions.Transfer tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var value = tx.Value;
        var maxFee = tx.MaxFeePerGas;
        var capped = TransferRules.TryAdd(BaseFee, tx.MaxPriorityFeePerGas, out var sum) ? sum : UInt128.MaxValue;
        var price = UInt128.Min(maxFee, capped);
        var feeCapOk = maxFee >= BaseFee;
        var costFits = TransferRules.TryMul(maxFee, IntrinsicGas, out var maxGas) && TransferRules.TryAdd(value, maxGas, out _);
        var cost = costFits ? value + maxGas : 0;
        UInt128 debit = 0, payTip = 0;
        if (feeCapOk && costFits)
        {
            debit = value + price * IntrinsicGas;
            payTip = price * IntrinsicGas - BaseFee * IntrinsicGas;
        }
        return new TransferTerms(value, tx.Nonce, cost, costFits, feeCapOk, debit, payTip);
    }

    public static UInt128 Amount(ReadOnlySpan<ulong> e, int offset) =>
        ((UInt128)e[offset + 3] << 96) | ((UInt128)e[offset + 2] << 64) | ((UInt128)e[offset + 1] << 32) | e[offset];
}

/// <summary>A transfer's account-independent quantities: cost = value + 21000 maxFee (when it fits in 128 bits), debit = value + 21000 price, tip = 21000 (price - baseFee).</summary>
public readonly record struct TransferTerms(UInt128 Value, ulong Nonce, UInt128 Cost, bool CostFits, bool FeeCapOk, UInt128 Debit, UInt128 Tip);
