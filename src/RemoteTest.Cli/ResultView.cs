using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Rendering;
using RemoteTest.Cli.Verdicts;

namespace RemoteTest.Cli;

/// <summary>Result tables like the web UI's, and whether every check passed (the exit code).</summary>
public static class ResultView
{
    /// <summary>A certificate with fewer days left than this is a warning (amber), as in the web UI.</summary>
    public const int CertWarnDays = 21;

    private static readonly string[] StateColours = ["blue", "purple", "green", "darkorange", "fuchsia", "teal"];

    private enum Kind { Dns, Ports, Apps, Trace, Other }

    private static Kind KindOf(string? taskName, JsonNode? result)
    {
        switch (taskName)
        {
            case "dns.check_records": return Kind.Dns;
            case "porttest.run": return Kind.Ports;
            case "apptest.run": return Kind.Apps;
            case "path.trace": return Kind.Trace;
        }
        var first = Hosts(result).Select(h => h.Value).FirstOrDefault();
        return first?["retrieved"] is not null ? Kind.Dns : first?["ports"] is not null ? Kind.Ports : Kind.Other;
    }

    private static IEnumerable<KeyValuePair<string, JsonObject>> Hosts(JsonNode? result) =>
        (result?["results"] as JsonObject ?? []).Where(kv => kv.Value is JsonObject).Select(kv => KeyValuePair.Create(kv.Key, (JsonObject)kv.Value!));

    /// <summary>True when every check passed: the summary's <c>ok</c> when the task reports one, else per kind.</summary>
    public static bool Passed(string? taskName, JsonNode? result)
    {
        if (result?["summary"]?["ok"] is JsonValue ok && ok.TryGetValue(out bool b))
        {
            return b;
        }
        return KindOf(taskName, result) switch
        {
            Kind.Dns => DnsVerdict.ResultOk(result),
            Kind.Ports => Hosts(result).All(h => (h.Value["failed_ports"] as JsonArray ?? []).Count == 0 &&
                                                 Ports(h.Value).All(p => PortStatus(p.Value) != "bad")),
            Kind.Apps => Hosts(result).All(h => Apps(h.Value).All(a => a.Value["ok"]?.GetValueKind() == System.Text.Json.JsonValueKind.True)),
            _ => true,
        };
    }

