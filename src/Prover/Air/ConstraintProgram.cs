using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Keel.Core.Field;
using Keel.Prover.Polynomials;

namespace Keel.Prover.Air;

public enum OpCode : byte
{
    LoadCur,
    LoadNext,
    LoadPeriodic,
    LoadPublic,
    LoadConst,
    Add,
    Sub,
    Mul,
}

/// <summary>One SSA step: register i is the result of instruction i. A/B are operand registers, or the column / periodic / public index for loads.</summary>
public readonly record struct Instruction(OpCode Op, int A, int B, ulong Value);

/// <summary>
/// Constraints compiled to a flat SSA instruction list with common subexpressions shared. The
/// same list drives the prover's block evaluator (one instruction over a block of rows at a time,
/// no per-row dispatch or allocation), the verifier's extension-field evaluator, and is the input
/// a GPU kernel or Solidity generator walks: one statement per instruction.
/// </summary>
public sealed class ConstraintProgram
{
    /// <summary>Bound on instructions after sharing; Poseidon2-sized AIRs need a few thousand.</summary>
    public const int MaxInstructions = 1 << 16;

    private readonly Instruction[] _instructions;
    private readonly int[] _outputs;

    public ConstraintProgram(IReadOnlyList<Expr> constraints)
    {
        var list = new List<Instruction>();
        var shared = new Dictionary<Instruction, int>();
        var memo = new Dictionary<Expr, int>(ReferenceEqualityComparer.Instance);
        int Emit(Instruction ins)
        {
            if (!shared.TryGetValue(ins, out var reg))
            {
                if (list.Count >= MaxInstructions)
                {
                    throw new AirDefinitionException($"constraints compile to more than {MaxInstructions} instructions");
                }
                reg = list.Count;
                list.Add(ins);
                shared.Add(ins, reg);
            }
            return reg;
        }
        int Compile(Expr e)
        {
            if (memo.TryGetValue(e, out var done))
            {
                return done;
            }
            // Iterative deepening would be needed only for expression trees deeper than the stack; AIR
            // expressions are a few dozen levels deep.
            var reg = e switch
            {
                ConstExpr c => Emit(new Instruction(OpCode.LoadConst, 0, 0, c.Value)),
                ColumnExpr c => Emit(new Instruction(c.IsNext ? OpCode.LoadNext : OpCode.LoadCur, c.Column, 0, 0)),
                PeriodicExpr p => Emit(new Instruction(OpCode.LoadPeriodic, p.Index, 0, 0)),
                PublicInputExpr p => Emit(new Instruction(OpCode.LoadPublic, p.Index, 0, 0)),
                BinaryExpr b => EmitBinary(b),
                _ => throw new AirDefinitionException($"unknown expression node {e.GetType().Name}"),
            };
            memo[e] = reg;
            return reg;
        }
        int EmitBinary(BinaryExpr b)
        {
            var l = Compile(b.Left);
            var r = Compile(b.Right);
            var op = b.Op switch { ExprOp.Add => OpCode.Add, ExprOp.Sub => OpCode.Sub, _ => OpCode.Mul };
            // Commutative operands in a fixed order so that a*b and b*a share a register.
            if (op != OpCode.Sub && l > r)
            {
                (l, r) = (r, l);
            }
            return Emit(new Instruction(op, l, r, 0));
        }
        _outputs = new int[constraints.Count];
        for (var i = 0; i < constraints.Count; i++)
        {
            _outputs[i] = Compile(constraints[i] ?? throw new AirDefinitionException($"constraint {i} is null"));
        }
        _instructions = [.. list];
    }

    public ReadOnlySpan<Instruction> Instructions => _instructions;

    /// <summary>Register holding each constraint's value.</summary>
    public ReadOnlySpan<int> Outputs => _outputs;

    public int ConstraintCount => _outputs.Length;

