using Keel.Node.Cli;

namespace Keel.Node;

public static class Program
{
    public static Task<int> Main(string[] args) => KeelCli.Build().Parse(args).InvokeAsync();
}
