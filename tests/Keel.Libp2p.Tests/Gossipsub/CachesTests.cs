using Keel.Libp2p.Crypto;
using Keel.Libp2p.Gossipsub;

namespace Keel.Libp2p.Tests.Gossipsub;

public sealed class CachesTests
{
    private static readonly IdentityKey Key = Ed25519IdentityKey.Generate();

    [Fact]
    public void Message_cache_gossips_recent_windows_and_forgets_old_ones()
    {
        var cache = new MessageCache(windows: 3, gossipWindows: 2);
        Assert.True(cache.Put("a", MessageSigning.Sign(Key, "t", [1], 1)));
        Assert.False(cache.Put("a", MessageSigning.Sign(Key, "t", [1], 1)));
        cache.Shift();
        cache.Put("b", MessageSigning.Sign(Key, "t", [2], 2));
        cache.Put("x", MessageSigning.Sign(Key, "other", [3], 3));
        Assert.Equal(["b", "a"], cache.GossipIds("t"));
        cache.Shift();
        Assert.Equal(["b"], cache.GossipIds("t"));
        Assert.NotNull(cache.Get("a"));
        cache.Shift();
        Assert.Null(cache.Get("a"));
        Assert.NotNull(cache.Get("b"));
    }

    [Fact]
    public void Message_cache_byte_cap_evicts_oldest_windows_first()
    {
        var one = MessageSigning.Sign(Key, "t", new byte[1000], 1).CalculateSize();
        var cache = new MessageCache(windows: 5, gossipWindows: 3, maxBytes: 3 * one);
        cache.Put("1", MessageSigning.Sign(Key, "t", new byte[1000], 1));
        cache.Shift();
        cache.Put("2", MessageSigning.Sign(Key, "t", new byte[1000], 2));
        cache.Put("3", MessageSigning.Sign(Key, "t", new byte[1000], 3));
        Assert.True(cache.Put("4", MessageSigning.Sign(Key, "t", new byte[1000], 4)));
        Assert.Null(cache.Get("1"));
        Assert.NotNull(cache.Get("4"));
        Assert.True(cache.Bytes <= 3 * one);
        // Within one window there is nothing older to evict: the new message is not cached.
        Assert.False(cache.Put("5", MessageSigning.Sign(Key, "t", new byte[1000], 5)));
    }

    [Fact]
    public void Seen_cache_expires_and_caps()
    {
        var now = DateTime.UtcNow;
        var seen = new SeenCache(TimeSpan.FromSeconds(10), maxEntries: 2);
        Assert.True(seen.Add("a", now));
        Assert.False(seen.Add("a", now));
        seen.Add("b", now.AddSeconds(5));
        seen.Add("c", now.AddSeconds(6));
        Assert.False(seen.Contains("a"));
        seen.Prune(now.AddSeconds(15.5));
        Assert.False(seen.Contains("b"));
        Assert.True(seen.Contains("c"));
    }
}
