using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup.Execution;
using Keel.Rollup.Genesis;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Validation;

namespace Keel.Rollup.Testing;

/// <summary>A generated batch with the state and parameters it applies to.</summary>
public sealed record GeneratedBatch(AccountState State, RollupParameters Parameters, IReadOnlyList<Transfer> Transfers);

/// <summary>
/// Seeded random batches of valid transfers, for <c>keel prove --random-batch N --seed S</c>, for
/// benchmarks and for tests. Every transfer passes <see cref="TransferValidator"/> against the
/// pending state of those before it, so executing the batch skips none. The mix: legacy and
/// EIP-1559 types, senders among funded accounts (including those funded earlier in the batch),
/// receivers among known accounts, fresh addresses (new leaves), the sender itself and the fee
/// recipient. Transaction hashes are synthetic (Keccak of seed and index): the transfers carry no
/// signatures, which the witness never needs. Same seed, same batch.
/// </summary>
public static class RandomBatchGenerator
{
    /// <summary>Devnet chain id used when none is given (the first default rollup).</summary>
    public const ulong DefaultChainId = 901;

    /// <summary>Most transfers one generated batch may hold.</summary>
    public const int MaxTransfers = BatchCommitment.MaxTransfers;

    /// <summary>A batch from the devnet genesis (anvil's ten accounts), fee recipient = a fixed
    /// address outside them, base fee 1 gwei.</summary>
    public static GeneratedBatch FromGenesis(int count, int seed, RollupHasher? hasher = null)
    {
        var parameters = new RollupParameters(DefaultChainId, RollupParameters.DefaultBaseFeePerGas,
            Address.Parse("0x000000000000000000000000000000000000fee5"));
        var state = RollupGenesis.Devnet().CreateState(hasher);
        return new GeneratedBatch(state, parameters, Generate(state, parameters, count, seed));
    }

    /// <summary><paramref name="count"/> valid transfers against <paramref name="state"/> (which is
    /// not modified).</summary>
    public static IReadOnlyList<Transfer> Generate(IAccountReader state, RollupParameters parameters, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(parameters);
        if ((uint)count > MaxTransfers)
            throw new ArgumentOutOfRangeException(nameof(count), $"0..{MaxTransfers} transfers.");
        var rng = new Random(seed);
        var pending = new PendingAccounts(state);
        var validator = new TransferValidator(parameters);
        // Known addresses: every genesis account we can see through the reader is not enumerable,
        // so start from the devnet accounts and grow with each fresh receiver.
        var known = new List<Address>(RollupGenesis.AnvilDevAccounts) { parameters.FeeRecipient };
        var transfers = new List<Transfer>(count);
        UInt128 baseFee = parameters.BaseFeePerGas;
        int attempts = 0;
        while (transfers.Count < count)
        {
            if (++attempts > 100 * (count + 10))
                throw new RollupException("Could not find enough funded senders for a random batch.");
            var from = known[rng.Next(known.Count)];
            var sender = pending.GetAccount(from);
            if (sender.Nonce >= Account.MaxNonce - 1)
                continue;

            Address to = rng.Next(10) switch
            {
                < 4 => FreshAddress(rng),
                < 8 => known[rng.Next(known.Count)],
                8 => from,
                _ => parameters.FeeRecipient,
            };
            byte type = rng.Next(2) == 0 ? (byte)0 : (byte)2;
            UInt128 tipCap = (UInt128)rng.NextInt64(0, 3_000_000_000);
            UInt128 maxFee = type == 0 ? baseFee + tipCap : baseFee + tipCap + (UInt128)rng.NextInt64(0, 2_000_000_000);
            UInt128 priority = type == 0 ? maxFee : tipCap;
            if (!TransferRules.TryMul(maxFee, Transfer.IntrinsicGas, out var maxGasCost) || sender.Balance <= maxGasCost)
                continue;
            UInt128 spendable = sender.Balance - maxGasCost;
            // Mostly small fractions, sometimes everything (an exact zero-balance edge).
            UInt128 value = rng.Next(20) == 0 ? spendable : spendable / (UInt128)rng.Next(2, 1000) / (UInt128)rng.Next(1, 1000);
            var hash = SyntheticHash(seed, transfers.Count);
            var tx = new Transfer(type, parameters.ChainId, from, to, value, sender.Nonce, maxFee, priority,
                Transfer.IntrinsicGas + (ulong)rng.Next(0, 3) * 1000, hash);
            validator.ValidateAndApply(tx, pending);
            transfers.Add(tx);
            if (!known.Contains(to))
                known.Add(to);
        }
        return transfers;
    }

    private static Address FreshAddress(Random rng)
    {
        Span<byte> b = stackalloc byte[Address.Size];
        rng.NextBytes(b);
        return Address.FromBytes(b);
    }

    private static Hash32 SyntheticHash(int seed, int index)
    {
        Span<byte> input = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(input, seed);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(input[4..], index);
        return Keccak256.HashToHash32(input);
    }
}
