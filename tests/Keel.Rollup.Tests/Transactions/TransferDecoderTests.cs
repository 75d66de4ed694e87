using Keel.Core;
using Keel.Core.Crypto;
using Keel.Core.Ethereum;
using Keel.Rollup.Transactions;

namespace Keel.Rollup.Tests.Transactions;

public class TransferDecoderTests
{
    private static readonly Address Receiver = TestData.Dev(1);

    private static TestData.TxFields Tx(byte type = 2, ulong chainId = TestData.ChainId, ulong nonce = 3) =>
        new(type, chainId, nonce, Receiver, (UInt256)12_345UL, (UInt256)3_000_000_000UL, (UInt256)1_000_000_000UL);

    private static TransferError Refusal(byte[] raw, ulong chainId = TestData.ChainId) =>
        Assert.Throws<InvalidTransferException>(() => TransferDecoder.Decode(raw, chainId)).Error;

    private static void RefusedAs(byte[] raw, TransferError error, string fragment)
    {
        var e = Assert.Throws<InvalidTransferException>(() => TransferDecoder.Decode(raw, TestData.ChainId));
        Assert.Equal(error, e.Error);
        Assert.Contains(fragment, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Signed_transfer_decodes_and_recovers_anvils_first_account(byte type)
    {
        var raw = Tx(type).Sign();
        var t = TransferDecoder.Decode(raw, TestData.ChainId);
        Assert.Equal(Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"), t.From);
        Assert.Equal(Receiver, t.To);
        Assert.Equal((UInt128)12_345, t.Value);
        Assert.Equal(3UL, t.Nonce);
        Assert.Equal(type, t.Type);
        Assert.Equal(TestData.ChainId, t.ChainId);
        Assert.Equal(21_000UL, t.GasLimit);
        Assert.Equal((UInt128)3_000_000_000, t.MaxFeePerGas);
        Assert.Equal(type == 0 ? (UInt128)3_000_000_000 : 1_000_000_000, t.MaxPriorityFeePerGas);
        Assert.Equal(Keccak256.HashToHash32(raw), t.Hash);
    }

    [Fact]
    public void Known_legacy_eip155_transaction_from_the_eip_decodes_to_its_documented_sender()
    {
        // EIP-155's example: nonce 9, gas price 20 gwei, gas 21000, to 0x3535..35, value 1 ether,
        // chain id 1, signed with key 0x4646..46.
        var raw = Hex.Decode("0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
        var t = TransferDecoder.Decode(raw, 1);
        var key = Enumerable.Repeat((byte)0x46, 32).ToArray();
        Assert.Equal(TestData.AddressOf(key), t.From);
        Assert.Equal(Address.Parse("0x3535353535353535353535353535353535353535"), t.To);
        Assert.Equal((UInt128)1_000_000_000_000_000_000UL, t.Value);
        Assert.Equal(9UL, t.Nonce);
        Assert.Equal((UInt128)20_000_000_000, t.MaxFeePerGas);
    }

    [Fact]
    public void Contract_creation_and_contract_call_are_refused_clearly()
    {
        var create = (Tx() with { To = null }).Sign();
        Assert.Equal(TransferError.ContractCreation, Refusal(create));
        var call = (Tx() with { Data = [0xa9, 0x05, 0x9c, 0xbb] }).Sign();
        Assert.Equal(TransferError.ContractCall, Refusal(call));
        var legacyCall = (Tx(0) with { Data = [1] }).Sign();
        Assert.Equal(TransferError.ContractCall, Refusal(legacyCall));
        var ex = Assert.Throws<InvalidTransferException>(() => TransferDecoder.Decode(call, TestData.ChainId));
        Assert.Contains("value transfers", ex.Message);
    }

    [Fact]
    public void Wrong_chain_is_refused_for_both_types()
    {
        Assert.Equal(TransferError.WrongChainId, Refusal(Tx(0, chainId: 5).Sign()));
        Assert.Equal(TransferError.WrongChainId, Refusal(Tx(2, chainId: 5).Sign()));
    }

    [Fact]
    public void Pre_eip155_legacy_transaction_is_refused_as_missing_chain_id()
    {
        var w = new RlpWriter();
        w.StartList().WriteULong(0).WriteULong(1_000_000_000).WriteULong(21_000).WriteAddress(Receiver)
            .WriteULong(1).WriteBytes([]).WriteULong(27).WriteULong(1).WriteULong(1).EndList();
        Assert.Equal(TransferError.MissingChainId, Refusal(w.ToArray()));
    }

    [Fact]
    public void Amounts_above_2_pow_128_minus_1_are_refused()
    {
        var big = (UInt256)UInt128.MaxValue + UInt256.One;
        Assert.Equal(TransferError.ValueTooLarge, Refusal((Tx() with { Value = big }).Sign()));
        Assert.Equal(TransferError.FeeTooLarge, Refusal((Tx() with { MaxFee = big }).Sign()));
        // 2^128 - 1 itself is fine.
        var max = TransferDecoder.Decode((Tx() with { Value = (UInt256)UInt128.MaxValue }).Sign(), TestData.ChainId);
        Assert.Equal(UInt128.MaxValue, max.Value);
    }

    [Fact]
    public void Static_limits_are_refused_with_their_reason()
    {
        Assert.Equal(TransferError.GasLimitTooLow, Refusal((Tx() with { GasLimit = 20_999 }).Sign()));
        // Core's decoder refuses it first; the reason is in the message.
        RefusedAs((Tx() with { Tip = (UInt256)4_000_000_000UL }).Sign(), TransferError.Malformed, "priority fee");
        Assert.Equal(TransferError.NonceLimit, Refusal(Tx(nonce: uint.MaxValue).Sign()));
    }

    [Fact]
    public void Unsupported_types_garbage_and_oversize_input_are_refused()
    {
        Assert.Equal(TransferError.UnsupportedType, Refusal([0x01, 0xc0]));
        Assert.Equal(TransferError.UnsupportedType, Refusal([0x03, 0xc0]));
        Assert.Equal(TransferError.Malformed, Refusal([]));
        Assert.Equal(TransferError.Malformed, Refusal([0x82, 0x01, 0x02]));
        Assert.Equal(TransferError.Malformed, Refusal([0x02, 0xc3, 0x01]));
        Assert.Equal(TransferError.Malformed, Refusal(new byte[TransferDecoder.MaxTransactionBytes + 1]));
        var raw = Tx().Sign();
        Assert.Equal(TransferError.Malformed, Refusal(raw[..^1]));
        Assert.Equal(TransferError.Malformed, Refusal([.. raw, 0x00]));
    }

    [Fact]
    public void Non_empty_access_list_is_refused()
    {
        var w = new RlpWriter();
        w.StartList().WriteULong(TestData.ChainId).WriteULong(0).WriteULong(1).WriteULong(2).WriteULong(21_000)
            .WriteAddress(Receiver).WriteULong(1).WriteBytes([])
            .StartList().StartList().WriteAddress(Receiver).StartList().EndList().EndList().EndList()
            .WriteULong(0).WriteULong(1).WriteULong(1).EndList();
        byte[] raw = [2, .. w.ToArray()];
        Assert.Equal(TransferError.AccessListNotSupported, Refusal(raw));
    }

    [Fact]
    public void Tampered_or_malleable_signatures_never_yield_the_honest_sender()
    {
        var raw = Tx().Sign();
        var honest = TransferDecoder.Decode(raw, TestData.ChainId);

        // Flip the value: the signature no longer belongs to the sender.
        var tampered = (Tx() with { Value = (UInt256)99UL }).Sign();
        var item = (RlpItem.List)RlpItem.Decode(tampered.AsSpan(1));
        var original = (RlpItem.List)RlpItem.Decode(raw.AsSpan(1));
        var mixed = new RlpItem.List([.. item.Items.Take(9), .. original.Items.Skip(9)]);
        byte[] forged = [2, .. mixed.Encode()];
        try
        {
            Assert.NotEqual(honest.From, TransferDecoder.Decode(forged, TestData.ChainId).From);
        }
        catch (InvalidTransferException e)
        {
            Assert.Equal(TransferError.InvalidSignature, e.Error);
        }

        // s -> n - s is the malleable twin: EIP-2 refuses it.
        var n = UInt256.Parse("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
        var s = UInt256.FromBigEndian(((RlpItem.Bytes)original.Items[11]).Value);
        var highS = new RlpItem.List([.. original.Items.Take(9), new RlpItem.Bytes([1]), original.Items[10], new RlpItem.Bytes((n - s).ToBigEndianTrimmed())]);
        RefusedAs([2, .. highS.Encode()], TransferError.Malformed, "s value");

        var zeroR = new RlpItem.List([.. original.Items.Take(10), new RlpItem.Bytes([]), original.Items[11]]);
        RefusedAs([2, .. zeroR.Encode()], TransferError.Malformed, "r value");
        var badParity = new RlpItem.List([.. original.Items.Take(9), new RlpItem.Bytes([2]), .. original.Items.Skip(10)]);
        RefusedAs([2, .. badParity.Encode()], TransferError.Malformed, "parity");
    }
}
