using Keel.Core;
using Keel.Core.Crypto;
using Keel.Core.Ethereum;
using Keel.Sequencer.Blocks;
using Keel.Sequencer.Merkle;

namespace Keel.Sequencer.Tests.Blocks;

/// <summary>
/// The sequencer's hashed encodings rebuilt with Keel.Core's ABI encoder (itself checked against
/// ethers' AbiCoder): what a Solidity contract computes with abi.encode.
/// </summary>
public class AbiCrossCheckTests
{
    private static readonly Hash32 P = Keccak256.HashToHash32([1]);
    private static readonly Hash32 Q = Keccak256.HashToHash32([2]);

    [Fact]
    public void Table_leaf_is_abi_encode_of_the_entry()
    {
        var entry = new NamespaceEntry(901, 17, P, Q);
        var abi = new AbiEncoder().UInt64(901).UInt64(17).Bytes32(P).Bytes32(Q).ToArray();
        Assert.Equal(abi, entry.Encode());
        Assert.Equal(Keccak256.HashToHash32(abi), entry.LeafHash);
    }

    [Fact]
    public void Roots_mix_the_count_as_abi_encode_bytes32_uint256()
    {
        var abi = new AbiEncoder().Bytes32(P).UInt256(5UL).ToArray();
        Assert.Equal(Keccak256.HashToHash32(abi), KeccakMerkle.MixInCount(P, 5));
    }

    [Fact]
    public void App_header_is_abi_encode_of_version_and_roots()
    {
        var abi = new AbiEncoder().UInt64(AppHeader.CurrentVersion).Bytes32(P).Bytes32(Q).ToArray();
        Assert.Equal(abi, new AppHeader(AppHeader.CurrentVersion, P, Q).Encode());
    }

    [Fact]
    public void Block_hash_is_keccak_of_the_abi_encoded_header_tuple()
    {
        var proposer = Address.Parse("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
        var payload = new byte[] { 1, 2, 3 };
        var block = new Keel.Consensus.Model.Block(12, 14, P, 1_700_000_000_500, proposer, new AppHeader(1, Q, P).Encode(), payload);
        var abi = new AbiEncoder().UInt64(12).UInt64(14).Bytes32(P).UInt64(1_700_000_000_500).Address(proposer)
            .Bytes32(Keccak256.HashToHash32(payload)).UInt64(1).Bytes32(Q).Bytes32(P).ToArray();
        Assert.Equal(Keccak256.HashToHash32(abi), block.Hash);
    }
}
