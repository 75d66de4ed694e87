using FsCheck;
using FsCheck.Fluent;
using Keel.Core;
using Keel.Core.Crypto;
using Keel.Rollup.Hashing;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Merkle;

namespace Keel.Sequencer.Tests.Blocks;

public class NamespaceTableTests
{
    private static NamespaceEntry Entry(int i) => new(
        (ulong)(900 + i), (uint)(i * 3), Keccak256.HashToHash32(BitConverter.GetBytes(i)), Keccak256.HashToHash32(BitConverter.GetBytes(-i)));

    [Fact]
    public void Entry_encoding_is_four_abi_words()
    {
        var entry = new NamespaceEntry(0x0102030405060708, 0xA0B0C0D0, Hash32.Parse("0x" + new string('1', 64)), Hash32.Parse("0x" + new string('2', 64)));
        var encoded = entry.Encode();
        Assert.Equal(128, encoded.Length);
        Assert.Equal("0000000000000000000000000000000000000000000000000102030405060708", Convert.ToHexString(encoded, 0, 32).ToLowerInvariant());
        Assert.Equal("00000000000000000000000000000000000000000000000000000000a0b0c0d0", Convert.ToHexString(encoded, 32, 32).ToLowerInvariant());
        Assert.Equal(new string('1', 64), Convert.ToHexString(encoded, 64, 32).ToLowerInvariant());
        Assert.Equal(new string('2', 64), Convert.ToHexString(encoded, 96, 32).ToLowerInvariant());
        Assert.Equal(Keccak256.HashToHash32(encoded), entry.LeafHash);
        Assert.Equal(entry, NamespaceEntry.Decode(encoded));
        encoded[0] = 1;
        Assert.Equal(PayloadError.Malformed, Assert.Throws<InvalidPayloadException>(() => NamespaceEntry.Decode(encoded)).Error);
        Assert.Throws<InvalidPayloadException>(() => NamespaceEntry.Decode(encoded.AsSpan(1)));
    }

    [Fact]
    public void Poseidon_digest_word_is_four_big_endian_elements()
    {
        var word = NamespaceEntry.ToWord(new Digest(1, 2, 0xFFFF_FFFF_0000_0000, 4));
        Assert.Equal("0x0000000000000001" + "0000000000000002" + "ffffffff00000000" + "0000000000000004", word.ToString());
    }

    [Fact]
    public void Single_entry_root_is_its_leaf_with_count_1()
    {
        var table = new NamespaceTable([Entry(0)]);
        Assert.Equal(0, table.Depth);
        Assert.Equal(KeccakMerkle.MixInCount(Entry(0).LeafHash, 1), table.Root);
        Assert.True(NamespaceTable.Verify(table.Root, Entry(0), table.Prove(0)));
    }

    [Fact]
    public void Every_entry_proof_round_trips_and_changed_entries_fail()
    {
        Prop.ForAll(Gen.Choose(1, 64).ToArbitrary(), count =>
        {
            var entries = Enumerable.Range(0, count).Select(Entry).ToArray();
            var table = new NamespaceTable(entries);
            for (var i = 0; i < count; i++)
            {
                var proof = table.Prove(i);
                if (!NamespaceTable.Verify(table.Root, entries[i], proof))
                {
                    return false;
                }
                var e = entries[i];
                if (NamespaceTable.Verify(table.Root, e with { TxCount = e.TxCount + 1 }, proof)
                    || NamespaceTable.Verify(table.Root, e with { NamespaceId = e.NamespaceId + 1000 }, proof)
                    || NamespaceTable.Verify(table.Root, e with { BatchCommitment = Hash32.Zero }, proof)
                    || NamespaceTable.Verify(table.Root, e with { PayloadHash = Hash32.Zero }, proof))
                {
                    return false;
                }
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Table_order_matters()
    {
        var a = new NamespaceTable([Entry(0), Entry(1)]);
        var b = new NamespaceTable([Entry(1), Entry(0)]);
        Assert.NotEqual(a.Root, b.Root);
        Assert.Equal(1, a.IndexOf(901));
        Assert.Equal(-1, a.IndexOf(5));
    }

    [Fact]
    public void Too_many_entries_or_a_bad_index_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new NamespaceTable(Enumerable.Range(0, 65).Select(Entry).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NamespaceTable([Entry(0)]).Prove(1));
    }
}
