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
///
/// <see cref="AccountUpdate"/> also proves the leaves: a leading 32-row cycle hashes each
/// account (balance limbs, nonce) into its leaf, H([1, bal_0..3, nonce]), with a width-12
/// <see cref="Poseidon2Gadget"/> lane, and the path starts from that output; the public inputs
/// then carry the accounts instead of the leaf digests.
/// </summary>
public sealed class MerklePathAir : IAir
{
    public const string OpeningName = "merkle-path-v1";
    public const string UpdateName = "merkle-update-v1";
    public const string AccountUpdateName = "account-update-v1";

    /// <summary>Account fields hashed into a leaf: four balance limbs and the nonce.</summary>
    public const int AccountElements = LeafPreimage.AccountElements;
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

    // With leaf hashing: the width-12 gadget's periodic columns, then the leaf cycle's last row.
    private const int Gadget12Base = StepWeight + 1;
    private static readonly Poseidon2Gadget Gadget12 = new(Gadget12Base, copyAtRow31: false, width: 12);
    private const int LeafEnd = Gadget12Base + Poseidon2Gadget.SelectorColumns + 12;
    private const int LeafLaneColumns = 12 + AccountElements;

    /// <summary>Per lane with leaf hashing: the width-12 state q0..q11, then the account a0..a4.</summary>
    private int Q0(int lane) => SharedColumns + Lanes * LaneColumns + lane * LeafLaneColumns;

    private int A0(int lane) => Q0(lane) + 12;

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

    /// <summary>
    /// An account update with the leaves proven from the accounts: <paramref name="oldAccount"/> and
    /// <paramref name="newAccount"/> are (balance limbs 0..3, nonce) of the same address, before and after.
    /// </summary>
    public static MerklePathAir AccountUpdate(ReadOnlySpan<ulong> addressLimbs, ReadOnlySpan<ulong> oldAccount, ReadOnlySpan<ulong> oldRoot, ReadOnlySpan<ulong> newAccount, ReadOnlySpan<ulong> newRoot) =>
        new(addressLimbs, [oldAccount.ToArray(), newAccount.ToArray()], [oldRoot.ToArray(), newRoot.ToArray()], hashLeaves: true);

