namespace Keel.Prover.Air;

/// <summary>An AIR that cannot be proven or verified as declared (bad indices, degrees, sizes).</summary>
public sealed class AirDefinitionException(string message) : Exception(message);
