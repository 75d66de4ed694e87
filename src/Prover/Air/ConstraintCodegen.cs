using System.Globalization;
using System.Text;

namespace Keel.Prover.Air;

/// <summary>
/// Source generators over a <see cref="ConstraintProgram"/>: one statement per SSA instruction,
/// so the GPU kernel and the Solidity evaluator are derived from the same declaration as the
/// CPU evaluator and cannot drift from it. The emitted code relies on a small prelude supplied by
/// the backend (field operations and frame accessors), named in each method's summary.
/// </summary>
public static class ConstraintCodegen
{
    /// <summary>
    /// A C-dialect function (OpenCL C / CUDA via the backend's DEVICE macro) evaluating every
    /// constraint at one row over the base field. Needs: type gl_t (64-bit unsigned), gl_add,
    /// gl_sub, gl_mul (canonical Goldilocks), and macros CUR(c), NEXT(c), PERIODIC(k), PUBLIC(k)
    /// reading the frame of the row being evaluated.
    /// </summary>
    public static string EmitC(ConstraintProgram program, string functionName)
    {
        var sb = new StringBuilder();
        sb.Append("/* Generated from the AIR's constraint declaration by Keel.Prover.Air.ConstraintCodegen; do not edit. */\n");
        sb.Append(CultureInfo.InvariantCulture, $"DEVICE void {functionName}(FRAME_PARAMS, gl_t* out)\n{{\n");
        var ins = program.Instructions;
        for (var i = 0; i < ins.Length; i++)
        {
            var op = ins[i];
            var rhs = op.Op switch
            {
                OpCode.LoadCur => $"CUR({op.A})",
                OpCode.LoadNext => $"NEXT({op.A})",
                OpCode.LoadPeriodic => $"PERIODIC({op.A})",
                OpCode.LoadPublic => $"PUBLIC({op.A})",
                OpCode.LoadConst => $"(gl_t){op.Value}UL",
                OpCode.Add => $"gl_add(r{op.A}, r{op.B})",
                OpCode.Sub => $"gl_sub(r{op.A}, r{op.B})",
                _ => $"gl_mul(r{op.A}, r{op.B})",
            };
            sb.Append(CultureInfo.InvariantCulture, $"    const gl_t r{i} = {rhs};\n");
        }
        var outputs = program.Outputs;
        for (var c = 0; c < outputs.Length; c++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"    out[{c}] = r{outputs[c]};\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>
    /// A Solidity function evaluating every constraint at the out-of-domain frame over the
    /// quadratic extension, each element packed as a0 | a1 &lt;&lt; 64 in a uint256. Needs a library
    /// GL2 with add, sub, mul, fromBase, and the frame arrays cur, next, periodic, pub (uint256[]).
    /// </summary>
    public static string EmitSolidity(ConstraintProgram program, string functionName)
    {
        var sb = new StringBuilder();
        sb.Append("// Generated from the AIR's constraint declaration by Keel.Prover.Air.ConstraintCodegen; do not edit.\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"function {functionName}(uint256[] memory cur, uint256[] memory next, uint256[] memory periodic, uint256[] memory pub) pure returns (uint256[] memory out) {{\n");
        sb.Append(CultureInfo.InvariantCulture, $"    uint256[] memory r = new uint256[]({program.Instructions.Length});\n");
        var ins = program.Instructions;
        for (var i = 0; i < ins.Length; i++)
        {
            var op = ins[i];
            var rhs = op.Op switch
            {
                OpCode.LoadCur => $"cur[{op.A}]",
                OpCode.LoadNext => $"next[{op.A}]",
                OpCode.LoadPeriodic => $"periodic[{op.A}]",
                OpCode.LoadPublic => $"GL2.fromBase(pub[{op.A}])",
                OpCode.LoadConst => $"GL2.fromBase({op.Value})",
                OpCode.Add => $"GL2.add(r[{op.A}], r[{op.B}])",
                OpCode.Sub => $"GL2.sub(r[{op.A}], r[{op.B}])",
                _ => $"GL2.mul(r[{op.A}], r[{op.B}])",
            };
            sb.Append(CultureInfo.InvariantCulture, $"    r[{i}] = {rhs};\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"    out = new uint256[]({program.Outputs.Length});\n");
        for (var c = 0; c < program.Outputs.Length; c++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"    out[{c}] = r[{program.Outputs[c]}];\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }
}
