using Keel.Core;
using Keel.Prover.Examples;
using Keel.Prover.Stark;

namespace Keel.Prover.Tests;

public class ProofFileTests
{
    private static readonly Address Prover = Address.Parse("0x00000000000000000000000000000000000000cc");

    [Fact]
    public void Round_trips_and_rebuilds_the_air()
    {
        var file = new ProofFile(FibonacciAir.AirName, 64, [12345], Prover, [1, 2, 3]);
        var back = ProofFile.FromBytes(file.ToBytes());
        Assert.Equal(file.AirName, back.AirName);
        Assert.Equal(file.TraceLength, back.TraceLength);
        Assert.Equal(file.PublicInputs, back.PublicInputs);
        Assert.Equal(file.Prover, back.Prover);
        Assert.Equal(file.Proof, back.Proof);
        var air = AirCatalog.Create(back.AirName, back.TraceLength, back.PublicInputs);
        Assert.Equal(12345UL, ((FibonacciAir)air).Result);
        Assert.IsType<Poseidon2ChainAir>(AirCatalog.Create(Poseidon2ChainAir.AirName, 128, new ulong[16]));
    }

    [Fact]
    public void Malformed_files_and_unknown_statements_are_format_errors()
    {
        var bytes = new ProofFile(FibonacciAir.AirName, 64, [1], Prover, [9, 9]).ToBytes();
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            Assert.Throws<ProofFormatException>(() => ProofFile.FromBytes(bytes.AsSpan(0, cut)));
        }
        Assert.Throws<ProofFormatException>(() => ProofFile.FromBytes([.. bytes, 0]));
        var badMagic = (byte[])bytes.Clone();
        badMagic[0] ^= 1;
        Assert.Throws<ProofFormatException>(() => ProofFile.FromBytes(badMagic));
        Assert.Throws<ProofFormatException>(() => AirCatalog.Create("nope", 64, [1]));
        Assert.Throws<ProofFormatException>(() => AirCatalog.Create(FibonacciAir.AirName, 64, [1, 2]));
        Assert.Throws<ProofFormatException>(() => AirCatalog.Create(Poseidon2ChainAir.AirName, 100, new ulong[16]));
    }
}
