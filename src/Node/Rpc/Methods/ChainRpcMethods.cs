using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Core;
using Keel.Core.Ethereum;
using Keel.Node.Chain;
using Keel.Node.Service;
using Keel.Rollup.Transactions;
using Keel.Sequencer.Mempool;

namespace Keel.Node.Rpc.Methods;

/// <summary>
/// The Ethereum (eth_*) and Keel (keel_*) methods of one rollup chain's RPC server, over a running
/// <see cref="SequencerNode"/>: state and receipts from the chain's <see cref="ChainIndex"/>
/// (committed = soft final), pending nonces and submission through the sequencer's mempool.
/// Every block of the shared sequencer is a block of every chain (possibly empty), so block numbers
/// and hashes are the sequencer's heights and block hashes.
/// </summary>
public static class ChainRpcMethods
{
    /// <summary>Largest raw transaction eth_sendRawTransaction reads (the Core decoder's own cap).</summary>
    public const int MaxRawTransactionBytes = Transaction.MaxEncodedBytes;

    /// <summary>Blocks one eth_feeHistory call may cover (geth caps it at 1024 too).</summary>
    public const int MaxFeeHistoryBlocks = 1024;

    /// <summary>Reward percentiles one eth_feeHistory call may ask for.</summary>
    public const int MaxRewardPercentiles = 100;

    /// <summary>Block gas limit reported for every block (anvil's default; a transfer uses 21,000).</summary>
    public const ulong BlockGasLimit = 30_000_000;

    private static readonly string ZeroBloom = "0x" + new string('0', 512);
    private static readonly string ZeroHash = Hash32.Zero.ToString();
    private static readonly string EmptyListHash = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347";

