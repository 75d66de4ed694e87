using Keel.Core.Field;

namespace Keel.Prover.Proving;

/// <summary>
/// The prover's FRI fold: the same value as <see cref="Stark.FriFolding.FoldCoset"/> (which the
/// verifier uses), with the coset's inverse DFT done as a radix-2 transform (F/2 log F
/// butterflies instead of F^2 products). Buffers are the caller's: nothing is allocated.
/// </summary>
internal sealed class FastFold
{
    private readonly int _f;
    private readonly int _logF;
    private readonly ulong[] _twiddles; // [m + j] = (w_F^-1)^(j F / 2m)
    private readonly int[] _reversed;

    public FastFold(int foldingFactor, ReadOnlySpan<ulong> inverseRootPowers)
    {
        if (foldingFactor < 2 || (foldingFactor & (foldingFactor - 1)) != 0 || inverseRootPowers.Length != foldingFactor)
        {
            throw new ArgumentException("the folding factor is a power of two of at least 2, with its inverse root powers", nameof(foldingFactor));
        }
        _f = foldingFactor;
        _logF = System.Numerics.BitOperations.Log2((uint)foldingFactor);
        _twiddles = new ulong[foldingFactor];
        for (var m = 1; m < foldingFactor; m <<= 1)
        {
            for (var j = 0; j < m; j++)
            {
                _twiddles[m + j] = inverseRootPowers[j * (foldingFactor / (2 * m))];
            }
        }
        _reversed = new int[foldingFactor];
        for (var t = 0; t < foldingFactor; t++)
        {
            var r = 0;
            for (var b = 0; b < _logF; b++)
            {
                r |= ((t >> b) & 1) << (_logF - 1 - b);
            }
            _reversed[t] = r;
        }
    }

    /// <summary>
    /// sum_s c_s (beta/x)^s / F with c_s = sum_t v_t w^(-ts); values: the coset's F points,
    /// scratch: F elements (overwritten).
    /// </summary>
    public GoldilocksExt2 Fold(ReadOnlySpan<GoldilocksExt2> values, Span<GoldilocksExt2> scratch, ulong xInverse, GoldilocksExt2 beta, ulong inverseF)
    {
        var f = _f;
        var c = scratch[..f];
        for (var t = 0; t < f; t++)
        {
            c[_reversed[t]] = values[t];
        }
        for (var m = 1; m < f; m <<= 1)
        {
            for (var g = 0; g < f; g += 2 * m)
            {
                for (var j = 0; j < m; j++)
                {
                    var u = c[g + j];
                    var v = j == 0 ? c[g + j + m] : GoldilocksExt2.MulBase(c[g + j + m], _twiddles[m + j]);
                    c[g + j] = u + v;
                    c[g + j + m] = u - v;
                }
            }
        }
        var y = GoldilocksExt2.MulBase(beta, xInverse);
        var acc = c[f - 1];
        for (var s = f - 2; s >= 0; s--)
        {
            acc = acc * y + c[s];
        }
        return GoldilocksExt2.MulBase(acc, inverseF);
    }
}