    /// <summary>A canonical encoding, absorbed into the transcript so a proof is bound to the exact constraints.</summary>
    public byte[] Serialize()
    {
        var bytes = new byte[8 + _instructions.Length * 17 + _outputs.Length * 4];
        var s = bytes.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(s, _instructions.Length);
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], _outputs.Length);
        var o = 8;
        foreach (var ins in _instructions)
        {
            s[o] = (byte)ins.Op;
            BinaryPrimitives.WriteInt32LittleEndian(s[(o + 1)..], ins.A);
            BinaryPrimitives.WriteInt32LittleEndian(s[(o + 5)..], ins.B);
            BinaryPrimitives.WriteUInt64LittleEndian(s[(o + 9)..], ins.Value);
            o += 17;
        }
        foreach (var r in _outputs)
        {
            BinaryPrimitives.WriteInt32LittleEndian(s[o..], r);
            o += 4;
        }
        return bytes;
    }

    /// <summary>Evaluates every constraint at one extension-field frame (the verifier's out-of-domain check).</summary>
    public GoldilocksExt2[] EvaluateAt(ReadOnlySpan<GoldilocksExt2> current, ReadOnlySpan<GoldilocksExt2> next, ReadOnlySpan<GoldilocksExt2> periodic, IReadOnlyList<ulong> publicInputs)
    {
        var regs = new GoldilocksExt2[_instructions.Length];
        for (var i = 0; i < _instructions.Length; i++)
        {
            var ins = _instructions[i];
            regs[i] = ins.Op switch
            {
                OpCode.LoadCur => current[ins.A],
                OpCode.LoadNext => next[ins.A],
                OpCode.LoadPeriodic => periodic[ins.A],
                OpCode.LoadPublic => GoldilocksExt2.FromBase(publicInputs[ins.A]),
                OpCode.LoadConst => GoldilocksExt2.FromBase(ins.Value),
                OpCode.Add => GoldilocksExt2.Add(regs[ins.A], regs[ins.B]),
                OpCode.Sub => GoldilocksExt2.Sub(regs[ins.A], regs[ins.B]),
                _ => GoldilocksExt2.Mul(regs[ins.A], regs[ins.B]),
            };
        }
        var result = new GoldilocksExt2[_outputs.Length];
        for (var c = 0; c < _outputs.Length; c++)
        {
            result[c] = regs[_outputs[c]];
        }
        return result;
    }
}

/// <summary>
/// Base-field evaluation of a program over a block of rows of column-major data: row r's next row
/// is r + NextStride (mod the column length), periodic column k at row r is periodic[k][r mod len].
/// SSA registers are mapped onto a few reused slots (a register's slot is freed after its last
/// read), so the register file of a wide AIR stays in the L1/L2 cache instead of streaming
/// megabytes per block. One instance per thread: it owns the register file.
/// </summary>
public sealed unsafe class BlockEvaluator
{
    /// <summary>Rows per block: large enough to amortize the per-instruction loop, small enough for the register file to stay in cache.</summary>
    public const int BlockRows = 128;

    private readonly ConstraintProgram _program;
    private readonly int[] _slot;          // physical slot of each instruction's register
    private readonly int[]?[] _outputsAt;  // constraints whose value instruction i produces
    private readonly ulong[] _regs;        // pinned: slots * BlockRows
    private readonly ulong[] _sums;        // pinned: 6 * BlockRows lazy sums (lo, hi, top) for A0 and A1
    private readonly nint[] _source;       // where instruction i's values for the current block are: its slot, or the column itself

    public BlockEvaluator(ConstraintProgram program)
    {
        _program = program;
        var ins = program.Instructions;
        var lastUse = new int[ins.Length];
        Array.Fill(lastUse, -1);
        for (var i = 0; i < ins.Length; i++)
        {
            if (ins[i].Op is OpCode.Add or OpCode.Sub or OpCode.Mul)
            {
                lastUse[ins[i].A] = i;
                lastUse[ins[i].B] = i;
            }
        }
        _slot = new int[ins.Length];
        var free = new Stack<int>();
        var slots = 0;
        for (var i = 0; i < ins.Length; i++)
        {
            _slot[i] = free.Count > 0 ? free.Pop() : slots++;
            if (ins[i].Op is OpCode.Add or OpCode.Sub or OpCode.Mul)
            {
                if (lastUse[ins[i].A] == i)
                {
                    free.Push(_slot[ins[i].A]);
                }
                if (ins[i].B != ins[i].A && lastUse[ins[i].B] == i)
                {
                    free.Push(_slot[ins[i].B]);
                }
            }
            if (lastUse[i] < 0)
            {
                // Never read: only an output; handled within instruction i, so the slot is free after it.
                free.Push(_slot[i]);
            }
        }
        SlotCount = Math.Max(1, slots);
        var outputs = program.Outputs;
        var lists = new List<int>?[ins.Length];
        for (var c = 0; c < outputs.Length; c++)
        {
            (lists[outputs[c]] ??= []).Add(c);
        }
        _outputsAt = new int[]?[ins.Length];
        for (var i = 0; i < ins.Length; i++)
        {
            _outputsAt[i] = lists[i]?.ToArray();
        }
        _regs = GC.AllocateArray<ulong>(SlotCount * BlockRows, pinned: true);
        _source = new nint[ins.Length];
        _sums = GC.AllocateArray<ulong>(6 * BlockRows, pinned: true);
    }