    public static void Register(RpcServer server, SequencerNode node, ulong chainId)
    {
        var chain = node.Chain(chainId);
        var baseFee = (BigInteger)chain.Parameters.BaseFeePerGas;
        var tip = new BigInteger(1_000_000_000);
        var m = server.Methods;

        m.Add("eth_blockNumber", _ => RpcResult.Quantity((ulong)chain.Head));
        m.Add("eth_gasPrice", _ => RpcResult.Quantity(baseFee + tip));
        m.Add("eth_maxPriorityFeePerGas", _ => RpcResult.Quantity(tip));
        m.Add("eth_syncing", _ => RpcResult.Bool(false));
        m.Add("eth_accounts", _ => RpcResult.Json(new JsonArray()));

        m.Add("eth_getBalance", RpcParam.Address("address"), RpcParam.Block("block"), (address, block, _) =>
        {
            RequireCurrentState(chain, block);
            return RpcResult.Quantity((BigInteger)chain.GetAccount(Address.FromBytes(address)).Balance);
        });

        m.Add("eth_getTransactionCount", RpcParam.Address("address"), RpcParam.Block("block"), (address, block, _) =>
        {
            var a = Address.FromBytes(address);
            if (block.Tag == BlockTag.Pending)
            {
                return RpcResult.Quantity(node.Application.PendingNonce(chainId, a));
            }
            RequireCurrentState(chain, block);
            return RpcResult.Quantity(chain.GetAccount(a).Nonce);
        });

        m.Add("eth_getCode", RpcParam.Address("address"), RpcParam.Block("block"), (_, _, _) => RpcResult.Data(Array.Empty<byte>()));
        m.Add("eth_getStorageAt", RpcParam.Address("address"), RpcParam.BigQuantity("slot"), RpcParam.Block("block"),
            (_, _, _, _) => new ValueTask<RpcResult>(RpcResult.Data(new byte[32])));

        m.Add("eth_sendRawTransaction", RpcParam.Data("transaction", MaxRawTransactionBytes), (raw, _) =>
        {
            try
            {
                return RpcResult.Data(node.SubmitTransaction(chainId, raw).Bytes.ToArray());
            }
            catch (MempoolRejectedException e)
            {
                throw MapRejection(e);
            }
        });

        m.Add("eth_estimateGas", RpcParam.Json("call"), RpcParam.Block("block"), (call, _, _) =>
        {
            RequireTransferCall(call);
            return RpcResult.Quantity(Transfer.IntrinsicGas);
        });

        m.Add("eth_call", RpcParam.Json("call"), RpcParam.Block("block"), (call, _, _) =>
        {
            // Every account of the transfer rollup is code-less: a call to one returns no data, as on Ethereum.
            RequireTransferCall(call, allowData: true);
            return RpcResult.Data(Array.Empty<byte>());
        });

        JsonObject WithStateRoot(JsonObject block, long height)
        {
            if (node.Executor?.StateRoot(chainId, height) is { } root)
            {
                block["stateRoot"] = Keel.Sequencer.Blocks.NamespaceEntry.ToWord(root).ToString();
            }
            return block;
        }

        m.Add("eth_getBlockByNumber", RpcParam.Block("block"), RpcParam.Bool("full transactions").Optional(false), (block, full, _) =>
            ResolveBlock(chain, block) is { } b ? RpcResult.Json(WithStateRoot(BlockJson(chain, b, full, baseFee), b.Height)) : RpcResult.Null);

        m.Add("eth_getBlockByHash", RpcParam.Hash("hash"), RpcParam.Bool("full transactions").Optional(false), (hash, full, _) =>
            chain.GetBlock(Hash32.FromBytes(hash)) is { } b ? RpcResult.Json(WithStateRoot(BlockJson(chain, b, full, baseFee), b.Height)) : RpcResult.Null);

        m.Add("eth_getBlockTransactionCountByNumber", RpcParam.Block("block"), (block, _) =>
            ResolveBlock(chain, block) is { } b ? RpcResult.Quantity((ulong)b.Transactions.Count) : RpcResult.Null);

        m.Add("eth_getTransactionByHash", RpcParam.Hash("hash"), (hash, _) =>
        {
            var h = Hash32.FromBytes(hash);
            if (chain.GetTransaction(h) is { } tx)
            {
                return RpcResult.Json(TransactionJson(tx.Raw, tx.Transfer.From, tx.BlockHash, tx.BlockHeight, tx.Index, chain.Parameters.BaseFeePerGas));
            }
            var pool = node.Application.Mempool(chainId);
            if (pool.TryGetRaw(h, out var raw))
            {
                var transfer = TransferDecoder.Decode(raw, chainId);
                return RpcResult.Json(TransactionJson(raw, transfer.From, null, -1, -1, chain.Parameters.BaseFeePerGas));
            }
            return RpcResult.Null;
        });

        m.Add("eth_getTransactionReceipt", RpcParam.Hash("hash"), (hash, _) =>
            chain.GetTransaction(Hash32.FromBytes(hash)) is { } tx ? RpcResult.Json(ReceiptJson(tx)) : RpcResult.Null);

        m.Add("eth_feeHistory", RpcParam.Quantity("block count"), RpcParam.Block("newest block"), RpcParam.Json("reward percentiles").Optional(default),
            (count, newest, percentiles, _) => new ValueTask<RpcResult>(RpcResult.Json(FeeHistory(chain, count, newest, percentiles, baseFee, tip))));

        // ------------------------------------------------------------------ keel_*

        m.Add("keel_getTransactionStatus", RpcParam.Hash("hash"), (hash, _) =>
        {
            var h = Hash32.FromBytes(hash);
            var pool = node.Application.Mempool(chainId);
            if (chain.GetTransaction(h) is { } tx)
            {
                return RpcResult.Json(new JsonObject
                {
                    ["hash"] = h.ToString(),
                    ["stage"] = "committed",
                    ["status"] = tx.Status == TransferStatus.Applied ? "applied" : "skipped",
                    ["blockNumber"] = RpcHex.EncodeQuantity((ulong)tx.BlockHeight),
                    ["blockHash"] = tx.BlockHash.ToString(),
                    ["committedAtMs"] = tx.CommittedAtMs,
                });
            }
            if (pool.Contains(h))
            {
                return RpcResult.Json(new JsonObject { ["hash"] = h.ToString(), ["stage"] = "pending" });
            }
            if (pool.TryGetDropped(h, out var dropped))
            {
                return RpcResult.Json(new JsonObject
                {
                    ["hash"] = h.ToString(),
                    ["stage"] = "dropped",
                    ["reason"] = RpcMessages.For(dropped.Reason),
                    ["detail"] = dropped.Detail,
                });
            }
            return RpcResult.Null;
        });

        m.Add("keel_getBlock", RpcParam.Block("block"), (block, _) =>
        {
            if (ResolveBlock(chain, block) is not { } b)
            {
                return RpcResult.Null;
            }
            var json = SequencerBlockJson(node, b.Height);
            if (json is not null && node.Executor?.StateRoot(chainId, b.Height) is { } root)
            {
                json["stateRoot"] = Keel.Sequencer.Blocks.NamespaceEntry.ToWord(root).ToString();
            }
            return RpcResult.Json(json);
        });

        m.Add("keel_getNamespacePayload", RpcParam.Block("block"), RpcParam.Quantity("namespace").Optional(chainId), (block, ns, _) =>
        {
            if (ResolveBlock(chain, block) is not { } b || b.Height == 0)
            {
                return RpcResult.Null;
            }
            if (node.Application.GetNamespacePayload(b.Height, ns) is not { } proof)
            {
                return RpcResult.Null;
            }
            return RpcResult.Json(new JsonObject
            {
                ["blockNumber"] = RpcHex.EncodeQuantity((ulong)b.Height),
                ["blockHash"] = proof.Header.Hash.ToString(),
                ["namespaceTableRoot"] = proof.Header.NamespaceTableRoot.ToString(),
                ["entry"] = EntryJson(proof.Entry),
                ["proof"] = new JsonObject
                {
                    ["index"] = proof.Proof.Index,
                    ["count"] = proof.Proof.Count,
                    ["siblings"] = new JsonArray([.. proof.Proof.Siblings.Select(s => (JsonNode)s.ToString())]),
                },
                ["transactions"] = new JsonArray([.. proof.Transactions.Select(t => (JsonNode)RpcHex.EncodeData(t))]),
                ["verified"] = proof.Verify(ns),
            });
        });

        m.Add("keel_nodeInfo", _ => RpcResult.Json(new JsonObject
        {
            ["validatorIndex"] = node.ValidatorIndex,
            ["address"] = node.Address.ToString(),
            ["peerId"] = node.PeerId?.ToString(),
            ["committedHeight"] = node.Application.CommittedHeight,
            ["round"] = node.Consensus?.CurrentRound,
            ["votesSent"] = node.VotesSent,
            ["timeoutsSent"] = node.TimeoutsSent,
            ["equivocations"] = node.Equivocations,
            ["peers"] = node.Network?.Host.ConnectedPeers.Count,
            ["mempool"] = node.Application.Mempool(chainId).Count,
            ["executedHeight"] = node.Executor?.ExecutedHeight,
            ["receiptMismatches"] = node.Executor?.ReceiptMismatches,
        }));

        m.Add("keel_getEquivocations", _ => RpcResult.Json(new JsonArray([.. node.Evidence.Select(e => (JsonNode)new JsonObject
        {
            ["kind"] = e.Kind.ToString(),
            ["validator"] = e.Validator,
            ["address"] = e.ValidatorAddress.ToString(),
            ["round"] = e.Round,
            ["first"] = e.FirstSubject.ToString(),
            ["second"] = e.SecondSubject.ToString(),
        })])));

        chain.BlockIndexed += b => server.Subscriptions.PublishNewHead(HeaderJson(b, baseFee));
    }

