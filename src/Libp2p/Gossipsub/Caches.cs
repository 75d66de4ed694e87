using Keel.Libp2p.Protos;

namespace Keel.Libp2p.Gossipsub;

/// <summary>
/// Recent messages by id, in heartbeat windows: IWANT is served from all windows, IHAVE
/// advertises the newest <c>gossip</c> windows, and the oldest window falls off each heartbeat.
/// </summary>
internal sealed class MessageCache(int windows, int gossipWindows, long maxBytes = long.MaxValue)
{
    private long _bytes;

    /// <summary>Bytes of message data held (the cap makes a flood evict old windows early instead of growing memory).</summary>
    public long Bytes => _bytes;

    internal sealed class Entry(Message message, string topic)
    {
        public Message Message { get; } = message;
        public string Topic { get; } = topic;
        /// <summary>IWANT retransmissions per peer, capped so that a peer cannot make us resend forever.</summary>
        public Dictionary<PeerId, int> Served { get; } = [];
    }

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<List<(string Id, string Topic)>> _windows = new([new List<(string, string)>()]);

    public int Count => _entries.Count;

    public bool Put(string id, Message message)
    {
        if (_entries.ContainsKey(id))
        {
            return false;
        }
        var size = message.CalculateSize();
        while (_bytes + size > maxBytes && _windows.Count > 1)
        {
            EvictOldest();
        }
        if (_bytes + size > maxBytes)
        {
            return false; // even the newest window is full: serve this one from nowhere rather than grow
        }
        _entries[id] = new Entry(message, message.Topic);
        _windows.First!.Value.Add((id, message.Topic));
        _bytes += size;
        return true;
    }

    private void EvictOldest()
    {
        foreach (var (id, _) in _windows.Last!.Value)
        {
            if (_entries.Remove(id, out var e))
            {
                _bytes -= e.Message.CalculateSize();
            }
        }
        _windows.RemoveLast();
    }

    public Entry? Get(string id) => _entries.GetValueOrDefault(id);

    /// <summary>Ids for IHAVE on <paramref name="topic"/>, newest windows first.</summary>
    public List<string> GossipIds(string topic)
    {
        var ids = new List<string>();
        var n = 0;
        for (var w = _windows.First; w is not null && n < gossipWindows; w = w.Next, n++)
        {
            foreach (var (id, t) in w.Value)
            {
                if (t == topic)
                {
                    ids.Add(id);
                }
            }
        }
        return ids;
    }

    public void Shift()
    {
        _windows.AddFirst([]);
        while (_windows.Count > windows)
        {
            EvictOldest();
        }
    }
}

/// <summary>Message ids seen recently (deduplication), expiring after a TTL and capped in count.</summary>
internal sealed class SeenCache(TimeSpan ttl, int maxEntries)
{
    private readonly Dictionary<string, DateTime> _expiry = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, DateTime Expiry)> _order = new();

    public int Count => _expiry.Count;

    public bool Contains(string id) => _expiry.ContainsKey(id);

    /// <summary>Adds the id; false when it was already there.</summary>
    public bool Add(string id, DateTime now)
    {
        if (_expiry.ContainsKey(id))
        {
            return false;
        }
        var expiry = now + ttl;
        _expiry[id] = expiry;
        _order.Enqueue((id, expiry));
        while (_order.Count > maxEntries)
        {
            _expiry.Remove(_order.Dequeue().Id);
        }
        return true;
    }

    public void Prune(DateTime now)
    {
        while (_order.TryPeek(out var head) && head.Expiry <= now)
        {
            _order.Dequeue();
            _expiry.Remove(head.Id);
        }
    }
}
