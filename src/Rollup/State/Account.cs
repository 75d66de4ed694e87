namespace Keel.Rollup.State;

/// <summary>
/// One account of the transfer rollup. An address that was never touched reads as
/// (balance 0, nonce 0), which is also the value of an empty tree leaf: "absent" and "zero" are one
/// state, as on Ethereum.
/// </summary>
public readonly record struct Account(UInt128 Balance, ulong Nonce)
{
    /// <summary>Largest nonce an account can reach. Nonces are one 32-bit field element in the
    /// leaf; a transaction with nonce = MaxNonce would overflow it and is refused.</summary>
    public const ulong MaxNonce = uint.MaxValue;

    public static Account Empty => default;

    public bool IsEmpty => Balance == 0 && Nonce == 0;
}
