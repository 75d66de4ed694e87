using Keel.Core;
using Keel.Rollup.Transactions;

namespace Keel.Sequencer.Tests.TestData;

/// <summary>Signed test transactions, the bytes a wallet sends to eth_sendRawTransaction.</summary>
internal sealed record TxFactory(ulong ChainId)
{
    public const ulong Gwei = 1_000_000_000;

    /// <summary>An EIP-1559 transfer from dev key <paramref name="from"/>.</summary>
    public byte[] Transfer(int from, ulong nonce, Address? to = null, UInt128? value = null, ulong maxFeeGwei = 2, ulong tipGwei = 1, ulong? chainId = null, ulong gasLimit = 21_000, byte[]? data = null) =>
        TransactionSigner.Sign(new UnsignedTransaction(2, chainId ?? ChainId, nonce, to ?? DevKeys.Address((from + 1) % DevKeys.Count),
            (UInt256)(value ?? 1_000UL), maxFeeGwei * Gwei, tipGwei * Gwei, gasLimit) { Data = data ?? [] }, DevKeys.Key(from));

    /// <summary>A legacy (EIP-155) transfer.</summary>
    public byte[] Legacy(int from, ulong nonce, Address? to = null, UInt128? value = null, ulong gasPriceGwei = 2) =>
        TransactionSigner.Sign(new UnsignedTransaction(0, ChainId, nonce, to ?? DevKeys.Address((from + 1) % DevKeys.Count),
            (UInt256)(value ?? 1_000UL), gasPriceGwei * Gwei, 0UL), DevKeys.Key(from));

    /// <summary>A transfer with exact fee caps in wei (replacement tests).</summary>
    public byte[] WithFees(int from, ulong nonce, UInt128 maxFeeWei, UInt128 tipWei, UInt128? value = null) =>
        TransactionSigner.Sign(new UnsignedTransaction(2, ChainId, nonce, DevKeys.Address((from + 1) % DevKeys.Count),
            (UInt256)(value ?? 1_000UL), (UInt256)maxFeeWei, (UInt256)tipWei), DevKeys.Key(from));
}
