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
/// With two lanes it proves an update instead: old leaf to old root and new leaf to new root
/// along the same path (the shape of every account change of a transfer).
///
/// Columns: sibling b0..b3, the level's address bit, acc (the address limb accumulated so far),
/// then per lane the permutation state s0..s7 and the running node n0..n3. Each level is one
/// 32-row <see cref="Poseidon2Gadget"/> cycle: row 0 loads (node, sibling) or (sibling, node)
/// into the state, row 30 holds the permutation's output, and the transition from row 31 carries
/// its first four elements into the next level's node. 160 levels are padded to 256 (8192 rows).
/// Public inputs: address limbs (5), then per lane leaf digest (4) and root (4).
/// </summary>
public sealed class MerklePathAir : IAir
{
    public const string OpeningName = "merkle-path-v1";
    public const string UpdateName = "merkle-update-v1";
    public const int Depth = 160;
    public const int AddressLimbs = 5;
    public const int LimbBits = 32;

    // Shared columns first (sibling, bit, acc), then per lane: state s0..s7 and node n0..n3.
    private const int B0 = 0;
    private const int Bit = 4;
    private const int Acc = 5;
    private const int SharedColumns = 6;
    private const int LaneColumns = 12;

    private static int S0(int lane) => SharedColumns + lane * LaneColumns;

    private static int N0(int lane) => S0(lane) + 8;

    private const int CycleRows = Poseidon2Gadget.CycleRows;
    private const int Levels = 256;

    // Periodic columns after the gadget's: level start (row 0), within-level (rows 0..30),
    // limb start (row 0 of levels 32k), limb step (row 31 of levels not ending a limb) and its weight.
    private const int First = Poseidon2Gadget.SelectorColumns + 8;
    private const int Hold = First + 1;
    private const int LimbFirst = First + 2;
    private const int StepSelect = First + 3;
    private const int StepWeight = First + 4;

    private static readonly Poseidon2Gadget Gadget = new(0, copyAtRow31: false);

    private static int[] StateColumns(int lane) => [.. Enumerable.Range(S0(lane), 8)];

    /// <summary>An opening: <paramref name="leaf"/> is at the address in the tree with <paramref name="root"/>.</summary>
    public MerklePathAir(ReadOnlySpan<ulong> addressLimbs, ReadOnlySpan<ulong> leaf, ReadOnlySpan<ulong> root)
        : this(addressLimbs, [leaf.ToArray()], [root.ToArray()])
    {
    }

    /// <summary>
    /// An update: the same address and siblings take <paramref name="oldLeaf"/> to <paramref name="oldRoot"/>
    /// and <paramref name="newLeaf"/> to <paramref name="newRoot"/> (one account changed, nothing else).
    /// </summary>
    public MerklePathAir(ReadOnlySpan<ulong> addressLimbs, ReadOnlySpan<ulong> oldLeaf, ReadOnlySpan<ulong> oldRoot, ReadOnlySpan<ulong> newLeaf, ReadOnlySpan<ulong> newRoot)
        : this(addressLimbs, [oldLeaf.ToArray(), newLeaf.ToArray()], [oldRoot.ToArray(), newRoot.ToArray()])
    {
    }

    private MerklePathAir(ReadOnlySpan<ulong> addressLimbs, ulong[][] leaves, ulong[][] roots)
    {
        Lanes = leaves.Length;
        if (addressLimbs.Length != AddressLimbs || leaves.Any(l => l.Length != 4) || roots.Any(r => r.Length != 4))
        {
            throw new AirDefinitionException("a path statement is 5 address limbs and 4-element leaves and roots");
        }
        foreach (var limb in addressLimbs)
        {
            if (limb >> LimbBits != 0)
            {
                throw new AirDefinitionException($"address limb {limb} exceeds 32 bits");
            }
        }
        var publics = new List<ulong>(addressLimbs.ToArray());
        var assertions = new List<Assertion>();
        for (var lane = 0; lane < Lanes; lane++)
        {
            publics.AddRange(leaves[lane]);
            publics.AddRange(roots[lane]);
            for (var i = 0; i < 4; i++)
            {
                assertions.Add(new Assertion(N0(lane) + i, 0, leaves[lane][i]));
                assertions.Add(new Assertion(S0(lane) + i, (Depth - 1) * CycleRows + CycleRows - 2, roots[lane][i]));
            }
        }
        PublicInputs = publics;
        for (var k = 0; k < AddressLimbs; k++)
        {
            assertions.Add(new Assertion(Acc, (k * LimbBits + LimbBits - 1) * CycleRows, addressLimbs[k]));
        }
        Assertions = assertions;
        PeriodicColumns = BuildPeriodicColumns();
        TransitionConstraints = BuildConstraints(Lanes);
    }

    /// <summary>1 for an opening, 2 for an update.</summary>
    public int Lanes { get; }

