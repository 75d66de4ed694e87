namespace Keel.Core.Ethereum;

/// <summary>Bytes that are not canonical RLP, or not the RLP shape a reader expected.</summary>
public sealed class RlpException(string problem, int offset) : Exception($"RLP: {problem} at offset {offset}")
{
    /// <summary>What is wrong, without the offset.</summary>
    public string Problem { get; } = problem;

    /// <summary>Byte offset in the outermost input where the offending item starts.</summary>
    public int Offset { get; } = offset;
}
