using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using Keel.Core.Crypto;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Namespaces;
using Keel.Sequencer.Tests.TestData;

namespace Keel.Sequencer.Tests.Blocks;

public class BlockPayloadCodecTests
{
    private static readonly NamespaceSet Set = AppHarness.DefaultNamespaces();

    private static (ulong, IReadOnlyList<byte[]>)[] Sections(params byte[][][] perNamespace) =>
        [.. Set.All.Select((ns, i) => (ns.ChainId, (IReadOnlyList<byte[]>)(i < perNamespace.Length ? perNamespace[i] : [])))];

    [Fact]
    public void Layout_matches_the_documented_format()
    {
        var payload = BlockPayloadCodec.Encode(Sections([[0xAA, 0xBB]], [], []));
        Assert.Equal(1, payload[0]);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(1)));
        Assert.Equal(AppHarness.ChainA, BinaryPrimitives.ReadUInt64BigEndian(payload.AsSpan(3)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(11)));
        Assert.Equal(6u, BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(15)));
        Assert.Equal(new byte[] { 0, 0, 0, 2, 0xAA, 0xBB }, payload.AsSpan(19, 6).ToArray());
        Assert.Equal(3 + 3 * 16 + 6, payload.Length);
        var decoded = BlockPayloadCodec.Decode(payload, Set);
        Assert.Equal(Keccak256.HashToHash32(new byte[] { 0, 0, 0, 2, 0xAA, 0xBB }), decoded[0].PayloadHash);
        Assert.Equal(Keccak256.HashToHash32([]), decoded[1].PayloadHash);
    }

    [Fact]
    public void Random_payloads_round_trip()
    {
        var tx = Gen.Choose(1, 300).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));
        var section = Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(tx, n));
        Prop.ForAll(Gen.ArrayOf(section, 3).ToArbitrary(), sections =>
        {
            var payload = BlockPayloadCodec.Encode(Sections(sections));
            var decoded = BlockPayloadCodec.Decode(payload, Set);
            for (var i = 0; i < 3; i++)
            {
                if (decoded[i].NamespaceId != Set[i].ChainId || decoded[i].Transactions.Count != sections[i].Length)
                {
                    return false;
                }
                for (var t = 0; t < sections[i].Length; t++)
                {
                    if (!decoded[i].Transactions[t].Span.SequenceEqual(sections[i][t]))
                    {
                        return false;
                    }
                }
                if (decoded[i].PayloadHash != Keel.Sequencer.Availability.NamespacePayloadProof.PayloadHashOf(sections[i]))
                {
                    return false;
                }
            }
            return BlockPayloadCodec.Encode(Sections(sections)).AsSpan().SequenceEqual(payload);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Every_truncation_is_refused_with_a_typed_error()
    {
        var payload = BlockPayloadCodec.Encode(Sections([[1, 2, 3], [4]], [], [[5, 6]]));
        for (var cut = 0; cut < payload.Length; cut++)
        {
            var e = Assert.Throws<InvalidPayloadException>(() => BlockPayloadCodec.Decode(payload.AsMemory(0, cut), Set));
            Assert.True(e.Error is PayloadError.Malformed or PayloadError.NamespaceMismatch, $"cut {cut}: {e.Error}");
        }
    }

    [Fact]
    public void Random_bytes_never_crash_the_decoder()
    {
        Prop.ForAll(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).ToArbitrary(), bytes =>
        {
            try
            {
                BlockPayloadCodec.Decode(bytes, Set);
            }
            catch (InvalidPayloadException)
            {
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData("version", PayloadError.UnsupportedVersion)]
    [InlineData("count", PayloadError.NamespaceMismatch)]
    [InlineData("order", PayloadError.NamespaceMismatch)]
    [InlineData("trailing", PayloadError.Malformed)]
    [InlineData("empty-tx", PayloadError.Malformed)]
    [InlineData("body-slack", PayloadError.Malformed)]
    [InlineData("tx-count-limit", PayloadError.LimitExceeded)]
    [InlineData("tx-size-limit", PayloadError.LimitExceeded)]
    public void Malformed_payloads_name_their_problem(string mutation, PayloadError expected)
    {
        var good = BlockPayloadCodec.Encode(Sections([[7, 7]], [], []));
        byte[] bad = mutation switch
        {
            "version" => Patch(good, 0, 2),
            "count" => Patch(good, 2, 2),
            "order" => BlockPayloadCodec.Encode([(AppHarness.ChainA, []), (AppHarness.OpaqueChain, []), (AppHarness.ChainB, [])]),
            "trailing" => [.. good, 0],
            "empty-tx" => BlockPayloadCodec.Encode(Sections([[]], [], [])),
            "body-slack" => SlackBody(),
            "tx-count-limit" => BlockPayloadCodec.Encode(Sections(Enumerable.Range(0, Set[0].MaxTxsPerBlock + 1).Select(_ => new byte[] { 1 }).ToArray(), [], [])),
            "tx-size-limit" => BlockPayloadCodec.Encode(Sections([], [new byte[Set[1].MaxTxBytes + 1]], [])),
            _ => throw new ArgumentException(mutation),
        };
        var e = Assert.Throws<InvalidPayloadException>(() => BlockPayloadCodec.Decode(bad, Set));
        Assert.Equal(expected, e.Error);
    }

    [Fact]
    public void Namespace_byte_limit_counts_raw_transaction_bytes()
    {
        var tight = AppHarness.DefaultNamespaces(c => c.Profile == ValidationProfile.Opaque ? c with { MaxTxBytes = 100, MaxBlockBytes = 150 } : c);
        var ok = BlockPayloadCodec.Encode([(AppHarness.ChainA, []), (AppHarness.ChainB, []), (AppHarness.OpaqueChain, [new byte[100], new byte[50]])]);
        Assert.Equal(2, BlockPayloadCodec.Decode(ok, tight)[2].Transactions.Count);
        var over = BlockPayloadCodec.Encode([(AppHarness.ChainA, []), (AppHarness.ChainB, []), (AppHarness.OpaqueChain, [new byte[100], new byte[51]])]);
        Assert.Equal(PayloadError.LimitExceeded, Assert.Throws<InvalidPayloadException>(() => BlockPayloadCodec.Decode(over, tight)).Error);
    }

    private static byte[] Patch(byte[] source, int offset, byte value)
    {
        var copy = (byte[])source.Clone();
        copy[offset] = value;
        return copy;
    }

    private static byte[] SlackBody()
    {
        // Body length one larger than its single transaction, with an extra byte inside the body.
        var good = BlockPayloadCodec.Encode(Sections([[7, 7]], [], []));
        var list = good.ToList();
        list.Insert(3 + 16 + 6, 0xEE);
        var bytes = list.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(3 + 12), 7);
        return bytes;
    }
}
