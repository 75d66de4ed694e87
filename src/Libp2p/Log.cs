using Microsoft.Extensions.Logging;

namespace Keel.Libp2p;

/// <summary>
/// Every log line of the stack, source-generated so that a disabled level costs a check and
/// nothing else (no boxing, no argument arrays) on the paths peers can drive.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "identify with {Peer} failed: {Reason}")]
    public static partial void IdentifyFailed(ILogger log, PeerId peer, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "identified {Peer}: {Agent}, {Count} protocols")]
    public static partial void Identified(ILogger log, PeerId peer, string agent, int count);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "request from {Peer} refused: {Reason}")]
    public static partial void RequestRefused(ILogger log, PeerId peer, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "malformed request from {Peer}: {Reason}")]
    public static partial void MalformedRequest(ILogger log, PeerId peer, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "handler for {Method} failed: {Reason}")]
    public static partial void RequestHandlerFailed(ILogger log, string method, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "handler for {Method} produced {Size} bytes, above {Max}")]
    public static partial void ResponseTooLarge(ILogger log, string method, int size, int max);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "{Handler} failed")]
    public static partial void HandlerFailed(ILogger log, Exception exception, string handler);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "{Peer} does not speak gossipsub")]
    public static partial void NoGossipsub(ILogger log, PeerId peer);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "gossipsub stream to {Peer} broke ({Reason}); attempt {Attempt} of {Max} to reopen")]
    public static partial void GossipStreamBroke(ILogger log, PeerId peer, string reason, int attempt, int max);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "gossipsub stream to {Peer} failed {Max} times; dropping the peer from the router")]
    public static partial void GossipStreamGaveUp(ILogger log, PeerId peer, int max);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "dropping gossipsub stream from {Peer}: {Reason}")]
    public static partial void GossipStreamDropped(ILogger log, PeerId peer, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "send queue to {Peer} full ({Length}): dropped {Count} RPCs so far")]
    public static partial void SendQueueFull(ILogger log, PeerId peer, int length, long count);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "rejected message from {Peer}: {Reason} (score now {Score})")]
    public static partial void MessageRejected(ILogger log, PeerId peer, string reason, double score);

    [LoggerMessage(EventId = 14, Level = LogLevel.Debug, Message = "ignoring RPC from graylisted {Peer}")]
    public static partial void Graylisted(ILogger log, PeerId peer);

    [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "{Peer} subscribed to more than {Max} topics; ignoring {Topic}")]
    public static partial void TooManyTopics(ILogger log, PeerId peer, int max, string topic);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "validator for {Topic} failed ({Reason}); ignoring the message")]
    public static partial void ValidatorFailed(ILogger log, string topic, string reason);

    [LoggerMessage(EventId = 17, Level = LogLevel.Debug, Message = "{Peer} did not deliver message {Id} it advertised")]
    public static partial void BrokenPromise(ILogger log, PeerId peer, string id);

    [LoggerMessage(EventId = 18, Level = LogLevel.Information, Message = "listening on {Address}")]
    public static partial void Listening(ILogger log, Multiaddr address);

    [LoggerMessage(EventId = 19, Level = LogLevel.Warning, Message = "accept failed: {Reason}")]
    public static partial void AcceptFailed(ILogger log, string reason);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "refusing connection from {Remote}: {Reason}")]
    public static partial void RefusingConnection(ILogger log, System.Net.IPEndPoint remote, string reason);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "inbound connection from {Remote} dropped: {Reason}")]
    public static partial void InboundDropped(ILogger log, System.Net.IPEndPoint remote, string reason);

    [LoggerMessage(EventId = 22, Level = LogLevel.Information, Message = "connected {Connection}")]
    public static partial void Connected(ILogger log, Host.Connection connection);

    [LoggerMessage(EventId = 23, Level = LogLevel.Information, Message = "disconnected {Connection}: {Reason}")]
    public static partial void Disconnected(ILogger log, Host.Connection connection, string reason);

    [LoggerMessage(EventId = 24, Level = LogLevel.Information, Message = "peer {Peer} misbehaved: {Reason}")]
    public static partial void Misbehaved(ILogger log, PeerId peer, string reason);

    [LoggerMessage(EventId = 25, Level = LogLevel.Debug, Message = "stream negotiation with {Peer} failed: {Reason}")]
    public static partial void StreamNegotiationFailed(ILogger log, PeerId peer, string reason);

    [LoggerMessage(EventId = 26, Level = LogLevel.Debug, Message = "{Protocol} stream from {Peer} ended: {Reason}")]
    public static partial void StreamEnded(ILogger log, string protocol, PeerId peer, string reason);

    [LoggerMessage(EventId = 27, Level = LogLevel.Information, Message = "dial {Address} failed, retrying in {Backoff} ms: {Reason}")]
    public static partial void RedialScheduled(ILogger log, Multiaddr address, int backoff, string reason);

    [LoggerMessage(EventId = 28, Level = LogLevel.Information, Message = "yamux protocol error, closing: {Reason}")]
    public static partial void YamuxProtocolError(ILogger log, string reason);

    [LoggerMessage(EventId = 29, Level = LogLevel.Debug, Message = "refusing stream {Id}: {Max} inbound streams open")]
    public static partial void StreamRefused(ILogger log, uint id, int max);

    [LoggerMessage(EventId = 30, Level = LogLevel.Debug, Message = "inbound stream {Id} ended: {Reason}")]
    public static partial void InboundStreamEnded(ILogger log, uint id, string reason);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "yamux keepalive unanswered for {Ms} ms: closing half-open connection")]
    public static partial void KeepaliveTimeout(ILogger log, int ms);
}
