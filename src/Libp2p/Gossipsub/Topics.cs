namespace Keel.Libp2p.Gossipsub;

/// <summary>Keel's topic names: <c>/keel/&lt;network&gt;/&lt;topic&gt;/&lt;version&gt;</c>, so that a wire change is a new topic.</summary>
public static class Topics
{
    public const int MaxPartLength = 64;

    public static string Versioned(string network, string topic, int version = 1)
    {
        Check(network, nameof(network));
        Check(topic, nameof(topic));
        if (version < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(version), "topic versions start at 1");
        }
        return $"/keel/{network}/{topic}/{version}";
    }

    private static void Check(string part, string name)
    {
        if (string.IsNullOrEmpty(part) || part.Length > MaxPartLength || part.Contains('/') || part.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"a topic {name} is 1 to {MaxPartLength} characters without '/' or spaces: '{part}'", name);
        }
    }
}
