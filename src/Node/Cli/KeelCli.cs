using System.CommandLine;

namespace Keel.Node.Cli;

/// <summary>
/// The `keel` command tree. Each area adds its commands through one factory here so that the
/// tree is readable in one place; the commands themselves live beside this file.
/// </summary>
public static class KeelCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Keel: a shared-sequencer L2 devnet node (BFT sequencer, libp2p, STARK prover, L1 settlement).");
        root.Subcommands.Add(BenchCommands.Create());
        root.Subcommands.Add(KeysCommands.Create());
        root.Subcommands.Add(HashCommands.Create());
        root.Subcommands.Add(SimCommands.Create());
        ProverCommands.AddTo(root);
        root.Subcommands.Add(RollupCommands.Create());
        root.Subcommands.Add(DbCommands.Create());
        root.Subcommands.Add(P2pCommands.Create());
        return root;
    }
}