    // ------------------------------------------------------------------ helpers

    private static RpcException MapRejection(MempoolRejectedException e) => e.Error switch
    {
        MempoolError.Malformed or MempoolError.TxTypeNotSupported or MempoolError.InvalidSender or MempoolError.NotATransfer
            or MempoolError.InvalidChainId or MempoolError.Oversized or MempoolError.ValueOutOfRange
            => new RpcException(RpcErrorCodes.TransactionRejected, e.Message),
        MempoolError.UnknownNamespace => new RpcException(RpcErrorCodes.InvalidParams, e.Message),
        _ => new RpcException(RpcErrorCodes.ServerError, e.Message),
    };

    private static void RequireCurrentState(ChainIndex chain, BlockSelector block)
    {
        switch (block.Tag)
        {
            case BlockTag.Latest or BlockTag.Pending or BlockTag.Safe or BlockTag.Finalized:
                return;
            case BlockTag.Number when (long)block.Number >= chain.Head:
                return;
            case BlockTag.Hash when block.Hash is { } h && chain.GetBlock(Hash32.FromBytes(h)) is { } b && b.Height == chain.Head:
                return;
            default:
                throw new RpcException(RpcErrorCodes.ServerError, $"historical state is not kept: only the latest block's state (block {chain.Head}) can be read");
        }
    }

