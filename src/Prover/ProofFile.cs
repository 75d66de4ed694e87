using System.Buffers.Binary;
using System.Text;
using Keel.Core;
using Keel.Core.Field;
using Keel.Prover.Air;
using Keel.Prover.Examples;
using Keel.Prover.Stark;

namespace Keel.Prover;

/// <summary>
/// A proof with the statement it proves, as written by `keel prove` and read by `keel verify`:
/// magic "KPRF", u16 version, u8 AIR name length + name (UTF-8), u32 trace length, u16 public
/// input count + inputs (u64 each), the prover's 20-byte address, u32 proof length + proof bytes.
/// The verifier rebuilds the AIR from name, length and public inputs (<see cref="AirCatalog"/>).
/// </summary>
public sealed record ProofFile(string AirName, int TraceLength, ulong[] PublicInputs, Address Prover, byte[] Proof)
{
    public const ushort Version = 1;
    public const int MaxPublicInputs = AirContext.MaxPublicInputs;
    public const int MaxFileBytes = StarkProof.MaxProofBytes + 64 * 1024;

    private static readonly byte[] Magic = "KPRF"u8.ToArray();

    public byte[] ToBytes()
    {
        var name = Encoding.UTF8.GetBytes(AirName);
        if (name.Length > AirContext.MaxNameBytes || PublicInputs.Length > MaxPublicInputs)
        {
            throw new InvalidOperationException("AIR name or public inputs exceed their limits");
        }
        var size = 4 + 2 + 1 + name.Length + 4 + 2 + 8 * PublicInputs.Length + Address.Size + 4 + Proof.Length;
        var bytes = new byte[size];
        var s = bytes.AsSpan();
        Magic.CopyTo(s);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], Version);
        s[6] = (byte)name.Length;
        name.CopyTo(s[7..]);
        var o = 7 + name.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(s[o..], (uint)TraceLength);
        BinaryPrimitives.WriteUInt16LittleEndian(s[(o + 4)..], (ushort)PublicInputs.Length);
        o += 6;
        foreach (var v in PublicInputs)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(s[o..], v);
            o += 8;
        }
        Prover.Bytes.CopyTo(s[o..]);
        o += Address.Size;
        BinaryPrimitives.WriteUInt32LittleEndian(s[o..], (uint)Proof.Length);
        Proof.CopyTo(s[(o + 4)..]);
        return bytes;
    }

    public static ProofFile FromBytes(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxFileBytes)
        {
            throw new ProofFormatException($"proof file of {data.Length} bytes exceeds {MaxFileBytes}");
        }
        var o = 0;
        ReadOnlySpan<byte> Take(ReadOnlySpan<byte> d, int count)
        {
            if (count < 0 || count > d.Length - o)
            {
                throw new ProofFormatException($"proof file truncated at byte {o}");
            }
            var span = d.Slice(o, count);
            o += count;
            return span;
        }
        if (!Take(data, 4).SequenceEqual(Magic))
        {
            throw new ProofFormatException("not a Keel proof file (bad magic)");
        }
        var version = BinaryPrimitives.ReadUInt16LittleEndian(Take(data, 2));
        if (version != Version)
        {
            throw new ProofFormatException($"proof file version {version} is not supported");
        }
        var nameLength = Take(data, 1)[0];
        string name;
        try
        {
            name = new UTF8Encoding(false, true).GetString(Take(data, nameLength));
        }
        catch (DecoderFallbackException)
        {
            throw new ProofFormatException("AIR name is not UTF-8");
        }
        var traceLength = BinaryPrimitives.ReadUInt32LittleEndian(Take(data, 4));
        if (traceLength > 1u << AirContext.MaxLogTraceLength)
        {
            throw new ProofFormatException($"trace length {traceLength} out of range");
        }
        var count = BinaryPrimitives.ReadUInt16LittleEndian(Take(data, 2));
        if (count > MaxPublicInputs)
        {
            throw new ProofFormatException($"{count} public inputs exceed {MaxPublicInputs}");
        }
        var publics = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            publics[i] = BinaryPrimitives.ReadUInt64LittleEndian(Take(data, 8));
            if (!Goldilocks.IsCanonical(publics[i]))
            {
                throw new ProofFormatException($"public input {i} is not a canonical field element");
            }
        }
        var prover = Address.FromBytes(Take(data, Address.Size));
        var proofLength = BinaryPrimitives.ReadUInt32LittleEndian(Take(data, 4));
        if (proofLength > StarkProof.MaxProofBytes)
        {
            throw new ProofFormatException($"proof of {proofLength} bytes exceeds {StarkProof.MaxProofBytes}");
        }
        var proof = Take(data, (int)proofLength).ToArray();
        if (o != data.Length)
        {
            throw new ProofFormatException($"{data.Length - o} bytes after the end of the proof file");
        }
        return new ProofFile(name, (int)traceLength, publics, prover, proof);
    }
}

/// <summary>The AIRs a proof file may name, rebuilt from (trace length, public inputs).</summary>
public static class AirCatalog
{
    public static IReadOnlyList<string> Names { get; } = [FibonacciAir.AirName, Poseidon2ChainAir.AirName, Poseidon2ChainAir.AirName12, Transfer.TransferAir.AirName];

    /// <summary>Throws <see cref="ProofFormatException"/> for an unknown name or inputs that do not fit it.</summary>
    public static IAir Create(string name, int traceLength, ulong[] publicInputs)
    {
        try
        {
            switch (name)
            {
                case FibonacciAir.AirName when publicInputs.Length == 1:
                    return new FibonacciAir(traceLength, publicInputs[0]);
                case Poseidon2ChainAir.AirName when publicInputs.Length == 16 && traceLength % Poseidon2ChainAir.CycleRows == 0:
                case Poseidon2ChainAir.AirName12 when publicInputs.Length == 24 && traceLength % Poseidon2ChainAir.CycleRows == 0:
                    var half = publicInputs.Length / 2;
                    return new Poseidon2ChainAir(traceLength / Poseidon2ChainAir.CycleRows, publicInputs[..half], publicInputs[half..]);
                case Transfer.TransferAir.AirName:
                    var transfer = new Transfer.TransferAir(publicInputs);
                    if (transfer.TraceLength != traceLength)
                    {
                        throw new ProofFormatException($"a {transfer.Statement.Count}-transfer statement has {transfer.TraceLength} rows, the file says {traceLength}");
                    }
                    return transfer;
            }
        }
        catch (AirDefinitionException e)
        {
            throw new ProofFormatException($"statement does not define a valid {name} AIR: {e.Message}");
        }
        throw new ProofFormatException($"unknown AIR '{name}' or wrong public inputs for it (known: {string.Join(", ", Names)})");
    }
}
