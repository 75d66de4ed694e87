using System.Reflection;

namespace Keel.Node.Tests;

/// <summary>
/// The dependency arrows of the design (docs/architecture.md) as a test: a project that reaches
/// against them fails here, not in review. Read from the compiled assemblies' references, so an
/// unused reference counts too.
/// </summary>
public class ArchitectureTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Keel.Core"] = [],
        ["Keel.Libp2p"] = ["Keel.Core"],
        ["Keel.Consensus"] = ["Keel.Core"],
        ["Keel.Rollup"] = ["Keel.Core"],
        ["Keel.Sequencer"] = ["Keel.Consensus", "Keel.Rollup", "Keel.Core"],
        ["Keel.Prover"] = ["Keel.Rollup", "Keel.Core"],
        ["keel"] = ["Keel.Core", "Keel.Libp2p", "Keel.Consensus", "Keel.Rollup", "Keel.Sequencer", "Keel.Prover"],
    };

    public static TheoryData<string> Assemblies => [.. Allowed.Keys];

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void References_follow_the_design_arrows(string name)
    {
        var assembly = Assembly.Load(name);
        var keelReferences = assembly.GetReferencedAssemblies()
            .Select(r => r.Name!)
            .Where(n => n.StartsWith("Keel.", StringComparison.Ordinal) || n == "keel")
            .ToList();
        var forbidden = keelReferences.Except(Allowed[name]).ToList();
        Assert.True(forbidden.Count == 0, $"{name} references {string.Join(", ", forbidden)}, against the design's dependency direction");
    }

    [Fact]
    public void Every_keel_assembly_in_the_output_is_covered()
    {
        var dir = Path.GetDirectoryName(typeof(ArchitectureTests).Assembly.Location)!;
        var found = Directory.GetFiles(dir, "Keel.*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => !n!.EndsWith(".Tests", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(found);
        Assert.All(found, n => Assert.True(Allowed.ContainsKey(n!), $"{n} has no entry in the allowed-dependency table"));
    }
}