    public string Name => Lanes == 1 ? OpeningName : UpdateName;
    public int TraceWidth => SharedColumns + Lanes * LaneColumns;
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

    private static Expr[] BuildConstraints(int lanes)
    {
        var list = new List<Expr>();
        Expr P(int k) => Expr.Periodic(k);
        var bit = Expr.Cur(Bit);
        for (var lane = 0; lane < lanes; lane++)
        {
            list.AddRange(Gadget.Constraints(StateColumns(lane)));
            for (var i = 0; i < 4; i++)
            {
                // Row 0 of a level: (node, sibling) when the bit is 0, (sibling, node) when it is 1.
                var node = Expr.Cur(N0(lane) + i);
                var sibling = Expr.Cur(B0 + i);
                list.Add(P(First) * (Expr.Cur(S0(lane) + i) - node - bit * (sibling - node)));
                list.Add(P(First) * (Expr.Cur(S0(lane) + 4 + i) - sibling - bit * (node - sibling)));
                // Within a level the node holds; from row 31 the permutation's output becomes the next node.
                list.Add(P(Hold) * (Expr.Next(N0(lane) + i) - node));
                list.Add((1 - P(Hold)) * (Expr.Next(N0(lane) + i) - Expr.Cur(S0(lane) + i)));
            }
        }
        for (var j = B0; j <= Acc; j++)
        {
            list.Add(P(Hold) * (Expr.Next(j) - Expr.Cur(j)));
        }
        list.Add(bit * (bit - 1));
        list.Add(P(LimbFirst) * (Expr.Cur(Acc) - bit));
        list.Add(P(StepSelect) * (Expr.Next(Acc) - Expr.Cur(Acc) - P(StepWeight) * Expr.Next(Bit)));
        return [.. list];
    }

    /// <summary>
    /// The trace for an opening (one leaf) or an update (old and new leaf): <paramref name="addressBits"/>[h]
    /// is bit h of the address (0 = least significant), <paramref name="siblings"/>[h] the 4-element
    /// sibling at level h (leaf level first). Returns the root each leaf reaches.
    /// </summary>
    public static (ulong[][] Trace, ulong[][] Roots) BuildTrace(ReadOnlySpan<byte> addressBits, IReadOnlyList<ulong[]> leaves, IReadOnlyList<ulong[]> siblings)
    {
        if (addressBits.Length != Depth || siblings.Count != Depth || leaves.Count is < 1 or > 2 || leaves.Any(l => l.Length != 4))
        {
            throw new ArgumentException("an opening has 160 address bits, 160 siblings and one or two 4-element leaves");
        }
        var lanes = leaves.Count;
        var n = Levels * CycleRows;
        var trace = new ulong[SharedColumns + lanes * LaneColumns][];
        for (var c = 0; c < trace.Length; c++)
        {
            trace[c] = new ulong[n];
        }
        var nodes = leaves.Select(l => (ulong[])l.Clone()).ToArray();
        var roots = new ulong[lanes][];
        ulong acc = 0;
        var input = new ulong[8];
        for (var level = 0; level < Levels; level++)
        {
            var b = level < Depth ? addressBits[level] : (byte)0;
            if (b > 1)
            {
                throw new ArgumentException("address bits are 0 or 1");
            }
            var sibling = level < Depth ? siblings[level] : new ulong[4];
            acc = level % LimbBits == 0 ? b : acc + ((ulong)b << (level % LimbBits));
            var start = level * CycleRows;
            for (var r = 0; r < CycleRows; r++)
            {
                for (var i = 0; i < 4; i++)
                {
                    trace[B0 + i][start + r] = sibling[i];
                }
                trace[Bit][start + r] = b;
                trace[Acc][start + r] = acc;
            }
            for (var lane = 0; lane < lanes; lane++)
            {
                var node = nodes[lane];
                for (var i = 0; i < 4; i++)
                {
                    input[i] = b == 0 ? node[i] : sibling[i];
                    input[4 + i] = b == 0 ? sibling[i] : node[i];
                }
                Poseidon2Gadget.FillPermutation(trace, StateColumns(lane), start, input);
                for (var r = 0; r < CycleRows; r++)
                {
                    for (var i = 0; i < 4; i++)
                    {
                        trace[N0(lane) + i][start + r] = node[i];
                    }
                }
                for (var c = 0; c < 8; c++)
                {
                    trace[S0(lane) + c][start + CycleRows - 1] = trace[S0(lane) + c][start + CycleRows - 2];
                }
                for (var i = 0; i < 4; i++)
                {
                    node[i] = trace[S0(lane) + i][start + CycleRows - 2];
                }
                if (level == Depth - 1)
                {
                    roots[lane] = (ulong[])node.Clone();
                }
            }
        }
        return (trace, roots);
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
}
