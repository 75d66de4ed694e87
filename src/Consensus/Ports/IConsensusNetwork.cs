using Keel.Consensus.Model;

namespace Keel.Consensus.Ports;

/// <summary>
/// Outbound messages. Delivery is best effort (the protocol tolerates loss); a host must authenticate
/// the sending validator and hand messages back through <see cref="Engine.ConsensusNode.Handle"/>.
/// </summary>
public interface IConsensusNetwork
{
    /// <summary>To every other validator.</summary>
    void Broadcast(ConsensusMessage message);

    /// <summary>To one validator (never called with the node's own index except when another instance shares it).</summary>
    void Send(int validatorIndex, ConsensusMessage message);
}
