using Keel.Core;
using Keel.Core.Field;
using Keel.Prover.Air;
using Keel.Prover.Crypto;
using Keel.Prover.Stark;

namespace Keel.Prover.Verification;

/// <summary>Why a well-formed proof was rejected.</summary>
public enum RejectionReason
{
    InsufficientSecurity,
    OptionsUnsuitable,
    ShapeMismatch,
    OodPointInvalid,
    CompositionMismatch,
    ProofOfWorkInsufficient,
    TraceCommitmentMismatch,
    CompositionCommitmentMismatch,
    FriCommitmentMismatch,
    FriFoldingMismatch,
    FriRemainderMismatch,
}

/// <summary>A proof that parsed but does not verify, with the reason.</summary>
public sealed class ProofRejectedException(RejectionReason reason, string message) : Exception($"{reason}: {message}")
{
    public RejectionReason Reason { get; } = reason;
}

/// <summary>
/// The STARK verifier. It depends only on the AIR, the proof and the prover's address (and
/// shared protocol code), never on prover types: what it checks is exactly what a proof carries.
/// </summary>
public static class StarkVerifier
{
    /// <summary>Proofs below this conjectured security are rejected unless the caller lowers it.</summary>
    public const int DefaultMinSecurityBits = 100;

    /// <summary>Parses and verifies; throws <see cref="ProofFormatException"/>, <see cref="ProofRejectedException"/> or <see cref="AirDefinitionException"/>.</summary>
    public static void Verify(IAir air, ReadOnlySpan<byte> proofBytes, Address prover, int minSecurityBits = DefaultMinSecurityBits) =>
        Verify(air, StarkProof.FromBytes(proofBytes), prover, minSecurityBits);

