using System.Runtime.CompilerServices;
using Keel.Rollup.Hashing;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Execution;

/// <summary>
/// The Poseidon2 batch commitment of one namespace's ordered transfers in one block: a single
/// Poseidon2 sponge (Keel.Core's <c>Poseidon2.Hash</c>) over the domain tag 2, a 15-element header
/// and 24 elements per transfer: 16 + 24 n elements, 2 + 3 n permutations, cheap enough to
/// compute while proposing and voting.
/// <code>
/// input    = [2] ‖ header ‖ transfer_0 ‖ 0 ‖ ... ‖ transfer_{n-1} ‖ 0
/// header   = [2 (format), chainId lo32, chainId hi32, n, baseFee limbs 0..3, feeRecipient limbs 0..4, 0, 0]
/// transfer = [from limbs 0..4, to limbs 0..4, value limbs 0..3, nonce, maxFee limbs 0..3, maxPriorityFee limbs 0..3]
/// </code>
/// Limbs are 32 bits, least significant first (see <see cref="FieldEncoding"/>). The zeros align
/// every transfer to three whole rate blocks of 8, so the transfer AIR absorbs transfer t in
/// exactly three permutations of its own rows (format 1 let transfers straddle blocks).
/// </summary>
public sealed class BatchCommitment
{
    public const ulong FormatVersion = 2;

    /// <summary>Header elements after the domain tag, the two alignment zeros included.</summary>
    public const int HeaderElements = 15;
    public const int TransferElements = 23;

    /// <summary>Elements absorbed per transfer: its 23 and one alignment zero (three rate blocks).</summary>
    public const int AbsorbedPerTransfer = 24;

    /// <summary>Most transfers one batch may hold (also the witness limit).</summary>
    public const int MaxTransfers = 65_536;

    private readonly RollupHasher.Sponge _sponge;
    private readonly int _expected;
    private int _added;

    /// <summary>Starts a commitment for exactly <paramref name="transferCount"/> transfers.</summary>
    public BatchCommitment(RollupHasher hasher, RollupParameters parameters, int transferCount)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        ArgumentNullException.ThrowIfNull(parameters);
        if ((uint)transferCount > MaxTransfers)
            throw new ArgumentOutOfRangeException(nameof(transferCount), $"A batch holds at most {MaxTransfers} transfers.");
        _expected = transferCount;
        _sponge = hasher.CreateSponge(InputElements(transferCount));
        _sponge.Absorb([RollupHasher.BatchDomain]);
        Span<ulong> header = stackalloc ulong[HeaderElements];
        header[0] = FormatVersion;
        FieldEncoding.WriteU64(parameters.ChainId, header[1..]);
        header[3] = (ulong)transferCount;
        FieldEncoding.WriteAmount(parameters.BaseFeePerGas, header[4..]);
        FieldEncoding.WriteAddress(parameters.FeeRecipient, header[8..]);
        header[13..].Clear();
        _sponge.Absorb(header);
    }

    /// <summary>Length of the sponge input for <paramref name="transferCount"/> transfers.</summary>
    public static int InputElements(int transferCount) => 1 + HeaderElements + AbsorbedPerTransfer * transferCount;

    /// <summary>Width-12 permutations one commitment costs.</summary>
    public static int Permutations(int transferCount) => (InputElements(transferCount) + 7) / 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per transfer on the consensus path; skip tier-0
    public void Add(Transfer tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (_added == _expected)
            throw new InvalidOperationException($"The commitment was started for {_expected} transfers.");
        Span<ulong> e = stackalloc ulong[AbsorbedPerTransfer];
        Encode(tx, e);
        e[TransferElements] = 0;
        _sponge.Absorb(e);
        _added++;
    }

    public Digest Finish()
    {
        if (_added != _expected)
            throw new InvalidOperationException($"The commitment was started for {_expected} transfers but got {_added}.");
        return _sponge.Squeeze();
    }

    public static Digest Compute(RollupHasher hasher, RollupParameters parameters, IReadOnlyList<Transfer> transfers)
    {
        ArgumentNullException.ThrowIfNull(transfers);
        var c = new BatchCommitment(hasher, parameters, transfers.Count);
        foreach (var tx in transfers)
            c.Add(tx);
        return c.Finish();
    }

    /// <summary>The 23 field elements of one transfer, in commitment order.</summary>
    public static void Encode(Transfer tx, Span<ulong> destination)
    {
        FieldEncoding.WriteAddress(tx.From, destination);
        FieldEncoding.WriteAddress(tx.To, destination[5..]);
        FieldEncoding.WriteAmount(tx.Value, destination[10..]);
        destination[14] = tx.Nonce;
        FieldEncoding.WriteAmount(tx.MaxFeePerGas, destination[15..]);
        FieldEncoding.WriteAmount(tx.MaxPriorityFeePerGas, destination[19..]);
    }
}