    /// <summary>The result's table (and a summary line) for a person.</summary>
    public static IRenderable Render(string? taskName, JsonNode? result)
    {
        IRenderable table = KindOf(taskName, result) switch
        {
            Kind.Dns => DnsTable(result),
            Kind.Ports => PortsTable(result),
            Kind.Apps => AppsTable(result),
            Kind.Trace => Commands.TraceView.Render(result),
            _ => new Text(result?.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) ?? "(no result)"),
        };
        var summary = result?["summary"] as JsonObject;
        var line = summary is null ? "" : string.Join("  ", summary.Where(kv => kv.Value is JsonValue).Select(kv => $"{kv.Key.Replace('_', ' ')}: {kv.Value}"));
        return new Rows(table, new Markup($"[grey]{Markup.Escape(line)}[/]"));
    }

    // ---------- dns.check_records ----------
    private static Table DnsTable(JsonNode? result)
    {
        var domains = Hosts(result).ToList();
        var colours = domains.Select(d => Text(d.Value["state"])).Where(DnsVerdict.IsNamed).Distinct()
            .Order(Comparer<string?>.Create(StateOrder)).Select((s, i) => (s!, StateColours[i % StateColours.Length])).ToDictionary();
        var perNs = domains.Any(d => NameserverAnswers(d.Value).Any());
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Domain", "Type", "State", "Retrieved", "Details");
        if (perNs)
        {
            table.AddColumn("Per nameserver");
        }
        foreach (var (domain, r) in domains)
        {
            var state = Text(r["state"]) ?? "?";
            var bad = !DnsVerdict.DomainOk(r);
            var stateCell = bad ? $"[white on red] {Markup.Escape(state)} [/]" : $"[bold {colours.GetValueOrDefault(state, "blue")}]{Markup.Escape(state)}[/]";
            if (Text(r["closest_state"]) is { } closest)
            {
                stateCell += $" [grey](closest: {Markup.Escape(closest)})[/]";
            }
            var row = new List<IRenderable>
            {
                new Text(domain), new Text(Text(r["record_type"]) ?? ""), new Markup(stateCell),
                new Text(string.Join('\n', Strings(r["retrieved"]))),
                Text(r["error"]) is { } error ? new Markup($"[red]{Markup.Escape(error)}[/]") : new Text(""),
            };
            if (perNs)
            {
                var reference = string.Join(' ', Strings(r["retrieved"]).Order(StringComparer.Ordinal));
                row.Add(new Markup(string.Join('\n', NameserverAnswers(r).Select(a =>
                {
                    var values = string.Join(' ', Strings(a.Answer["retrieved"] ?? a.Answer["values"]).Order(StringComparer.Ordinal));
                    var err = Text(a.Answer["error"]);
                    var text = $"{a.Nameserver}: {err ?? values}";
                    return err is not null || values != reference ? $"[yellow]{Markup.Escape(text)}[/]" : Markup.Escape(text);
                }))));
            }
            table.AddRow(row);
        }
        return table;
    }

    private static int StateOrder(string? a, string? b)
    {
        if (a == b) return 0;
        if (a == "original") return -1;
        if (b == "original") return 1;
        var na = double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var x);
        var nb = double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var y);
        return na && nb ? x.CompareTo(y) : string.CompareOrdinal(a, b);
    }

    private static IEnumerable<(string Nameserver, JsonObject Answer)> NameserverAnswers(JsonObject r)
    {
        var ns = r["by_nameserver"] ?? r["nameservers"] ?? r["per_nameserver"];
        return ns switch
        {
            JsonObject o => o.Where(kv => kv.Value is JsonObject).Select(kv => (kv.Key, (JsonObject)kv.Value!)),
            JsonArray a => a.OfType<JsonObject>().Select(x => (Text(x["nameserver"]) ?? Text(x["server"]) ?? "?", x)),
            _ => [],
        };
    }

    // ---------- porttest.run ----------

    /// <summary>ok, bad (closed or failed) or warn (open, but the TLS check found a problem).</summary>
    public static string PortStatus(JsonNode? p)
    {
        // A port may be expected closed ("expected": "closed"); then closed is the good outcome and open the bad one.
        var expected = Text(p?["expected"]);
        if (p?["open"]?.GetValueKind() != System.Text.Json.JsonValueKind.True)
        {
            return expected is "closed" or "any" ? "ok" : "bad";
        }
        if (expected == "closed")
        {
            return "bad";
        }
        if (p["tls"] is JsonObject t && (!IsNull(t["error"]) || IsFalse(t["loaded"]) || IsFalse(t["name_match"]) || IsFalse(t["chain_valid"]) ||
                                         (DaysLeft(t) is { } days && days < CertWarnDays)))
        {
            return "warn";
        }
        return "ok";
    }

    private static IEnumerable<KeyValuePair<string, JsonObject>> Ports(JsonObject host) =>
        (host["ports"] as JsonObject ?? []).Where(kv => kv.Value is JsonObject).Select(kv => KeyValuePair.Create(kv.Key, (JsonObject)kv.Value!));

    private static Table PortsTable(JsonNode? result)
    {
        var hosts = Hosts(result).ToList();
        var ports = hosts.SelectMany(h => Ports(h.Value).Select(p => p.Key)).Distinct()
            .OrderBy(p => int.TryParse(p, out var n) ? n : int.MaxValue).ThenBy(p => p, StringComparer.Ordinal).ToList();
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Host");
        foreach (var port in ports)
        {
            table.AddColumn(new TableColumn(port).Centered());
        }
        foreach (var (host, r) in hosts)
        {
            var cells = new List<IRenderable> { new Markup(Markup.Escape(host) + (Text(r["error"]) is { } e ? $"\n[red]{Markup.Escape(e)}[/]" : "")) };
            var byPort = Ports(r).ToDictionary(p => p.Key, p => p.Value);
            foreach (var port in ports)
            {
                cells.Add(byPort.TryGetValue(port, out var p) ? PortCell(p) : new Text(""));
            }
            table.AddRow(cells);
        }
        return table;
    }

    private static Markup PortCell(JsonObject p)
    {
        var status = PortStatus(p);
        var colour = status switch { "ok" => "green", "warn" => "yellow", _ => "red" };
        var lines = new List<string> { p["open"]?.GetValueKind() == System.Text.Json.JsonValueKind.True ? "open" : Text(p["error_kind"]) ?? "closed" };
        if (Text(p["expected"]) is { } expected && expected != "open")
        {
            lines.Add($"expected {expected}");
        }
        if (p["tls"] is JsonObject t)
        {
            if (Text(t["cn"]) is { } cn) lines.Add(cn);
            if (DaysLeft(t) is { } days) lines.Add($"{days} d left");
            if (Text(t["error"]) is { } err) lines.Add(Text(t["error_kind"]) ?? Shorten(err));
        }
        return new Markup($"[{colour}]{string.Join('\n', lines.Select(Markup.Escape))}[/]");
    }

    private static int? DaysLeft(JsonObject t)
    {
        if (t["days_left"] is JsonValue v && v.TryGetValue(out double d))
        {
            return (int)Math.Floor(d);
        }
        return Text(t["expires_utc"]) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var end)
            ? (int)Math.Floor((end - DateTimeOffset.UtcNow).TotalDays)
            : null;
    }

    // ---------- apptest.run ----------
    private static IEnumerable<KeyValuePair<string, JsonObject>> Apps(JsonObject host)
    {
        var source = host["applications"] as JsonObject ?? host;
        return source.Where(kv => kv.Value is JsonObject o && o.ContainsKey("ok")).Select(kv => KeyValuePair.Create(kv.Key, (JsonObject)kv.Value!));
    }

    private static Table AppsTable(JsonNode? result)
    {
        var hosts = Hosts(result).ToList();
        var apps = hosts.SelectMany(h => Apps(h.Value).Select(a => a.Key)).Distinct().ToList();
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Host");
        foreach (var app in apps)
        {
            table.AddColumn(app);
        }
        foreach (var (host, r) in hosts)
        {
            var byApp = Apps(r).ToDictionary(a => a.Key, a => a.Value);
            var cells = new List<IRenderable> { new Text(host) };
            foreach (var app in apps)
            {
                cells.Add(!byApp.TryGetValue(app, out var a) ? new Text("")
                    : a["ok"]?.GetValueKind() == System.Text.Json.JsonValueKind.True ? new Markup("[green]ok[/]")
                    : new Markup($"[red]{Markup.Escape(Text(a["error_kind"]) ?? "failed")}\n{Markup.Escape(Shorten(Text(a["error"]) ?? ""))}[/]"));
            }
            table.AddRow(cells);
        }
        return table;
    }

    // ---------- JSON helpers ----------
    /// <summary>
    /// A task state, secondary to the verdict: it only says whether the task ran, so it is never green. Colours mean
    /// one thing each (as in the UI): red failed, green passed, amber only "expires soon"; running is blue.
    /// </summary>
    public static string StateMarkup(string? state) => state switch
    {
        null => "",
        "FAILURE" => "[red]FAILURE[/]",
        "STARTED" or "RETRY" => $"[blue]{state}[/]",
        _ => Markup.Escape(state),
    };

    /// <summary>The task's <c>verdict</c> (Tasks/TaskVerdict on the server) as the badge that leads: PASS, FAIL 2/5, PARTIAL 1/3, ERROR.</summary>
    public static string VerdictMarkup(JsonNode? task)
    {
        var verdict = Text(task?["verdict"]);
        if (verdict is null)
        {
            return "";
        }
        var counts = task?["checks"] is JsonObject c && c["passed"] is JsonValue p && c["failed"] is JsonValue f
            && p.TryGetValue(out int passed) && f.TryGetValue(out int failed) && passed + failed > 0
            ? $" {failed}/{passed + failed}" : "";
        return verdict switch
        {
            "pass" => "[green]PASS[/]",
            "fail" or "partial" => $"[red]{verdict.ToUpperInvariant()}{counts}[/]",
            "error" => "[red]ERROR[/]",
            _ => Markup.Escape(verdict.ToUpperInvariant()),
        };
    }

    internal static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : node is JsonValue n ? n.ToJsonString() : null;

    private static bool IsNull(JsonNode? node) => node is null || node.GetValueKind() == System.Text.Json.JsonValueKind.Null;

    private static bool IsFalse(JsonNode? node) => node?.GetValueKind() == System.Text.Json.JsonValueKind.False;

    private static IEnumerable<string> Strings(JsonNode? node) => (node as JsonArray ?? []).Select(x => Text(x) ?? "");

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