    public static void Verify(IAir air, StarkProof proof, Address prover, int minSecurityBits = DefaultMinSecurityBits)
    {
        AirContext ctx;
        try
        {
            ctx = new AirContext(air, proof.Options);
        }
        catch (AirDefinitionException e)
        {
            // The AIR was accepted with other options; these (from the proof) do not fit it.
            _ = new AirContext(air, ProofOptions.Default with { LogBlowup = ProofOptions.MaxLogBlowup });
            throw new ProofRejectedException(RejectionReason.OptionsUnsuitable, e.Message);
        }
        if (ctx.SecurityBits < minSecurityBits)
        {
            throw new ProofRejectedException(RejectionReason.InsufficientSecurity, $"{ctx.SecurityBits} bits of conjectured security, {minSecurityBits} required");
        }
        CheckShape(ctx, proof);
        var transcript = Protocol.Begin(ctx, prover);
        transcript.Absorb(proof.TraceRoot.Bytes);
        var alphas = transcript.DrawExts(ctx.Program.ConstraintCount);
        var betas = transcript.DrawExts(air.Assertions.Count);
        transcript.Absorb(proof.CompositionRoot.Bytes);
        var z = Protocol.DrawOodPoint(transcript, ctx);
        var zNext = GoldilocksExt2.MulBase(z, ctx.TraceGenerator);

        // The composition columns at z must recombine into the constraint composition at z.
        var expected = Protocol.CompositionAt(ctx, z, proof.OodCurrent, proof.OodNext, alphas, betas);
        var zn = GoldilocksExt2.Pow(z, (ulong)ctx.TraceLength);
        var actual = GoldilocksExt2.Zero;
        var power = GoldilocksExt2.One;
        foreach (var h in proof.OodComposition)
        {
            actual += power * h;
            power *= zn;
        }
        if (actual != expected)
        {
            throw new ProofRejectedException(RejectionReason.CompositionMismatch, "out-of-domain composition does not match the constraints");
        }
        transcript.AbsorbExt(proof.OodCurrent);
        transcript.AbsorbExt(proof.OodNext);
        transcript.AbsorbExt(proof.OodComposition);
        var gammas = transcript.DrawExts(2 * ctx.TraceWidth + ctx.CompositionColumns);

        var friBetas = new GoldilocksExt2[ctx.FriLayers];
        for (var layer = 0; layer < ctx.FriLayers; layer++)
        {
            transcript.Absorb(proof.FriRoots[layer].Bytes);
            friBetas[layer] = transcript.DrawExt();
        }
        transcript.AbsorbExt(proof.Remainder);
        if (Transcript.ProofOfWorkBits(transcript.Seed, proof.PowNonce) < ctx.Options.GrindingBits)
        {
            throw new ProofRejectedException(RejectionReason.ProofOfWorkInsufficient, $"nonce does not reach {ctx.Options.GrindingBits} bits of work");
        }
        transcript.AbsorbUInt64(proof.PowNonce);
        var positions = Protocol.SortedDistinct(transcript.DrawPositions(ctx.Options.Queries, ctx.LdeSize));

        var traceRows = CheckOpenings(ctx.LogLdeSize, positions, ctx.TraceWidth, proof.TraceOpenings, proof.TraceRoot, RejectionReason.TraceCommitmentMismatch, "trace");
        var compositionRows = CheckOpenings(ctx.LogLdeSize, positions, 2 * ctx.CompositionColumns, proof.CompositionOpenings, proof.CompositionRoot, RejectionReason.CompositionCommitmentMismatch, "composition");

        // DEEP composition at each queried point, from the opened rows.
        var width = ctx.TraceWidth;
        var c1 = GoldilocksExt2.Zero;
        var c2 = GoldilocksExt2.Zero;
        for (var j = 0; j < width; j++)
        {
            c1 += gammas[j] * proof.OodCurrent[j];
            c2 += gammas[width + j] * proof.OodNext[j];
        }
        for (var k = 0; k < ctx.CompositionColumns; k++)
        {
            c1 += gammas[2 * width + k] * proof.OodComposition[k];
        }
        var evaluations = new GoldilocksExt2[positions.Length];
        for (var q = 0; q < positions.Length; q++)
        {
            var x = GoldilocksExt2.FromBase(Goldilocks.Mul(ctx.DomainShift, Goldilocks.Pow(ctx.LdeGenerator, (ulong)positions[q])));
            var row = traceRows.Row(positions[q]);
            var comp = compositionRows.Row(positions[q]);
            var n1 = GoldilocksExt2.Zero;
            var n2 = GoldilocksExt2.Zero;
            for (var j = 0; j < width; j++)
            {
                n1 += GoldilocksExt2.MulBase(gammas[j], row[j]);
                n2 += GoldilocksExt2.MulBase(gammas[width + j], row[j]);
            }
            for (var k = 0; k < ctx.CompositionColumns; k++)
            {
                n1 += gammas[2 * width + k] * new GoldilocksExt2(comp[2 * k], comp[2 * k + 1]);
            }
            evaluations[q] = (n1 - c1) / (x - z) + (n2 - c2) / (x - zNext);
        }

        VerifyFri(ctx, proof, friBetas, positions, evaluations);
    }