    /// <summary>Register slots after reuse (the register file is SlotCount x BlockRows words).</summary>
    public int SlotCount { get; }

    /// <summary>Writes constraint c at row start+r to output[c * BlockRows + r] for r &lt; count (count &lt;= BlockRows).</summary>
    public void Evaluate(IReadOnlyList<ulong[]> columns, int nextStride, IReadOnlyList<ulong[]> periodic, IReadOnlyList<ulong> publicInputs, int start, int count, Span<ulong> output)
    {
        if (count > BlockRows || output.Length < _program.ConstraintCount * BlockRows)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        fixed (ulong* o = output)
        {
            Run(columns, null, nextStride, periodic, publicInputs, start, count, o, null, null);
        }
    }

    /// <summary>
    /// The random linear combination sum_c coefficient_c * C_c(row) for rows start..start+count-1,
    /// with extension coefficients given as base pairs: writes its coordinates to sumA0[r], sumA1[r].
    /// </summary>
    /// <param name="pinnedColumns">Optional: the address of each column's first element, pinned by the caller for the call; column loads then read in place instead of copying.</param>
    public void EvaluateCombined(IReadOnlyList<ulong[]> columns, int nextStride, IReadOnlyList<ulong[]> periodic, IReadOnlyList<ulong> publicInputs, int start, int count,
        ReadOnlySpan<ulong> coefficientsA0, ReadOnlySpan<ulong> coefficientsA1, Span<ulong> sumA0, Span<ulong> sumA1, nint[]? pinnedColumns = null)
    {
        if (pinnedColumns is not null && pinnedColumns.Length != columns.Count)
        {
            throw new ArgumentException("one pinned address per column", nameof(pinnedColumns));
        }
        var constraints = _program.ConstraintCount;
        if (count > BlockRows || coefficientsA0.Length < constraints || coefficientsA1.Length < constraints || sumA0.Length < count || sumA1.Length < count)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        Array.Clear(_sums);
        fixed (ulong* c0 = coefficientsA0)
        fixed (ulong* c1 = coefficientsA1)
        {
            Run(columns, pinnedColumns, nextStride, periodic, publicInputs, start, count, null, c0, c1);
        }
        fixed (ulong* sums = _sums)
        {
            for (var r = 0; r < count; r++)
            {
                if (GoldilocksX8.IsSupported)
                {
                    // Vector path: canonical running sums in the first two rows of the buffer.
                    sumA0[r] = sums[r];
                    sumA1[r] = sums[BlockRows + r];
                }
                else
                {
                    sumA0[r] = Accumulator.Reduce(sums[2 * BlockRows + r], sums[BlockRows + r], sums[r]);
                    sumA1[r] = Accumulator.Reduce(sums[5 * BlockRows + r], sums[4 * BlockRows + r], sums[3 * BlockRows + r]);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(IReadOnlyList<ulong[]> columns, nint[]? pinned, int nextStride, IReadOnlyList<ulong[]> periodic, IReadOnlyList<ulong> publicInputs, int start, int count,
        ulong* output, ulong* coefficientsA0, ulong* coefficientsA1)
    {
        var ins = _program.Instructions;
        fixed (ulong* regs = _regs)
        fixed (ulong* sums = _sums)
        fixed (nint* source = _source)
        {
            for (var i = 0; i < ins.Length; i++)
            {
                var dst = regs + _slot[i] * BlockRows;
                var op = ins[i];
                switch (op.Op)
                {
                    case OpCode.LoadCur:
                        if (pinned is not null)
                        {
                            dst = (ulong*)pinned[op.A] + start;
                            break;
                        }
                        columns[op.A].AsSpan(start, count).CopyTo(new Span<ulong>(dst, count));
                        break;
                    case OpCode.LoadNext:
                    {
                        var col = columns[op.A];
                        var n = col.Length;
                        var from = start + nextStride;
                        if (from + count <= n && pinned is not null)
                        {
                            dst = (ulong*)pinned[op.A] + from;
                        }
                        else if (from + count <= n)
                        {
                            col.AsSpan(from, count).CopyTo(new Span<ulong>(dst, count));
                        }
                        else
                        {
                            for (var r = 0; r < count; r++)
                            {
                                dst[r] = col[(from + r) & (n - 1)];
                            }
                        }
                        break;
                    }
                    case OpCode.LoadPeriodic:
                    {
                        var p = periodic[op.A];
                        var mask = p.Length - 1;
                        for (var r = 0; r < count; r++)
                        {
                            dst[r] = p[(start + r) & mask];
                        }
                        break;
                    }
                    case OpCode.LoadPublic:
                        new Span<ulong>(dst, count).Fill(publicInputs[op.A]);
                        break;
                    case OpCode.LoadConst:
                        new Span<ulong>(dst, count).Fill(op.Value);
                        break;
                    case OpCode.Add:
                    {
                        var a = (ulong*)source[op.A];
                        var b = (ulong*)source[op.B];
                        var r = 0;
                        if (GoldilocksX8.IsSupported)
                        {
                            for (; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
                            {
                                Vector512.Store(GoldilocksX8.Add(Vector512.Load(a + r), Vector512.Load(b + r)), dst + r);
                            }
                        }
                        for (; r < count; r++)
                        {
                            dst[r] = Goldilocks.Add(a[r], b[r]);
                        }
                        break;
                    }
                    case OpCode.Sub:
                    {
                        var a = (ulong*)source[op.A];
                        var b = (ulong*)source[op.B];
                        var r = 0;
                        if (GoldilocksX8.IsSupported)
                        {
                            for (; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
                            {
                                Vector512.Store(GoldilocksX8.Sub(Vector512.Load(a + r), Vector512.Load(b + r)), dst + r);
                            }
                        }
                        for (; r < count; r++)
                        {
                            dst[r] = Goldilocks.Sub(a[r], b[r]);
                        }
                        break;
                    }
                    default:
                    {
                        var a = (ulong*)source[op.A];
                        var b = (ulong*)source[op.B];
                        var r = 0;
                        if (GoldilocksX8.IsSupported)
                        {
                            for (; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
                            {
                                Vector512.Store(GoldilocksX8.Mul(Vector512.Load(a + r), Vector512.Load(b + r)), dst + r);
                            }
                        }
                        for (; r < count; r++)
                        {
                            dst[r] = Goldilocks.Mul(a[r], b[r]);
                        }
                        break;
                    }
                }
                source[i] = (nint)dst;
                var produced = _outputsAt[i];
                if (produced is null)
                {
                    continue;
                }
                foreach (var c in produced)
                {
                    if (output != null)
                    {
                        Buffer.MemoryCopy(dst, output + c * BlockRows, count * 8L, count * 8L);
                        continue;
                    }
                    var k0 = coefficientsA0[c];
                    var k1 = coefficientsA1[c];
                    if (GoldilocksX8.IsSupported)
                    {
                        var r = 0;
                        var v0 = Vector512.Create(k0);
                        var v1 = Vector512.Create(k1);
                        for (; r + GoldilocksX8.Lanes <= count; r += GoldilocksX8.Lanes)
                        {
                            var v = Vector512.Load(dst + r);
                            Vector512.Store(GoldilocksX8.Add(Vector512.Load(sums + r), GoldilocksX8.Mul(v0, v)), sums + r);
                            Vector512.Store(GoldilocksX8.Add(Vector512.Load(sums + BlockRows + r), GoldilocksX8.Mul(v1, v)), sums + BlockRows + r);
                        }
                        for (; r < count; r++)
                        {
                            sums[r] = Goldilocks.Add(sums[r], Goldilocks.Mul(k0, dst[r]));
                            sums[BlockRows + r] = Goldilocks.Add(sums[BlockRows + r], Goldilocks.Mul(k1, dst[r]));
                        }
                        continue;
                    }
                    for (var r = 0; r < count; r++)
                    {
                        var v = dst[r];
                        Accumulator.MulAdd(sums + r, sums + BlockRows + r, sums + 2 * BlockRows + r, k0, v);
                        Accumulator.MulAdd(sums + 3 * BlockRows + r, sums + 4 * BlockRows + r, sums + 5 * BlockRows + r, k1, v);
                    }
                }
            }
        }
    }
}