    private MerklePathAir(ReadOnlySpan<ulong> addressLimbs, ulong[][] leaves, ulong[][] roots, bool hashLeaves = false)
    {
        Lanes = leaves.Length;
        HashesLeaves = hashLeaves;
        var leafLength = hashLeaves ? AccountElements : 4;
        if (addressLimbs.Length != AddressLimbs || leaves.Any(l => l.Length != leafLength) || roots.Any(r => r.Length != 4))
        {
            throw new AirDefinitionException($"a path statement is 5 address limbs, {leafLength}-element leaves (or accounts) and 4-element roots");
        }
        var offset = hashLeaves ? CycleRows : 0; // the leaf cycle comes first
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
            for (var i = 0; i < leafLength; i++)
            {
                assertions.Add(new Assertion(hashLeaves ? A0(lane) + i : N0(lane) + i, 0, leaves[lane][i]));
            }
            for (var i = 0; i < 4; i++)
            {
                assertions.Add(new Assertion(S0(lane) + i, offset + (Depth - 1) * CycleRows + CycleRows - 2, roots[lane][i]));
            }
        }
        PublicInputs = publics;
        for (var k = 0; k < AddressLimbs; k++)
        {
            assertions.Add(new Assertion(Acc, offset + (k * LimbBits + LimbBits - 1) * CycleRows, addressLimbs[k]));
        }
        Assertions = assertions;
        PeriodicColumns = BuildPeriodicColumns(hashLeaves);
        TransitionConstraints = BuildConstraints();
    }

    /// <summary>1 for an opening, 2 for an update.</summary>
    public int Lanes { get; }

    /// <summary>True when the leaves are hashed from accounts inside the proof.</summary>
    public bool HashesLeaves { get; }

    public string Name => HashesLeaves ? AccountUpdateName : Lanes == 1 ? OpeningName : UpdateName;
    public int TraceWidth => SharedColumns + Lanes * (LaneColumns + (HashesLeaves ? LeafLaneColumns : 0));
    public int TraceLength => Levels * CycleRows;
    public IReadOnlyList<ulong> PublicInputs { get; }
    public IReadOnlyList<Expr> TransitionConstraints { get; }
    public IReadOnlyList<Assertion> Assertions { get; }
    public IReadOnlyList<ulong[]> PeriodicColumns { get; }

    private static ulong[][] BuildPeriodicColumns(bool hashLeaves)
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
        if (hashLeaves)
        {
            // Level h sits in cycle h + 1: the limb bookkeeping moves one cycle down.
            limbFirst = Rotate(limbFirst, CycleRows);
            stepSelect = Rotate(stepSelect, CycleRows);
            stepWeight = Rotate(stepWeight, CycleRows);
        }
        columns.AddRange([first, hold, limbFirst, stepSelect, stepWeight]);
        if (hashLeaves)
        {
            columns.AddRange(Gadget12.PeriodicColumns());
            var leafEnd = new ulong[Levels * CycleRows];
            leafEnd[CycleRows - 1] = 1;
            columns.Add(leafEnd);
        }
        return [.. columns];
    }

    private static ulong[] Rotate(ulong[] values, int by)
    {
        var result = new ulong[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[(i + by) % values.Length] = values[i];
        }
        return result;
    }

    private Expr[] BuildConstraints()
    {
        var lanes = Lanes;
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
                if (!HashesLeaves)
                {
                    list.Add((1 - P(Hold)) * (Expr.Next(N0(lane) + i) - Expr.Cur(S0(lane) + i)));
                }
                else
                {
                    // After the leaf cycle the first node is the leaf hash's output instead.
                    list.Add((1 - P(Hold) - P(LeafEnd)) * (Expr.Next(N0(lane) + i) - Expr.Cur(S0(lane) + i))
                        + P(LeafEnd) * (Expr.Next(N0(lane) + i) - Expr.Cur(Q0(lane) + i)));
                }
            }
            if (HashesLeaves)
            {
                list.AddRange(Gadget12.Constraints([.. Enumerable.Range(Q0(lane), 12)]));
                // Every cycle's width-12 input is the sponge state for H([1, bal_0..3, nonce]).
                var preimage = LeafPreimage.Of<Expr>([.. Enumerable.Range(A0(lane), AccountElements).Select(Expr.Cur)], Expr.Const);
                for (var i = 0; i < 12; i++)
                {
                    list.Add(P(First) * (Expr.Cur(Q0(lane) + i) - preimage[i]));
                }
                for (var i = 0; i < AccountElements; i++)
                {
                    list.Add(Expr.Next(A0(lane) + i) - Expr.Cur(A0(lane) + i));
                }
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
        if (leaves.Count is < 1 or > 2 || leaves.Any(l => l.Length != 4))
        {
            throw new ArgumentException("one or two 4-element leaves");
        }
        return Build(addressBits, leaves, null, siblings);
    }

    /// <summary>
    /// The trace for <see cref="AccountUpdate"/>: <paramref name="accounts"/> are the old and new
    /// (balance limbs 0..3, nonce); their leaves are hashed inside the trace. Returns both roots.
    /// </summary>
    public static (ulong[][] Trace, ulong[][] Roots) BuildAccountTrace(ReadOnlySpan<byte> addressBits, IReadOnlyList<ulong[]> accounts, IReadOnlyList<ulong[]> siblings)
    {
        if (accounts.Count != 2 || accounts.Any(a => a.Length != AccountElements))
        {
            throw new ArgumentException("an account update has an old and a new account of 5 elements");
        }
        var leaves = accounts.Select(LeafOf).ToArray();
        return Build(addressBits, leaves, accounts, siblings);
    }

    /// <summary>The rollup's account leaf H([1, bal_0..3, nonce]).</summary>
    public static ulong[] LeafOf(ulong[] account) => Poseidon2.Hash([1, .. account]);

    private static (ulong[][] Trace, ulong[][] Roots) Build(ReadOnlySpan<byte> addressBits, IReadOnlyList<ulong[]> leaves, IReadOnlyList<ulong[]>? accounts, IReadOnlyList<ulong[]> siblings)
    {
        if (addressBits.Length != Depth || siblings.Count != Depth)
        {
            throw new ArgumentException("an opening has 160 address bits and 160 siblings");
        }
        var lanes = leaves.Count;
        var hashing = accounts is not null;
        var n = Levels * CycleRows;
        var width = SharedColumns + lanes * (LaneColumns + (hashing ? LeafLaneColumns : 0));
        var trace = new ulong[width][];
        for (var c = 0; c < trace.Length; c++)
        {
            trace[c] = new ulong[n];
        }
        var cycleOffset = hashing ? 1 : 0;
        var nodes = new ulong[lanes][];
        var roots = new ulong[lanes][];
        ulong acc = 0;
        var input = new ulong[8];
        for (var cycle = 0; cycle < Levels; cycle++)
        {
            var level = cycle - cycleOffset;
            var start = cycle * CycleRows;
            if (level < 0)
            {
                // The leaf cycle: the path lanes hash zeros (unconstrained filler), the leaf lanes below give the leaves.
                for (var lane = 0; lane < lanes; lane++)
                {
                    Poseidon2Gadget.FillPermutation(trace, StateColumns(lane), start, new ulong[8]);
                    for (var c = 0; c < 8; c++)
                    {
                        trace[S0(lane) + c][start + CycleRows - 1] = trace[S0(lane) + c][start + CycleRows - 2];
                    }
                    nodes[lane] = (ulong[])leaves[lane].Clone();
                }
            }
            else
            {
                if (level == 0 && !hashing)
                {
                    for (var lane = 0; lane < lanes; lane++)
                    {
                        nodes[lane] = (ulong[])leaves[lane].Clone();
                    }
                }
                var b = level < Depth ? addressBits[level] : (byte)0;
                if (b > 1)
                {
                    throw new ArgumentException("address bits are 0 or 1");
                }
                var sibling = level < Depth ? siblings[level] : new ulong[4];
                acc = level % LimbBits == 0 ? b : acc + ((ulong)b << (level % LimbBits));
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
            if (hashing)
            {
                for (var lane = 0; lane < lanes; lane++)
                {
                    // Every cycle repeats the leaf hash (its constraints are periodic); only the first is used.
                    var q0 = SharedColumns + lanes * LaneColumns + lane * LeafLaneColumns;
                    var account = accounts![lane];
                    var sponge = LeafPreimage.Of<ulong>(account, v => v);
                    Poseidon2Gadget.FillPermutation(trace, [.. Enumerable.Range(q0, 12)], start, sponge);
                    for (var c = 0; c < 12; c++)
                    {
                        trace[q0 + c][start + CycleRows - 1] = trace[q0 + c][start + CycleRows - 2];
                    }
                    for (var r = 0; r < CycleRows; r++)
                    {
                        for (var i = 0; i < AccountElements; i++)
                        {
                            trace[q0 + 12 + i][start + r] = account[i];
                        }
                    }
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
