using Keel.Core.Field;
using Keel.Core.Hashing;
using Keel.Prover.Air;

namespace Keel.Prover.Transfer;

/// <summary>
/// The first piece of the transfer AIR: an opening of the rollup's account tree (docs/rollup.md
/// section 4). It proves that the leaf digest, hashed up 160 levels with Poseidon2 compressions
/// whose operand order is given by the address bits, reaches the root; and that those bits are
/// the bits of the public address (five 32-bit limbs, least significant first).
///
/// Columns: state s0..s7 (the permutation), node n0..n3 (the running digest), sibling b0..b3,
/// the level's address bit, and acc (the address limb accumulated so far). Each level is one
/// 32-row <see cref="Poseidon2Gadget"/> cycle: row 0 loads (node, sibling) or (sibling, node)
/// into the state, row 30 holds the permutation's output, and the transition from row 31 carries
/// its first four elements into the next level's node. 160 levels are padded to 256 (8192 rows).
/// Public inputs: address limbs (5), leaf digest (4), root (4).
/// </summary>
public sealed class MerklePathAir : IAir
{
    public const string AirName = "merkle-path-v1";
    public const int Depth = 160;
    public const int AddressLimbs = 5;
    public const int LimbBits = 32;
    public const int Width = 18;

    private const int S0 = 0;
    private const int N0 = 8;
    private const int B0 = 12;
    private const int Bit = 16;
    private const int Acc = 17;

    private const int CycleRows = Poseidon2Gadget.CycleRows;
    private const int Levels = 256;

    // Periodic columns after the gadget's: level start (row 0), within-level (rows 0..30),
    // limb start (row 0 of levels 32k), limb step (row 31 of levels not ending a limb) and its weight.
    private const int First = Poseidon2Gadget.PeriodicColumnCount;
    private const int Hold = First + 1;
    private const int LimbFirst = First + 2;
    private const int StepSelect = First + 3;
    private const int StepWeight = First + 4;

    private static readonly int[] StateColumns = [0, 1, 2, 3, 4, 5, 6, 7];
    private static readonly Poseidon2Gadget Gadget = new(0, copyAtRow31: false);

    public MerklePathAir(ReadOnlySpan<ulong> addressLimbs, ReadOnlySpan<ulong> leaf, ReadOnlySpan<ulong> root)
    {
        if (addressLimbs.Length != AddressLimbs || leaf.Length != 4 || root.Length != 4)
        {
            throw new AirDefinitionException("a path statement is 5 address limbs, a 4-element leaf and a 4-element root");
        }
        foreach (var limb in addressLimbs)
        {
            if (limb >> LimbBits != 0)
            {
                throw new AirDefinitionException($"address limb {limb} exceeds 32 bits");
            }
        }
        PublicInputs = [.. addressLimbs, .. leaf, .. root];
        var assertions = new List<Assertion>();
        for (var i = 0; i < 4; i++)
        {
            assertions.Add(new Assertion(N0 + i, 0, leaf[i]));
            assertions.Add(new Assertion(S0 + i, (Depth - 1) * CycleRows + CycleRows - 2, root[i]));
        }
        for (var k = 0; k < AddressLimbs; k++)
        {
            assertions.Add(new Assertion(Acc, (k * LimbBits + LimbBits - 1) * CycleRows, addressLimbs[k]));
        }
        Assertions = assertions;
        PeriodicColumns = BuildPeriodicColumns();
        TransitionConstraints = BuildConstraints();
    }

    public string Name => AirName;
    public int TraceWidth => Width;
    public int TraceLength => Levels * CycleRows;
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns { get; }

    private static ulong[][] BuildPeriodicColumns()
    {
        var columns = new List<ulong[]>(Gadget.PeriodicColumns());
        var first = new ulong[CycleRows];
        var hold = new ulong[CycleRows];
        first[0] = 1;
        for (var r = 0; r < CycleRows - 1; r++)
        {
            hold[r] = 1;
        }
        // Limb bookkeeping repeats every 32 levels = 1024 rows.
        const int limbRows = LimbBits * CycleRows;
        var limbFirst = new ulong[limbRows];
        var stepSelect = new ulong[limbRows];
        var stepWeight = new ulong[limbRows];
        limbFirst[0] = 1;
        for (var level = 0; level < LimbBits - 1; level++)
        {
            var row = level * CycleRows + CycleRows - 1;
            stepSelect[row] = 1;
            stepWeight[row] = 1UL << (level + 1);
        }
        columns.AddRange([first, hold, limbFirst, stepSelect, stepWeight]);
        return [.. columns];
    }

