using System.Buffers.Binary;
using Keel.Core;
using Keel.Core.Field;

namespace Keel.Prover.Stark;

/// <summary>A batched Merkle opening: the opened leaves' rows (ascending leaf order, each leaf's group of rows concatenated) and the sibling nodes.</summary>
public sealed record RowOpenings(ulong[][] Rows, byte[][] Nodes);

/// <summary>
/// A STARK proof. Binary format (little-endian), version 1:
/// magic "KSTP", u16 version, options (5 x u8), u8 log2 trace length, u16 trace width,
/// u8 composition columns, trace root, composition root (32 bytes each), out-of-domain frame
/// (width + width + columns extension elements), u8 FRI layer count + roots, u16 remainder
/// length + coefficients, u64 proof-of-work nonce, then the openings: trace rows, composition
/// rows, one per FRI layer (u16 row count, rows, u16 node count, nodes). Extension elements are two
/// canonical u64s. Nothing may follow. At most <see cref="MaxProofBytes"/>.
/// </summary>
public sealed class StarkProof
{
    public const ushort CurrentVersion = 1;

    /// <summary>Proofs near 2^20 rows are ~100-200 KiB; 2 MiB leaves room and bounds what a verifier reads.</summary>
    public const int MaxProofBytes = 2 << 20;

    public const int MaxFriLayers = 32;
    public const int MaxRemainder = 1 << ProofOptions.MaxLogRemainderSize;
    public const int MaxOpenedRows = ProofOptions.MaxQueries;

    /// <summary>A batched opening of q leaves in a tree of depth d needs at most q*d siblings.</summary>
    public const int MaxNodesPerOpening = ProofOptions.MaxQueries * 32;

    private static readonly byte[] Magic = "KSTP"u8.ToArray();

    public required ProofOptions Options { get; init; }
    public required int LogTraceLength { get; init; }
    public required int TraceWidth { get; init; }
    public required int CompositionColumns { get; init; }
    public required Hash32 TraceRoot { get; init; }
    public required Hash32 CompositionRoot { get; init; }
    public required GoldilocksExt2[] OodCurrent { get; init; }
    public required GoldilocksExt2[] OodNext { get; init; }
    public required GoldilocksExt2[] OodComposition { get; init; }
    public required Hash32[] FriRoots { get; init; }
    public required GoldilocksExt2[] Remainder { get; init; }
    public required ulong PowNonce { get; init; }
    public required RowOpenings TraceOpenings { get; init; }

    /// <summary>Rows of 2 * columns words: (a0, a1) of each composition column.</summary>
    public required RowOpenings CompositionOpenings { get; init; }

    /// <summary>Per layer, rows of 2 * F words: the F extension values of each opened coset.</summary>
    public required RowOpenings[] FriOpenings { get; init; }

    public byte[] ToBytes()
    {
        var w = new ProofWriter();
        w.Bytes(Magic);
        w.U16(CurrentVersion);
        w.U8(Options.LogBlowup);
        w.U8(Options.Queries);
        w.U8(Options.GrindingBits);
        w.U8(Options.LogFoldingFactor);
        w.U8(Options.LogMaxRemainderSize);
        w.U8(LogTraceLength);
        w.U16(TraceWidth);
        w.U8(CompositionColumns);
        w.Bytes(TraceRoot.Bytes);
        w.Bytes(CompositionRoot.Bytes);
        w.Exts(OodCurrent);
        w.Exts(OodNext);
        w.Exts(OodComposition);
        w.U8(FriRoots.Length);
        foreach (var r in FriRoots)
        {
            w.Bytes(r.Bytes);
        }
        w.U16(Remainder.Length);
        w.Exts(Remainder);
        w.U64(PowNonce);
        w.Openings(TraceOpenings);
        w.Openings(CompositionOpenings);
        foreach (var layer in FriOpenings)
        {
            w.Openings(layer);
        }
        var bytes = w.ToArray();
        if (bytes.Length > MaxProofBytes)
        {
            throw new InvalidOperationException($"proof of {bytes.Length} bytes exceeds {MaxProofBytes}");
        }
        return bytes;
    }

