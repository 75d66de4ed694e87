using System.Globalization;
using System.Text;

namespace Keel.Node.Metrics;

/// <summary>
/// Prometheus text format rules for names, labels and numbers (exposition format 0.0.4), and the
/// mapping from System.Diagnostics.Metrics names and units (OpenTelemetry conventions) to them.
/// </summary>
public static class PrometheusNaming
{
    /// <summary>
    /// The Prometheus family name of an instrument: invalid characters (dots, dashes) become
    /// underscores, a known unit is appended as a word (<c>s</c> → <c>_seconds</c>, <c>By</c> →
    /// <c>_bytes</c>) unless the name already ends with it, and counters end in <c>_total</c>.
    /// </summary>
    public static string MetricName(string instrumentName, string? unit, bool isCounter)
    {
        var name = Sanitize(instrumentName, allowColon: true);
        if (isCounter && name.EndsWith("_total", StringComparison.Ordinal))
        {
            name = name[..^"_total".Length];
        }
        var suffix = UnitSuffix(unit, isCounter);
        if (suffix is not null && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name = $"{name}_{suffix}";
        }
        return isCounter ? name + "_total" : name;
    }

    /// <summary>
    /// The word for a unit (UCUM codes as OpenTelemetry writes them); null for annotations such as
    /// <c>{block}</c>, empty units and units this table does not know, which add no suffix.
    /// </summary>
    public static string? UnitSuffix(string? unit, bool isCounter) => unit switch
    {
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" or "μs" => "microseconds",
        "ns" => "nanoseconds",
        "min" => "minutes",
        "h" => "hours",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "bit" => "bits",
        "%" => "percent",
        "Hz" => "hertz",
        "Cel" => "celsius",
        // A dimensionless ratio: Prometheus names gauges of one "_ratio"; a counted "1" is just a count.
        "1" => isCounter ? null : "ratio",
        _ => null,
    };

    /// <summary>A label name: [a-zA-Z_][a-zA-Z0-9_]*.</summary>
    public static string LabelName(string key) => Sanitize(key, allowColon: false);

    /// <summary>Replaces characters outside [a-zA-Z0-9_] (and ':' in metric names) by '_' and guards a leading digit.</summary>
    public static string Sanitize(string name, bool allowColon)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "_";
        }
        var builder = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }
        return builder.ToString();
    }

    /// <summary>A label value inside double quotes: backslash, double quote and line feed are escaped.</summary>
    public static string EscapeLabelValue(string value)
    {
        if (value.AsSpan().IndexOfAny("\\\"\n") < 0)
        {
            return value;
        }
        return value.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);
    }

    /// <summary>HELP text: backslash and line feed are escaped (double quotes are not, in HELP).</summary>
    public static string EscapeHelp(string help) =>
        help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>A sample value as Prometheus parses it: shortest round-trip form, +Inf, -Inf, NaN.</summary>
    public static string FormatValue(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            return "+Inf";
        }
        if (double.IsNegativeInfinity(value))
        {
            return "-Inf";
        }
        return double.IsNaN(value) ? "NaN" : value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A tag value as label text, independent of culture.</summary>
    public static string FormatTagValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
