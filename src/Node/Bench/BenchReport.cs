using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keel.Node.Bench;

/// <summary>
/// One benchmark run: one or more tables printed for a person and the same figures as JSON for a
/// script. Figures are compared within one run (ratios), because the machines here are noisy; the
/// report records the machine it ran on so that numbers are never read without their context.
/// </summary>
public sealed class BenchReport(string name)
{
    private readonly List<BenchTable> _tables = [];

    public string Name { get; } = name;

    /// <summary>Free-form notes printed under the tables and kept in the JSON (method, caveats).</summary>
    public List<string> Notes { get; } = [];

    public BenchTable AddTable(string title, params string[] columns)
    {
        var table = new BenchTable(title, columns);
        _tables.Add(table);
        return table;
    }

    public void Print(TextWriter output)
    {
        output.WriteLine($"keel bench {Name}  ({Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version})");
        foreach (var table in _tables)
        {
            output.WriteLine();
            table.Print(output);
        }
        foreach (var note in Notes)
        {
            output.WriteLine($"note: {note}");
        }
    }

    public JsonObject ToJson()
    {
        var tables = new JsonArray();
        foreach (var table in _tables)
        {
            tables.Add(table.ToJson());
        }
        return new JsonObject
        {
            ["bench"] = Name,
            ["utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["machine"] = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["os"] = RuntimeInformation.OSDescription,
                ["arch"] = RuntimeInformation.ProcessArchitecture.ToString(),
                ["runtime"] = Environment.Version.ToString(),
            },
            ["tables"] = tables,
            ["notes"] = new JsonArray([.. Notes.Select(n => (JsonNode?)JsonValue.Create(n))]),
        };
    }

    public void WriteJson(string path)
    {
        File.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}

/// <summary>A titled table of rows; cells are numbers or text.</summary>
public sealed class BenchTable(string title, string[] columns)
{
    private readonly List<object[]> _rows = [];

    public string Title { get; } = title;
    public IReadOnlyList<string> Columns { get; } = columns;
    public IReadOnlyList<object[]> Rows => _rows;

    public void AddRow(params object[] cells)
    {
        if (cells.Length != Columns.Count)
        {
            throw new ArgumentException($"table '{Title}' has {Columns.Count} columns, row has {cells.Length}");
        }
        _rows.Add(cells);
    }

    public void Print(TextWriter output)
    {
        var text = _rows.Select(r => r.Select(Format).ToArray()).ToList();
        var widths = Columns.Select((c, i) => Math.Max(c.Length, text.Count == 0 ? 0 : text.Max(r => r[i].Length))).ToArray();
        output.WriteLine(Title);
        output.WriteLine(string.Join("  ", Columns.Select((c, i) => c.PadLeft(widths[i]))));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in text)
        {
            output.WriteLine(string.Join("  ", row.Select((c, i) => c.PadLeft(widths[i]))));
        }
    }

    public JsonObject ToJson()
    {
        var rows = new JsonArray();
        foreach (var row in _rows)
        {
            var obj = new JsonObject();
            for (var i = 0; i < Columns.Count; i++)
            {
                obj[Columns[i]] = row[i] switch
                {
                    double d => JsonValue.Create(d),
                    float f => JsonValue.Create((double)f),
                    int n => JsonValue.Create(n),
                    long n => JsonValue.Create(n),
                    ulong n => JsonValue.Create(n),
                    bool b => JsonValue.Create(b),
                    var other => JsonValue.Create(Convert.ToString(other, CultureInfo.InvariantCulture)),
                };
            }
            rows.Add(obj);
        }
        return new JsonObject { ["title"] = Title, ["rows"] = rows };
    }

    private static string Format(object cell) => cell switch
    {
        double d when Math.Abs(d) >= 1000 => d.ToString("N0", CultureInfo.InvariantCulture),
        double d when Math.Abs(d) >= 10 => d.ToString("F1", CultureInfo.InvariantCulture),
        double d => d.ToString("G3", CultureInfo.InvariantCulture),
        float f => Format((double)f),
        long or int or ulong => Convert.ToString(cell, CultureInfo.InvariantCulture)!,
        _ => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "",
    };
}