    private static void RequireTransferCall(JsonElement call, bool allowData = false)
    {
        if (call.ValueKind != JsonValueKind.Object)
        {
            throw RpcErrors.InvalidParams("invalid argument 0 (call): want a transaction call object");
        }
        var hasTo = call.TryGetProperty("to", out var to) && to.ValueKind == JsonValueKind.String;
        var data = call.TryGetProperty("data", out var d) ? d : call.TryGetProperty("input", out var i) ? i : default;
        var hasData = data.ValueKind == JsonValueKind.String && data.GetString() is { Length: > 2 };
        if (!hasTo)
        {
            throw RpcErrors.ExecutionRevertedWithReason("only value transfers are supported: contract creation is not available on this rollup");
        }
        if (hasData && !allowData)
        {
            throw RpcErrors.ExecutionRevertedWithReason("only value transfers are supported: transactions with data are not available on this rollup");
        }
    }

    private static IndexedBlock? ResolveBlock(ChainIndex chain, BlockSelector block) => block.Tag switch
    {
        BlockTag.Number => chain.GetBlock((long)Math.Min(block.Number, long.MaxValue)),
        BlockTag.Earliest => chain.GetBlock(0),
        BlockTag.Hash => block.Hash is { } h ? chain.GetBlock(Hash32.FromBytes(h)) : null,
        _ => chain.GetBlock(chain.Head),
    };

    private static JsonObject HeaderJson(IndexedBlock b, BigInteger baseFee) => new()
    {
        ["number"] = RpcHex.EncodeQuantity((ulong)b.Height),
        ["hash"] = b.Hash.ToString(),
        ["parentHash"] = b.ParentHash.ToString(),
        ["nonce"] = "0x0000000000000000",
        ["mixHash"] = ZeroHash,
        ["sha3Uncles"] = EmptyListHash,
        ["logsBloom"] = ZeroBloom,
        ["transactionsRoot"] = b.PayloadHash.ToString(),
        ["stateRoot"] = ZeroHash,
        ["receiptsRoot"] = ZeroHash,
        ["miner"] = b.Proposer.ToString(),
        ["difficulty"] = "0x0",
        ["extraData"] = RpcHex.EncodeData(b.NamespaceTableRoot.Bytes),
        ["gasLimit"] = RpcHex.EncodeQuantity(BlockGasLimit),
        ["gasUsed"] = RpcHex.EncodeQuantity(b.GasUsed),
        ["timestamp"] = RpcHex.EncodeQuantity((ulong)(b.TimestampMs / 1000)),
        ["baseFeePerGas"] = RpcHex.EncodeQuantity(baseFee),
    };

