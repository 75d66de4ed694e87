using System.Buffers.Binary;
using Keel.Core.Field;

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
/// One instance per thread: it owns the register file.
/// </summary>
public sealed class BlockEvaluator
{
    /// <summary>Rows per block: large enough to amortize the per-instruction loop, small enough for the register file to stay in cache.</summary>
    public const int BlockRows = 128;

    private readonly ConstraintProgram _program;
    private readonly ulong[] _regs;

    public BlockEvaluator(ConstraintProgram program)
    {
        _program = program;
        _regs = new ulong[program.Instructions.Length * BlockRows];
    }

    /// <summary>Writes constraint c at row start+r to output[c * BlockRows + r] for r &lt; count (count &lt;= BlockRows).</summary>
    public void Evaluate(IReadOnlyList<ulong[]> columns, int nextStride, IReadOnlyList<ulong[]> periodic, IReadOnlyList<ulong> publicInputs, int start, int count, Span<ulong> output)
    {
        if (count > BlockRows)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        var ins = _program.Instructions;
        var regs = _regs.AsSpan();
        for (var i = 0; i < ins.Length; i++)
        {
            var dst = regs.Slice(i * BlockRows, count);
            var op = ins[i];
            switch (op.Op)
            {
                case OpCode.LoadCur:
                    columns[op.A].AsSpan(start, count).CopyTo(dst);
                    break;
                case OpCode.LoadNext:
                {
                    var col = columns[op.A];
                    var n = col.Length;
                    var from = start + nextStride;
                    if (from + count <= n)
                    {
                        col.AsSpan(from, count).CopyTo(dst);
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
                    dst.Fill(publicInputs[op.A]);
                    break;
                case OpCode.LoadConst:
                    dst.Fill(op.Value);
                    break;
                case OpCode.Add:
                {
                    var a = regs.Slice(op.A * BlockRows, count);
                    var b = regs.Slice(op.B * BlockRows, count);
                    for (var r = 0; r < count; r++)
                    {
                        dst[r] = Goldilocks.Add(a[r], b[r]);
                    }
                    break;
                }
                case OpCode.Sub:
                {
                    var a = regs.Slice(op.A * BlockRows, count);
                    var b = regs.Slice(op.B * BlockRows, count);
                    for (var r = 0; r < count; r++)
                    {
                        dst[r] = Goldilocks.Sub(a[r], b[r]);
                    }
                    break;
                }
                default:
                {
                    var a = regs.Slice(op.A * BlockRows, count);
                    var b = regs.Slice(op.B * BlockRows, count);
                    for (var r = 0; r < count; r++)
                    {
                        dst[r] = Goldilocks.Mul(a[r], b[r]);
                    }
                    break;
                }
            }
        }
        var outputs = _program.Outputs;
        for (var c = 0; c < outputs.Length; c++)
        {
            regs.Slice(outputs[c] * BlockRows, count).CopyTo(output.Slice(c * BlockRows, count));
        }
    }
}