    private static void CheckShape(AirContext ctx, StarkProof proof)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new ProofRejectedException(RejectionReason.ShapeMismatch, what);
            }
        }
        Require(proof.LogTraceLength == ctx.LogTraceLength, $"proof is for 2^{proof.LogTraceLength} rows, the AIR has 2^{ctx.LogTraceLength}");
        Require(proof.TraceWidth == ctx.TraceWidth, $"proof is for {proof.TraceWidth} columns, the AIR has {ctx.TraceWidth}");
        Require(proof.CompositionColumns == ctx.CompositionColumns, $"proof has {proof.CompositionColumns} composition columns, the AIR needs {ctx.CompositionColumns}");
        Require(proof.FriRoots.Length == ctx.FriLayers && proof.FriOpenings.Length == ctx.FriLayers, $"proof has {proof.FriRoots.Length} FRI layers, expected {ctx.FriLayers}");
        Require(proof.Remainder.Length == ctx.RemainderSize, $"remainder has {proof.Remainder.Length} coefficients, expected {ctx.RemainderSize}");
    }

    /// <summary>Opened rows, found by position: a leaf holds a group of consecutive rows.</summary>
    private sealed class OpenedRows(int[] leaves, RowOpenings openings, int rowsPerLeaf, int rowWords)
    {
        public ReadOnlySpan<ulong> Row(int position)
        {
            var i = Array.BinarySearch(leaves, position / rowsPerLeaf);
            return openings.Rows[i].AsSpan(position % rowsPerLeaf * rowWords, rowWords);
        }
    }

    /// <summary>Checks the batched opening of the leaves holding <paramref name="positions"/> against the root.</summary>
    private static OpenedRows CheckOpenings(int logRows, int[] positions, int rowWords, RowOpenings openings, Hash32 root, RejectionReason reason, string what)
    {
        var g = MerkleTree.RowsPerLeafFor(rowWords);
        var leaves = Protocol.SortedDistinct(positions.Select(p => p / g));
        if (openings.Rows.Length != leaves.Length)
        {
            throw new ProofRejectedException(reason, $"{what}: {openings.Rows.Length} leaves opened, {leaves.Length} queried");
        }
        var hashes = new byte[leaves.Length][];
        var scratch = new byte[g * rowWords * 8];
        for (var i = 0; i < leaves.Length; i++)
        {
            hashes[i] = new byte[MerkleTree.HashSize];
            MerkleTree.HashLeaf(openings.Rows[i], scratch, hashes[i]);
        }
        var depth = logRows - System.Numerics.BitOperations.Log2((uint)g);
        Span<byte> computed = stackalloc byte[MerkleTree.HashSize];
        if (!MerkleMultiProof.TryComputeRoot(depth, leaves, hashes, openings.Nodes, computed) || !computed.SequenceEqual(root.Bytes))
        {
            throw new ProofRejectedException(reason, $"{what} openings do not match the commitment");
        }
        return new OpenedRows(leaves, openings, g, rowWords);
    }

    private static void VerifyFri(AirContext ctx, StarkProof proof, GoldilocksExt2[] betas, int[] positions, GoldilocksExt2[] evaluations)
    {
        var f = ctx.Options.FoldingFactor;
        var inverseRoots = FriFolding.InverseRootPowers(f);
        var inverseF = Goldilocks.Inverse((ulong)f);
        var size = ctx.LdeSize;
        var offset = ctx.DomainShift;
        for (var layer = 0; layer < ctx.FriLayers; layer++)
        {
            var cosets = size / f;
            var cosetIndices = Protocol.SortedDistinct(positions.Select(p => p % cosets));
            var logCosets = System.Numerics.BitOperations.Log2((uint)cosets);
            var rows = CheckOpenings(logCosets, cosetIndices, 2 * f, proof.FriOpenings[layer], proof.FriRoots[layer], RejectionReason.FriCommitmentMismatch, $"FRI layer {layer}");
            // Each queried value must sit in its opened coset.
            for (var q = 0; q < positions.Length; q++)
            {
                var j = positions[q] % cosets;
                var t = positions[q] / cosets;
                var row = rows.Row(j);
                if (new GoldilocksExt2(row[2 * t], row[2 * t + 1]) != evaluations[q])
                {
                    throw new ProofRejectedException(RejectionReason.FriFoldingMismatch, $"FRI layer {layer}: opened value differs from the folded one");
                }
            }
            var omegaInverse = Goldilocks.Inverse(Goldilocks.RootOfUnity(System.Numerics.BitOperations.Log2((uint)size)));
            var offsetInverse = Goldilocks.Inverse(offset);
            var next = new GoldilocksExt2[cosetIndices.Length];
            var values = new GoldilocksExt2[f];
            for (var i = 0; i < cosetIndices.Length; i++)
            {
                var row = rows.Row(cosetIndices[i]);
                for (var t = 0; t < f; t++)
                {
                    values[t] = new GoldilocksExt2(row[2 * t], row[2 * t + 1]);
                }
                var xInverse = Goldilocks.Mul(offsetInverse, Goldilocks.Pow(omegaInverse, (ulong)cosetIndices[i]));
                next[i] = FriFolding.FoldCoset(values, xInverse, betas[layer], inverseRoots, inverseF);
            }
            positions = cosetIndices;
            evaluations = next;
            size = cosets;
            offset = Goldilocks.Pow(offset, (ulong)f);
        }
        var omega = Goldilocks.RootOfUnity(System.Numerics.BitOperations.Log2((uint)size));
        for (var q = 0; q < positions.Length; q++)
        {
            var x = Goldilocks.Mul(offset, Goldilocks.Pow(omega, (ulong)positions[q]));
            if (FriFolding.EvaluateRemainder(proof.Remainder, x) != evaluations[q])
            {
                throw new ProofRejectedException(RejectionReason.FriRemainderMismatch, "remainder polynomial disagrees with the last FRI layer");
            }
        }
    }
}