    private static JsonObject BlockJson(ChainIndex chain, IndexedBlock b, bool full, BigInteger baseFee)
    {
        var json = HeaderJson(b, baseFee);
        json["size"] = "0x0";
        json["totalDifficulty"] = "0x0";
        json["uncles"] = new JsonArray();
        var txs = new JsonArray();
        foreach (var hash in b.Transactions)
        {
            if (full && chain.GetTransaction(hash) is { } tx)
            {
                txs.Add(TransactionJson(tx.Raw, tx.Transfer.From, tx.BlockHash, tx.BlockHeight, tx.Index, chain.Parameters.BaseFeePerGas));
            }
            else
            {
                txs.Add(hash.ToString());
            }
        }
        json["transactions"] = txs;
        return json;
    }

    private static JsonObject TransactionJson(byte[] raw, Address from, Hash32? blockHash, long height, int index, UInt128 baseFee)
    {
        var tx = Transaction.Decode(raw);
        var sig = tx.Signature!.Value;
        var json = new JsonObject
        {
            ["hash"] = tx.Hash.ToString(),
            ["type"] = RpcHex.EncodeQuantity((ulong)tx.Type),
            ["blockHash"] = blockHash?.ToString(),
            ["blockNumber"] = height >= 0 ? RpcHex.EncodeQuantity((ulong)height) : null,
            ["transactionIndex"] = index >= 0 ? RpcHex.EncodeQuantity((ulong)index) : null,
            ["from"] = from.ToString(),
            ["to"] = tx.To?.ToString(),
            ["value"] = RpcHex.EncodeQuantity(tx.Value.ToBigEndianTrimmed()),
            ["nonce"] = RpcHex.EncodeQuantity(tx.Nonce),
            ["gas"] = RpcHex.EncodeQuantity(tx.GasLimit),
            ["input"] = RpcHex.EncodeData(tx.Data.Span),
            ["v"] = RpcHex.EncodeQuantity(tx.V.ToBigEndianTrimmed()),
            ["r"] = RpcHex.EncodeQuantity(sig.R.ToBigEndianTrimmed()),
            ["s"] = RpcHex.EncodeQuantity(sig.S.ToBigEndianTrimmed()),
        };
        if (tx.ChainId is { } chainId)
        {
            json["chainId"] = RpcHex.EncodeQuantity(chainId);
        }
        if (tx.Type == TransactionType.Legacy)
        {
            json["gasPrice"] = RpcHex.EncodeQuantity(tx.GasPrice.ToBigEndianTrimmed());
        }
        else
        {
            json["maxFeePerGas"] = RpcHex.EncodeQuantity(tx.MaxFeePerGas.ToBigEndianTrimmed());
            json["maxPriorityFeePerGas"] = RpcHex.EncodeQuantity(tx.MaxPriorityFeePerGas.ToBigEndianTrimmed());
            var maxFee = ToBig(tx.MaxFeePerGas);
            var effective = BigInteger.Min(maxFee, (BigInteger)baseFee + ToBig(tx.MaxPriorityFeePerGas));
            json["gasPrice"] = RpcHex.EncodeQuantity(effective);
            json["accessList"] = new JsonArray();
            json["yParity"] = RpcHex.EncodeQuantity(sig.YParity);
        }
        return json;
    }

    private static BigInteger ToBig(UInt256 value) => new(value.ToBigEndian(), isUnsigned: true, isBigEndian: true);

    private static JsonObject ReceiptJson(IndexedTransaction tx) => new()
    {
        ["transactionHash"] = tx.Transfer.Hash.ToString(),
        ["transactionIndex"] = RpcHex.EncodeQuantity((ulong)tx.Index),
        ["blockHash"] = tx.BlockHash.ToString(),
        ["blockNumber"] = RpcHex.EncodeQuantity((ulong)tx.BlockHeight),
        ["from"] = tx.Transfer.From.ToString(),
        ["to"] = tx.Transfer.To.ToString(),
        ["cumulativeGasUsed"] = RpcHex.EncodeQuantity(tx.CumulativeGasUsed),
        ["gasUsed"] = RpcHex.EncodeQuantity(tx.GasUsed),
        ["effectiveGasPrice"] = RpcHex.EncodeQuantity((BigInteger)tx.EffectiveGasPrice),
        ["contractAddress"] = null,
        ["logs"] = new JsonArray(),
        ["logsBloom"] = ZeroBloom,
        ["type"] = RpcHex.EncodeQuantity(tx.Transfer.Type),
        ["status"] = tx.Status == TransferStatus.Applied ? "0x1" : "0x0",
    };

