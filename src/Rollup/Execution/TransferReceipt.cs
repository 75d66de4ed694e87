using Keel.Core;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Execution;

/// <summary>
/// The receipt of one transfer of an executed batch. Transfers emit no logs, so the logs are
/// always empty and the bloom is zero. A skipped transfer (see <see cref="Outcome"/>) has status 0,
/// uses no gas and changed nothing.
/// </summary>
public sealed record TransferReceipt(
    Hash32 TransactionHash,
    int TransactionIndex,
    byte Type,
    Address From,
    Address To,
    TransferStatus Outcome,
    ulong GasUsed,
    ulong CumulativeGasUsed,
    UInt128 EffectiveGasPrice)
{
    /// <summary>Ethereum receipt status: 1 success, 0 failure.</summary>
    public int Status => Outcome == TransferStatus.Applied ? 1 : 0;

    /// <summary>Always empty: a value transfer emits no logs.</summary>
    public IReadOnlyList<object> Logs => [];
}
