namespace Keel.Consensus.Ports;

/// <summary>
/// Time as the node sees it. The node never sleeps: it asks to be woken and the host (a timer, or the
/// simulator's event queue) delivers a <see cref="Engine.TimerFired"/> at or after that time.
/// </summary>
public interface IClock
{
    /// <summary>Milliseconds since the Unix epoch on this node's clock (which may be skewed).</summary>
    long NowMs { get; }

    /// <summary>Deliver a TimerFired event no earlier than this local time; later requests may supersede earlier ones.</summary>
    void WakeAt(long localTimeMs);
}

/// <summary>Seeded randomness; the state machine never uses any other source.</summary>
public interface IRandomSource
{
    /// <summary>Uniform in [0, maxExclusive).</summary>
    int Next(int maxExclusive);
}

/// <summary>xoshiro256** seeded through SplitMix64: fast, and the same sequence on every runtime version.</summary>
public sealed class DeterministicRandom : IRandomSource
{
    private ulong _s0, _s1, _s2, _s3;

    public DeterministicRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    public int Next(int maxExclusive) => maxExclusive <= 0 ? 0 : (int)(NextUInt64() % (ulong)maxExclusive);

    public long NextLong(long minInclusive, long maxExclusive) =>
        maxExclusive <= minInclusive ? minInclusive : minInclusive + (long)(NextUInt64() % (ulong)(maxExclusive - minInclusive));

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double probability) => NextDouble() < probability;

    public void NextBytes(Span<byte> output)
    {
        for (var i = 0; i < output.Length; i++)
        {
            output[i] = (byte)NextUInt64();
        }
    }

    /// <summary>An independent stream derived from this one's seed path and a label.</summary>
    public DeterministicRandom Fork(ulong label) => new(NextUInt64() ^ (label * 0x9E3779B97F4A7C15UL));

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
