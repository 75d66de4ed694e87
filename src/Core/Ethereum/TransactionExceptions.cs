namespace Keel.Core.Ethereum;

/// <summary>Base of the transaction errors, so that a caller can reject a transaction with one catch.</summary>
public abstract class TransactionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Bytes that are not a valid signed transaction Keel accepts: malformed or non-canonical RLP, an
/// unsupported type, a signature outside the allowed range, the wrong chain id.
/// </summary>
public sealed class TransactionDecodeException(string message, Exception? inner = null) : TransactionException(message, inner);

/// <summary>A transaction whose signature does not yield a sender, or that is not signed at all.</summary>
public sealed class TransactionSignatureException(string message) : TransactionException(message);