    /// <summary>Parses a proof; any deviation from the format is a <see cref="ProofFormatException"/>.</summary>
    public static StarkProof FromBytes(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxProofBytes)
        {
            throw new ProofFormatException($"proof of {data.Length} bytes exceeds the limit of {MaxProofBytes}");
        }
        var r = new ProofReader(data.ToArray());
        if (!r.Bytes(4).SequenceEqual(Magic))
        {
            throw new ProofFormatException("not a Keel STARK proof (bad magic)");
        }
        var version = r.U16();
        if (version != CurrentVersion)
        {
            throw new ProofFormatException($"proof version {version} is not supported (expected {CurrentVersion})");
        }
        var options = new ProofOptions(r.U8(), r.U8(), r.U8(), r.U8(), r.U8());
        if (!options.IsValid())
        {
            throw new ProofFormatException($"proof options out of range: {options}");
        }
        var logTrace = r.U8();
        if (logTrace < AirContext.MinLogTraceLength || logTrace > AirContext.MaxLogTraceLength)
        {
            throw new ProofFormatException($"trace length 2^{logTrace} out of range");
        }
        var width = r.U16();
        if (width < 1 || width > AirContext.MaxTraceWidth)
        {
            throw new ProofFormatException($"trace width {width} out of range");
        }
        var columns = r.U8();
        if (columns < 1 || columns > AirContext.MaxCompositionColumns)
        {
            throw new ProofFormatException($"composition column count {columns} out of range");
        }
        var traceRoot = Hash32.FromBytes(r.Bytes(32));
        var compositionRoot = Hash32.FromBytes(r.Bytes(32));
        var oodCurrent = r.Exts(width);
        var oodNext = r.Exts(width);
        var oodComposition = r.Exts(columns);
        var layers = r.U8();
        if (layers > MaxFriLayers)
        {
            throw new ProofFormatException($"{layers} FRI layers exceed {MaxFriLayers}");
        }
        var friRoots = new Hash32[layers];
        for (var i = 0; i < layers; i++)
        {
            friRoots[i] = Hash32.FromBytes(r.Bytes(32));
        }
        var remainderLength = r.U16();
        if (remainderLength < 1 || remainderLength > MaxRemainder)
        {
            throw new ProofFormatException($"remainder of {remainderLength} coefficients out of range");
        }
        var remainder = r.Exts(remainderLength);
        var nonce = r.U64();
        var traceOpenings = r.Openings(LeafWords(width));
        var compositionOpenings = r.Openings(LeafWords(2 * columns));
        var friOpenings = new RowOpenings[layers];
        for (var i = 0; i < layers; i++)
        {
            friOpenings[i] = r.Openings(LeafWords(2 * options.FoldingFactor));
        }
        if (!r.AtEnd)
        {
            throw new ProofFormatException($"{r.Remaining} bytes after the end of the proof");
        }
        return new StarkProof
        {
            Options = options,
            LogTraceLength = logTrace,
            TraceWidth = width,
            CompositionColumns = columns,
            TraceRoot = traceRoot,
            CompositionRoot = compositionRoot,
            OodCurrent = oodCurrent,
            OodNext = oodNext,
            OodComposition = oodComposition,
            FriRoots = friRoots,
            Remainder = remainder,
            PowNonce = nonce,
            TraceOpenings = traceOpenings,
            CompositionOpenings = compositionOpenings,
            FriOpenings = friOpenings,
        };
    }

    /// <summary>Words in one opened leaf: the rows a Merkle leaf groups, times the row's words.</summary>
    private static int LeafWords(int rowWords) => Keel.Prover.Crypto.MerkleTree.RowsPerLeafFor(rowWords) * rowWords;

    private sealed class ProofWriter
    {
        private readonly MemoryStream _s = new();

        public void Bytes(ReadOnlySpan<byte> b) => _s.Write(b);

        public void U8(int v)
        {
            if (v is < 0 or > byte.MaxValue)
            {
                throw new InvalidOperationException($"value {v} does not fit a byte");
            }
            _s.WriteByte((byte)v);
        }

        public void U16(int v)
        {
            if (v is < 0 or > ushort.MaxValue)
            {
                throw new InvalidOperationException($"value {v} does not fit 16 bits");
            }
            Span<byte> b = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v);
            _s.Write(b);
        }

        public void U64(ulong v)
        {
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(b, v);
            _s.Write(b);
        }

        public void Exts(ReadOnlySpan<GoldilocksExt2> values)
        {
            foreach (var v in values)
            {
                U64(v.A0);
                U64(v.A1);
            }
        }

        public void Openings(RowOpenings o)
        {
            U16(o.Rows.Length);
            foreach (var row in o.Rows)
            {
                foreach (var word in row)
                {
                    U64(word);
                }
            }
            U16(o.Nodes.Length);
            foreach (var node in o.Nodes)
            {
                Bytes(node);
            }
        }

        public byte[] ToArray() => _s.ToArray();
    }

    private sealed class ProofReader(byte[] data)
    {
        private int _pos;

        public bool AtEnd => _pos == data.Length;
        public int Remaining => data.Length - _pos;

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (count > data.Length - _pos)
            {
                throw new ProofFormatException($"proof truncated at byte {_pos} (needed {count} more)");
            }
            var span = data.AsSpan(_pos, count);
            _pos += count;
            return span;
        }

        public int U8() => Bytes(1)[0];

        public int U16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));

        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));

        public ulong Element()
        {
            var at = _pos;
            var v = U64();
            if (!Goldilocks.IsCanonical(v))
            {
                throw new ProofFormatException($"non-canonical field element at byte {at}");
            }
            return v;
        }

        public GoldilocksExt2[] Exts(int count)
        {
            var result = new GoldilocksExt2[count];
            for (var i = 0; i < count; i++)
            {
                var a0 = Element();
                var a1 = Element();
                result[i] = new GoldilocksExt2(a0, a1);
            }
            return result;
        }

        public RowOpenings Openings(int rowWords)
        {
            var rowCount = U16();
            if (rowCount < 1 || rowCount > MaxOpenedRows)
            {
                throw new ProofFormatException($"{rowCount} opened rows out of range [1, {MaxOpenedRows}]");
            }
            var rows = new ulong[rowCount][];
            for (var i = 0; i < rowCount; i++)
            {
                rows[i] = new ulong[rowWords];
                for (var j = 0; j < rowWords; j++)
                {
                    rows[i][j] = Element();
                }
            }
            var nodeCount = U16();
            if (nodeCount > MaxNodesPerOpening)
            {
                throw new ProofFormatException($"{nodeCount} Merkle nodes exceed {MaxNodesPerOpening}");
            }
            var nodes = new byte[nodeCount][];
            for (var i = 0; i < nodeCount; i++)
            {
                nodes[i] = Bytes(32).ToArray();
            }
            return new RowOpenings(rows, nodes);
        }
    }
}

/// <summary>Malformed proof bytes: truncated, oversized, wrong version, out-of-range counts, non-canonical elements.</summary>
public sealed class ProofFormatException(string message) : Exception(message);
