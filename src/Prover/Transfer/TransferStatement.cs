using Keel.Core.Hashing;
using Keel.Rollup.Transactions;

namespace Keel.Prover.Transfer;

/// <summary>
/// The public statement of a transfer-batch proof, as field elements (the AIR's public inputs):
/// <code>
/// [chainId lo32, chainId hi32, preRoot 0..3, postRoot 0..3, batchCommitment 0..3, n,
///  baseFee limbs 0..3, feeRecipient limbs 0..4, transfer_0 (23) ... transfer_{n-1} (23)]
/// </code>
/// Each transfer is its batch-commitment encoding (docs/rollup.md, <c>BatchCommitment.Encode</c>):
/// from limbs 0..4, to limbs 0..4, value limbs 0..3, nonce, maxFee limbs 0..3, maxPriorityFee limbs 0..3.
/// The constructor recomputes the batch commitment from the transfers and refuses a statement whose
/// commitment differs, so a verifier that accepts a proof has checked the commitment too.
/// </summary>
public sealed class TransferStatement
{
    public const int HeaderElements = 24;
    public const int TransferElements = 23;
    public const int AddressLimbs = 5;
    public const int AmountLimbs = 4;
    public const ulong IntrinsicGas = 21_000;
    public const ulong MaxNonce = uint.MaxValue;

    /// <summary>Batch-commitment sponge tag and header format (docs/rollup.md).</summary>
    private const ulong BatchDomain = 2;
    private const ulong CommitmentFormat = 2;

    public TransferStatement(IReadOnlyList<ulong> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        if (elements.Count < HeaderElements)
        {
            throw new Air.AirDefinitionException($"a transfer statement has at least {HeaderElements} elements");
        }
        Elements = [.. elements];
        var n = elements[14];
        if (n > (ulong)TransferAir.MaxTransfers || elements.Count != HeaderElements + TransferElements * (int)n)
        {
            throw new Air.AirDefinitionException($"a statement of {n} transfers (at most {TransferAir.MaxTransfers}) has {HeaderElements} + 23 n elements, not {elements.Count}");
        }
        Count = (int)n;
        foreach (var i in Enumerable.Range(0, 2).Concat(Enumerable.Range(15, 9)))
        {
            CheckLimb(elements[i], $"header element {i}");
        }
        BaseFee = Amount(Elements, 15);
        for (var t = 0; t < Count; t++)
        {
            var o = HeaderElements + TransferElements * t;
            for (var i = 0; i < TransferElements; i++)
            {
                CheckLimb(elements[o + i], $"transfer {t} element {i}");
            }
            if (elements[o + 14] >= MaxNonce)
            {
                throw new Air.AirDefinitionException($"transfer {t}: nonce at or above {MaxNonce}");
            }
            if (Amount(Elements, o + 19) > Amount(Elements, o + 15))
            {
                throw new Air.AirDefinitionException($"transfer {t}: maxPriorityFeePerGas above maxFeePerGas");
            }
        }
        var commitment = new ulong[4];
        Poseidon2.Hash(CommitmentInput(), commitment);
        if (!commitment.AsSpan().SequenceEqual(elements.Skip(10).Take(4).ToArray()))
        {
            throw new Air.AirDefinitionException("the batch commitment does not match the statement's transfers");
        }
    }

    public ulong[] Elements { get; }

    public int Count { get; }

    public UInt128 BaseFee { get; }

    public ReadOnlySpan<ulong> PreRoot => Elements.AsSpan(2, 4);

    public ReadOnlySpan<ulong> PostRoot => Elements.AsSpan(6, 4);

    public ReadOnlySpan<ulong> FeeRecipient => Elements.AsSpan(19, AddressLimbs);

    public ReadOnlySpan<ulong> Transfer(int t) => Elements.AsSpan(HeaderElements + TransferElements * t, TransferElements);

    /// <summary>The batch commitment's sponge input (format 2): [2, header(15), transfers each padded to 24].</summary>
    public ulong[] CommitmentInput()
    {
        var input = new List<ulong> { BatchDomain, CommitmentFormat, Elements[0], Elements[1], (ulong)Count };
        input.AddRange(Elements.Skip(15).Take(9));
        input.AddRange([0, 0]);
        for (var t = 0; t < Count; t++)
        {
            input.AddRange(Transfer(t).ToArray());
            input.Add(0);
        }
        return [.. input];
    }

    /// <summary>What the rules derive from a transfer and the base fee alone (the parts that do not depend on the sender's account).</summary>
    public TransferTerms Terms(int t)
    {
        var tx = Transfer(t);
        var value = Amount(tx, 10);
        var maxFee = Amount(tx, 15);
        var tip = Amount(tx, 19);
        var capped = TransferRules.TryAdd(BaseFee, tip, out var sum) ? sum : UInt128.MaxValue;
        var price = UInt128.Min(maxFee, capped);
        var feeCapOk = maxFee >= BaseFee;
        // The same overflow rules as the rollup's executor (TransferRules), on the statement's limbs.
        var costFits = TransferRules.TryMul(maxFee, IntrinsicGas, out var maxGas) && TransferRules.TryAdd(value, maxGas, out _);
        var cost = costFits ? value + maxGas : 0;
        // Debit and tip only count when the transfer applies, which needs feeCapOk and costFits;
        // then price <= maxFee and nothing below overflows.
        UInt128 debit = 0, payTip = 0;
        if (feeCapOk && costFits)
        {
            debit = value + price * IntrinsicGas;
            payTip = price * IntrinsicGas - BaseFee * IntrinsicGas;
        }
        return new TransferTerms(value, tx[14], cost, costFits, feeCapOk, debit, payTip);
    }

    public static UInt128 Amount(ReadOnlySpan<ulong> e, int offset) =>
        ((UInt128)e[offset + 3] << 96) | ((UInt128)e[offset + 2] << 64) | ((UInt128)e[offset + 1] << 32) | e[offset];

    public static void WriteAmount(UInt128 value, Span<ulong> destination)
    {
        for (var i = 0; i < AmountLimbs; i++)
        {
            destination[i] = (ulong)(value >> (32 * i)) & uint.MaxValue;
        }
    }

    private static void CheckLimb(ulong value, string what)
    {
        if (value > uint.MaxValue)
        {
            throw new Air.AirDefinitionException($"{what} ({value}) is not a 32-bit limb");
        }
    }
}

/// <summary>A transfer's account-independent quantities: cost = value + 21000 maxFee (when it fits in 128 bits), debit = value + 21000 price, tip = 21000 (price - baseFee).</summary>
public readonly record struct TransferTerms(UInt128 Value, ulong Nonce, UInt128 Cost, bool CostFits, bool FeeCapOk, UInt128 Debit, UInt128 Tip);
