using Keel.Core.Ethereum;
using System.Text.Json.Nodes;

namespace Keel.Node.Rpc;

/// <summary>
/// JSON-RPC error codes: the five of JSON-RPC 2.0, the Ethereum server range of EIP-1474 and the
/// codes geth uses where clients look for them (3 for a revert, -32002 for a timeout).
/// </summary>
public static class RpcErrorCodes
{
    /// <summary>The body is not JSON.</summary>
    public const int ParseError = -32700;
    /// <summary>JSON, but not a request object (also: empty batch, batch or body too large).</summary>
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    /// <summary>A bug or an unexpected failure inside the node; details go to the log, not the client.</summary>
    public const int InternalError = -32603;

    /// <summary>Generic server error: the txpool rejections ("nonce too low", ...) use it, as geth does.</summary>
    public const int ServerError = -32000;
    public const int ResourceNotFound = -32001;
    /// <summary>Resource unavailable; geth (and Keel) answer a request that ran out of time with it.</summary>
    public const int RequestTimedOut = -32002;
    public const int TransactionRejected = -32003;
    /// <summary>The method exists but not on this transport (eth_subscribe over HTTP).</summary>
    public const int MethodNotSupported = -32004;
    /// <summary>A per-connection limit: too many subscriptions, too many connections.</summary>
    public const int LimitExceeded = -32005;
    /// <summary>eth_call / eth_estimateGas hit a REVERT; data carries the revert bytes.</summary>
    public const int ExecutionReverted = 3;
}

/// <summary>
/// What a handler throws to answer with a JSON-RPC error. The message is sent to the client as
/// is, so it must not contain secrets or stack traces; <paramref name="data"/> is optional detail
/// (revert data, the offending value).
/// </summary>
public class RpcException(int code, string message, JsonNode? data = null) : Exception(message)
{
    public int Code { get; } = code;
    public JsonNode? ErrorData { get; } = data;
}

/// <summary>
/// The errors handlers throw, with the wording Ethereum clients and wallets match on (ethers maps
/// "nonce too low", "insufficient funds", "replacement transaction underpriced" and "already
/// known" to its own error kinds by substring, so keep these texts as they are).
/// </summary>
public static class RpcErrors
{
    public static RpcException InvalidParams(string message) => new(RpcErrorCodes.InvalidParams, message);
    public static RpcException InvalidRequest(string message) => new(RpcErrorCodes.InvalidRequest, message);
    public static RpcException MethodNotFound(string method) =>
        new(RpcErrorCodes.MethodNotFound, $"the method {method} does not exist/is not available");
    public static RpcException ResourceNotFound(string message) => new(RpcErrorCodes.ResourceNotFound, message);
    public static RpcException LimitExceeded(string message) => new(RpcErrorCodes.LimitExceeded, message);
    public static RpcException MethodNotSupported(string message) => new(RpcErrorCodes.MethodNotSupported, message);

    public static RpcException NonceTooLow(ulong next, ulong given) =>
        new(RpcErrorCodes.ServerError, $"nonce too low: next nonce {next}, tx nonce {given}");
    public static RpcException NonceTooHigh(ulong next, ulong given) =>
        new(RpcErrorCodes.ServerError, $"nonce too high: next nonce {next}, tx nonce {given}");
    public static RpcException InsufficientFunds(string balance, string cost) =>
        new(RpcErrorCodes.ServerError, $"insufficient funds for gas * price + value: balance {balance}, tx cost {cost}");
    public static RpcException Underpriced(string detail) =>
        new(RpcErrorCodes.ServerError, $"transaction underpriced: {detail}");
    public static RpcException ReplacementUnderpriced() =>
        new(RpcErrorCodes.ServerError, "replacement transaction underpriced");
    public static RpcException AlreadyKnown() => new(RpcErrorCodes.ServerError, "already known");
    public static RpcException IntrinsicGasTooLow(ulong needed, ulong given) =>
        new(RpcErrorCodes.ServerError, $"intrinsic gas too low: have {given}, want {needed}");
    public static RpcException GasLimitExceeded(ulong limit, ulong given) =>
        new(RpcErrorCodes.ServerError, $"exceeds block gas limit: tx gas {given}, limit {limit}");
    public static RpcException WrongChainId(ulong expected, ulong given) =>
        new(RpcErrorCodes.InvalidParams, $"invalid chain id: have {given}, want {expected}");
    /// <summary>Rejected for a reason that is not one of the txpool's (malformed, unsupported type).</summary>
    public static RpcException TransactionRejected(string reason) =>
        new(RpcErrorCodes.TransactionRejected, $"transaction rejected: {reason}");
    public static RpcException ExecutionReverted(ReadOnlySpan<byte> revertData) =>
        new(RpcErrorCodes.ExecutionReverted, "execution reverted", JsonValue.Create(RpcHex.EncodeData(revertData)));

    /// <summary>
    /// A call the chain cannot execute, answered as geth answers a revert with a reason: code 3,
    /// "execution reverted: reason", and Error(string) revert data. Wallet libraries decode that data
    /// and show the reason; without it ethers reports only "missing revert data".
    /// </summary>
    public static RpcException ExecutionRevertedWithReason(string reason) =>
        new(RpcErrorCodes.ExecutionReverted, $"execution reverted: {reason}",
            JsonValue.Create(RpcHex.EncodeData(new AbiEncoder().String(reason).ToCalldata("Error(string)"))));
}