    private static JsonObject FeeHistory(ChainIndex chain, ulong count, BlockSelector newest, JsonElement percentiles, BigInteger baseFee, BigInteger tip)
    {
        if (count == 0 || count > MaxFeeHistoryBlocks)
        {
            throw RpcErrors.InvalidParams($"invalid argument 0 (block count): must be 1..{MaxFeeHistoryBlocks}");
        }
        var newestBlock = ResolveBlock(chain, newest) ?? throw RpcErrors.InvalidParams($"invalid argument 1 (newest block): block {newest} is not known");
        var rewards = 0;
        if (percentiles.ValueKind == JsonValueKind.Array)
        {
            rewards = percentiles.GetArrayLength();
            if (rewards > MaxRewardPercentiles)
            {
                throw RpcErrors.InvalidParams($"invalid argument 2 (reward percentiles): at most {MaxRewardPercentiles}");
            }
        }
        var oldest = Math.Max(0, newestBlock.Height - (long)count + 1);
        var baseFees = new JsonArray();
        var ratios = new JsonArray();
        var reward = new JsonArray();
        for (var h = oldest; h <= newestBlock.Height; h++)
        {
            baseFees.Add(RpcHex.EncodeQuantity(baseFee));
            ratios.Add((double)(chain.GetBlock(h)?.GasUsed ?? 0) / BlockGasLimit);
            if (rewards > 0)
            {
                reward.Add(new JsonArray([.. Enumerable.Range(0, rewards).Select(_ => (JsonNode)RpcHex.EncodeQuantity(tip))]));
            }
        }
        baseFees.Add(RpcHex.EncodeQuantity(baseFee));
        var result = new JsonObject
        {
            ["oldestBlock"] = RpcHex.EncodeQuantity((ulong)oldest),
            ["baseFeePerGas"] = baseFees,
            ["gasUsedRatio"] = ratios,
        };
        if (rewards > 0)
        {
            result["reward"] = reward;
        }
        return result;
    }

    private static JsonObject EntryJson(Keel.Sequencer.Blocks.NamespaceEntry e) => new()
    {
        ["namespaceId"] = e.NamespaceId,
        ["txCount"] = e.TxCount,
        ["payloadHash"] = e.PayloadHash.ToString(),
        ["batchCommitment"] = e.BatchCommitment.ToString(),
    };

    private static JsonObject? SequencerBlockJson(SequencerNode node, long height)
    {
        if (height == 0)
        {
            return new JsonObject { ["height"] = 0, ["hash"] = SequencerNode.Genesis.Hash.ToString(), ["genesis"] = true };
        }
        var payload = node.Application.GetNamespacePayload(height, node.Namespaces[0].ChainId);
        if (payload is null)
        {
            return null;
        }
        var header = payload.Header;
        var table = new JsonArray();
        foreach (var ns in node.Namespaces.All)
        {
            if (node.Application.GetNamespacePayload(height, ns.ChainId) is { } p)
            {
                table.Add(EntryJson(p.Entry));
            }
        }
        return new JsonObject
        {
            ["height"] = header.Height,
            ["round"] = header.Round,
            ["hash"] = header.Hash.ToString(),
            ["parentHash"] = header.ParentHash.ToString(),
            ["timestampMs"] = header.TimestampMs,
            ["proposer"] = header.Proposer.ToString(),
            ["payloadHash"] = header.PayloadHash.ToString(),
            ["namespaceTableRoot"] = header.NamespaceTableRoot.ToString(),
            ["headersRoot"] = header.HeadersRoot.ToString(),
            ["namespaces"] = table,
        };
    }
}