    private static Expr[] BuildConstraints()
    {
        var list = new List<Expr>(Gadget.Constraints(StateColumns));
        Expr P(int k) => Expr.Periodic(k);
        var bit = Expr.Cur(Bit);
        for (var i = 0; i < 4; i++)
        {
            // Row 0 of a level: (node, sibling) when the bit is 0, (sibling, node) when it is 1.
            var node = Expr.Cur(N0 + i);
            var sibling = Expr.Cur(B0 + i);
            list.Add(P(First) * (Expr.Cur(S0 + i) - node - bit * (sibling - node)));
            list.Add(P(First) * (Expr.Cur(S0 + 4 + i) - sibling - bit * (node - sibling)));
        }
        for (var j = N0; j <= Acc; j++)
        {
            list.Add(P(Hold) * (Expr.Next(j) - Expr.Cur(j)));
        }
        for (var i = 0; i < 4; i++)
        {
            // Row 31: the permutation's output becomes the next level's node.
            list.Add((1 - P(Hold)) * (Expr.Next(N0 + i) - Expr.Cur(S0 + i)));
        }
        list.Add(bit * (bit - 1));
        list.Add(P(LimbFirst) * (Expr.Cur(Acc) - bit));
        list.Add(P(StepSelect) * (Expr.Next(Acc) - Expr.Cur(Acc) - P(StepWeight) * Expr.Next(Bit)));
        return [.. list];
    }

    /// <summary>
    /// The trace for an opening: <paramref name="addressBits"/>[h] is bit h of the address (0 = least
    /// significant), <paramref name="siblings"/>[h] the 4-element sibling at level h (leaf level first).
    /// Returns the root reached.
    /// </summary>
    public static (ulong[][] Trace, ulong[] Root) BuildTrace(ReadOnlySpan<byte> addressBits, ReadOnlySpan<ulong> leaf, IReadOnlyList<ulong[]> siblings)
    {
        if (addressBits.Length != Depth || siblings.Count != Depth || leaf.Length != 4)
        {
            throw new ArgumentException("an opening has 160 address bits, 160 siblings and a 4-element leaf");
        }
        var n = Levels * CycleRows;
        var trace = new ulong[Width][];
        for (var c = 0; c < Width; c++)
        {
            trace[c] = new ulong[n];
        }
        var node = leaf.ToArray();
        ulong acc = 0;
        Span<ulong> input = stackalloc ulong[8];
        ulong[] root = [];
        for (var level = 0; level < Levels; level++)
        {
            var b = level < Depth ? addressBits[level] : (byte)0;
            if (b > 1)
            {
                throw new ArgumentException("address bits are 0 or 1");
            }
            var sibling = level < Depth ? siblings[level] : new ulong[4];
            acc = level % LimbBits == 0 ? b : acc + ((ulong)b << (level % LimbBits));
            for (var i = 0; i < 4; i++)
            {
                input[i] = b == 0 ? node[i] : sibling[i];
                input[4 + i] = b == 0 ? sibling[i] : node[i];
            }
            var start = level * CycleRows;
            Poseidon2Gadget.FillPermutation(trace, StateColumns, start, input);
            for (var r = 0; r < CycleRows; r++)
            {
                for (var i = 0; i < 4; i++)
                {
                    trace[N0 + i][start + r] = node[i];
                    trace[B0 + i][start + r] = sibling[i];
                }
                trace[Bit][start + r] = b;
                trace[Acc][start + r] = acc;
            }
            for (var c = 0; c < 8; c++)
            {
                trace[S0 + c][start + CycleRows - 1] = trace[S0 + c][start + CycleRows - 2];
            }
            for (var i = 0; i < 4; i++)
            {
                node[i] = trace[S0 + i][start + CycleRows - 2];
            }
            if (level == Depth - 1)
            {
                root = (ulong[])node.Clone();
            }
        }
        return (trace, root);
    }

    /// <summary>Reference: the root by plain compressions (what the rollup's MerklePath.ComputeRoot does).</summary>
    public static ulong[] ComputeRoot(ReadOnlySpan<byte> addressBits, ReadOnlySpan<ulong> leaf, IReadOnlyList<ulong[]> siblings)
    {
        var node = leaf.ToArray();
        for (var level = 0; level < Depth; level++)
        {
            if (addressBits[level] == 0)
            {
                Poseidon2.Compress(node, siblings[level], node);
            }
            else
            {
                Poseidon2.Compress(siblings[level], node, node);
            }
        }
        return node;
    }

    /// <summary>Canonical-element check for callers building limbs from bytes.</summary>
    internal static bool IsCanonicalDigest(ReadOnlySpan<ulong> digest)
    {
        foreach (var x in digest)
        {
            if (!Goldilocks.IsCanonical(x))
            {
                return false;
            }
        }
        return true;
    }
}
