using Keel.Core;
using Keel.Rollup.Hashing;

namespace Keel.Rollup.Tests.Hashing;

public class FieldEncodingTests
{
    [Fact]
    public void Address_limbs_are_32_bit_least_significant_first()
    {
        var a = Address.Parse("0x0102030405060708090a0b0c0d0e0f1011121314");
        var limbs = new ulong[5];
        FieldEncoding.WriteAddress(a, limbs);
        Assert.Equal(new ulong[] { 0x11121314, 0x0d0e0f10, 0x090a0b0c, 0x05060708, 0x01020304 }, limbs);
    }

    [Fact]
    public void Address_bits_follow_the_integer_value()
    {
        var a = Address.Parse("0x8000000000000000000000000000000000000005");
        Assert.Equal(1, FieldEncoding.AddressBit(a, 0));
        Assert.Equal(0, FieldEncoding.AddressBit(a, 1));
        Assert.Equal(1, FieldEncoding.AddressBit(a, 2));
        Assert.Equal(1, FieldEncoding.AddressBit(a, 159));
        Assert.Equal(0, FieldEncoding.AddressBit(a, 158));
        Assert.Throws<ArgumentOutOfRangeException>(() => FieldEncoding.AddressBit(a, 160));
    }

    [Fact]
    public void Amount_and_u64_limbs()
    {
        var limbs = new ulong[4];
        FieldEncoding.WriteAmount(UInt128.MaxValue, limbs);
        Assert.All(limbs, l => Assert.Equal(uint.MaxValue, l));
        FieldEncoding.WriteAmount(((UInt128)5 << 96) | 7, limbs);
        Assert.Equal(new ulong[] { 7, 0, 0, 5 }, limbs);
        var two = new ulong[2];
        FieldEncoding.WriteU64(0x1_0000_0002UL, two);
        Assert.Equal(new ulong[] { 2, 1 }, two);
    }
}
