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

    /// <summary>
    /// The result (and a summary line) for a person, as <paramref name="layout"/> (<see cref="ResultLayouts.Decide"/>) says: a bordered table, or an nmap-style list (one line per check,
    /// columns padded, never folded: the console given must not wrap it, see <see cref="ResultLayouts.ListWidth"/>).
    /// </summary>
    public static IRenderable Render(string? taskName, JsonNode? result, ResultLayout layout)
    {
        var kind = KindOf(taskName, result);
        var rows = kind switch
        {
            Kind.Dns => DnsRows(result),
            Kind.Ports => PortRows(result),
            Kind.Apps => AppRows(result),
            _ => null,
        };
        IRenderable body = rows is not null
            ? layout == ResultLayout.List ? List(rows) : Table(rows)
            : kind == Kind.Trace ? Commands.TraceView.Render(result)
            : new Text(result?.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) ?? "(no result)");
        var summary = result?["summary"] as JsonObject;
        var line = summary is null ? "" : string.Join("  ", summary.Where(kv => kv.Value is JsonValue).Select(kv => $"{kv.Key.Replace('_', ' ')}: {kv.Value}"));
        return new Rows(body, new Markup($"[grey]{Markup.Escape(line)}[/]"));
    }

    /// <summary>How many lines the list of this result has (host × port, domains, host × application).</summary>
    public static int RowCount(string? taskName, JsonNode? result) => KindOf(taskName, result) switch
    {
        Kind.Dns => DnsRows(result).Lines.Count,
        Kind.Ports => PortRows(result).Lines.Count,
        Kind.Apps => AppRows(result).Lines.Count,
        _ => 0,
    };

    /// <summary>One check's line: its cells (the state cell coloured by <see cref="Line.Colour"/>).</summary>
    private sealed record Line(string[] Cells, string Colour);

    /// <summary>Column headers, which column is the state, and the lines.</summary>
    private sealed record CheckLines(string[] Headers, int StateColumn, List<Line> Lines);

    private static Table Table(CheckLines rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        for (var i = 0; i < rows.Headers.Length; i++)
        {
            // The first column (host or domain) is what a person reads a line by: never folded into slivers.
            var column = new TableColumn(rows.Headers[i]);
            table.AddColumn(i == 0 || i == rows.StateColumn ? column.NoWrap() : column);
        }
        foreach (var line in rows.Lines)
        {
            table.AddRow(line.Cells.Select((c, i) => (IRenderable)new Markup(i == rows.StateColumn ? Coloured(c, line.Colour) : Markup.Escape(c))));
        }
        return table;
    }

    /// <summary>nmap-style: a header, then one line per check, columns padded to their widest cell, the last one not.</summary>
    private static Rows List(CheckLines rows)
    {
        var cells = rows.Lines.Select(l => l.Cells.Select(c => c.Replace('\n', ' ')).ToArray()).ToList();
        // Columns empty on every line are left out (no CERT / DAYS when no port spoke TLS).
        var shown = Enumerable.Range(0, rows.Headers.Length).Where(i => i <= rows.StateColumn || cells.Any(c => c[i].Length > 0)).ToList();
        return PlainList(shown.Select(i => rows.Headers[i]).ToArray(),
            rows.Lines.Zip(cells).Select(x => shown.Select(i => (x.Second[i], i == rows.StateColumn ? Coloured(x.Second[i], x.First.Colour) : Markup.Escape(x.Second[i]))).ToArray()));
    }

    /// <summary>
    /// Lines of padded columns (a cell's width is its text's; its markup only colours it), the last column not
    /// padded. Written on a console that does not fold lines (<see cref="ResultLayouts.ListWidth"/>), each line
    /// keeps its first cell whole, however narrow the terminal.
    /// </summary>
    public static Rows PlainList(string[] headers, IEnumerable<(string Text, string Markup)[]> rows)
    {
        var all = rows.ToList();
        var widths = Enumerable.Range(0, headers.Length).Select(i => all.Select(r => r[i].Text.Length).Append(headers[i].Length).Max()).ToArray();
        string Line(IEnumerable<(string Text, string Markup)> cells) =>
            string.Concat(cells.Select((c, i) => i == headers.Length - 1 ? c.Markup : c.Markup + new string(' ', widths[i] - c.Text.Length + 2))).TrimEnd();
        var lines = new List<IRenderable> { new Markup("[bold]" + Line(headers.Select(h => (h, Markup.Escape(h)))) + "[/]") };
        lines.AddRange(all.Select(r => new Markup(Line(r))));
        return new Rows(lines);
    }

    private static string Coloured(string text, string colour) => colour.Length == 0 ? Markup.Escape(text) : $"[{colour}]{Markup.Escape(text)}[/]";

    /// <summary>The colour of a check's state: red failed, amber only "expires soon", green passed.</summary>
    private static string StatusColour(string status) => status switch { "ok" => "green", "warn" => "darkorange", _ => "red" };

    /// <summary>ok → ok, bad → fail, warn → warn: the words the lists and tables print.</summary>
    private static string StatusWord(string status) => status == "bad" ? "fail" : status;

    // ---------- dns.check_records ----------
    private static CheckLines DnsRows(JsonNode? result)
    {
        var domains = Hosts(result).ToList();
        var colours = domains.Select(d => Text(d.Value["state"])).Where(DnsVerdict.IsNamed).Distinct()
            .Order(Comparer<string?>.Create(StateOrder)).Select((s, i) => (s!, StateColours[i % StateColours.Length])).ToDictionary();
        var perNs = domains.Any(d => NameserverAnswers(d.Value).Any());
        var headers = perNs ? new[] { "DOMAIN", "TYPE", "STATE", "REASON", "RETRIEVED", "PER NAMESERVER" } : ["DOMAIN", "TYPE", "STATE", "REASON", "RETRIEVED"];
        var lines = new List<Line>();
        foreach (var (domain, r) in domains)
        {
            var state = Text(r["state"]) ?? "?";
            var ok = DnsVerdict.DomainOk(r);
            var cells = new List<string>
            {
                domain, Text(r["record_type"]) ?? "", state, ok ? "" : DnsReason(r, state),
                string.Join('\n', Strings(r["retrieved"])),
            };
            if (perNs)
            {
                var reference = string.Join(' ', Strings(r["retrieved"]).Order(StringComparer.Ordinal));
                cells.Add(string.Join('\n', NameserverAnswers(r).Select(a =>
                {
                    var values = string.Join(' ', Strings(a.Answer["retrieved"] ?? a.Answer["values"]).Order(StringComparer.Ordinal));
                    var err = Text(a.Answer["error"]);
                    var differs = err is not null || values != reference ? " (differs)" : "";
                    return $"{a.Nameserver}: {err ?? values}{differs}";
                })));
            }
            lines.Add(new Line([.. cells], ok ? $"bold {colours.GetValueOrDefault(state, "blue")}" : "red"));
        }
        return new CheckLines(headers, 2, lines);
    }

    /// <summary>Why a domain failed, in words: the server's error, else what its state means.</summary>
    private static string DnsReason(JsonObject r, string state)
    {
        if (Text(r["error"]) is { } error)
        {
            return error;
        }
        var reason = state switch
        {
            DnsVerdict.Unknown => "the records match no named state",
            DnsVerdict.Inconsistent => "the nameservers disagree",
            _ => DnsVerdict.Outcome(r) is var outcome && outcome != state ? $"resolvers failed: {outcome[(state.Length + 1)..].Trim('(', ')')}" : "the check failed",
        };
        return Text(r["closest_state"]) is { } closest ? $"{reason} (closest: {closest})" : reason;
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

    /// <summary>
    /// ok, bad (closed, in the wrong state, or its certificate refused) or warn (accepted, but it expires in fewer
    /// than <see cref="CertWarnDays"/> days). A refused certificate is a failure, never a warning.
    /// </summary>
    public static string PortStatus(JsonNode? p)
    {
        // A port may be expected closed ("expected": "closed"); then closed is the good outcome and open the bad one.
        var expected = Text(p?["expected"]);
        if (p?["open"]?.GetValueKind() != System.Text.Json.JsonValueKind.True)
        {
            return expected is "closed" or "any" ? "ok" : "bad";
        }
        if (expected == "closed" || IsFalse(p["ok"]))
        {
            return "bad";
        }
        if (p["tls"] is JsonObject t)
        {
            // The server's "ok" already says whether the certificate was accepted (verify_ssl=false accepts any);
            // without one (an older result), any certificate problem fails.
            if (p["ok"] is null && (!IsNull(t["error"]) || IsFalse(t["loaded"]) || IsFalse(t["name_match"]) || IsFalse(t["chain_valid"])))
            {
                return "bad";
            }
            if (DaysLeft(t) is { } days && days < CertWarnDays)
            {
                return "warn";
            }
        }
        return "ok";
    }

    /// <summary>Why a port is in its state, in the words the service gives ("name mismatch: certificate is for ...").</summary>
    public static string PortReason(JsonObject p)
    {
        var status = PortStatus(p);
        var open = p["open"]?.GetValueKind() == System.Text.Json.JsonValueKind.True;
        var expected = Text(p["expected"]);
        var error = Text(p["error"]);
        if (!open)
        {
            var why = error ?? Text(p["error_kind"]) ?? "closed";
            return expected switch
            {
                "closed" => $"closed, as expected ({why})",
                "any" => $"closed, not required ({why})",
                _ => why,
            };
        }
        if (expected == "closed")
        {
            return error ?? "open, expected closed";
        }
        if (p["tls"] is JsonObject t)
        {
            if (status == "bad")
            {
                return Text(t["error"]) ?? error ?? (IsFalse(t["name_match"]) ? "name mismatch"
                    : string.Join("; ", Strings(t["chain_errors"])) is { Length: > 0 } chain ? chain : "certificate not accepted");
            }
            if (status == "warn")
            {
                return $"certificate expires in {DaysLeft(t)} days";
            }
            return Text(t["error"]) is { } accepted ? $"open, TLS not verified: {accepted}" : $"open, TLS {Text(t["protocol"]) ?? "ok"}";
        }
        return error ?? (expected == "any" ? "open, not required" : "open");
    }

    private static IEnumerable<KeyValuePair<string, JsonObject>> Ports(JsonObject host) =>
        (host["ports"] as JsonObject ?? []).Where(kv => kv.Value is JsonObject).Select(kv => KeyValuePair.Create(kv.Key, (JsonObject)kv.Value!));

    /// <summary>One line per host × port: open ports first (what a range scan is for), then the rest, each by host and port.</summary>
    private static CheckLines PortRows(JsonNode? result)
    {
        var all = new List<(int Rank, int Host, int Port, Line Line)>();
        var hostIndex = 0;
        foreach (var (host, r) in Hosts(result))
        {
            hostIndex++;
            if (Text(r["error"]) is { } hostError && !Ports(r).Any())
            {
                all.Add((1, hostIndex, 0, new Line([host, "", "fail", hostError, "", ""], "red")));
                continue;
            }
            foreach (var (port, p) in Ports(r))
            {
                var status = PortStatus(p);
                var t = p["tls"] as JsonObject;
                var open = p["open"]?.GetValueKind() == System.Text.Json.JsonValueKind.True;
                var reason = PortReason(p);
                if (status != "ok" && r["by_address"] is JsonObject { Count: > 1 } && Text(p["address"]) is { } address && address != host)
                {
                    // all_addresses: the port shows its worst address; say which one it is.
                    reason += $" (at {address})";
                }
                var cells = new[]
                {
                    host, port, StatusWord(status), reason,
                    t is null ? "" : Text(t["cn"]) ?? Text(t["subject"]) ?? "",
                    t is not null && DaysLeft(t) is { } days ? days.ToString(CultureInfo.InvariantCulture) : "",
                };
                all.Add((open ? 0 : 1, hostIndex, int.TryParse(port, out var n) ? n : int.MaxValue, new Line(cells, StatusColour(status))));
            }
        }
        var lines = all.OrderBy(l => l.Rank).ThenBy(l => l.Host).ThenBy(l => l.Port).Select(l => l.Line).ToList();
        return new CheckLines(["HOST", "PORT", "STATE", "REASON", "CERT", "DAYS"], 2, lines);
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

    /// <summary>One line per host × application: failed ones first, each with the service's reason.</summary>
    private static CheckLines AppRows(JsonNode? result)
    {
        var lines = new List<(bool Ok, Line Line)>();
        foreach (var (host, r) in Hosts(result))
        {
            if (Text(r["error"]) is { } hostError && !Apps(r).Any())
            {
                lines.Add((false, new Line([host, "", "fail", hostError], "red")));
            }
            foreach (var (app, a) in Apps(r))
            {
                var ok = a["ok"]?.GetValueKind() == System.Text.Json.JsonValueKind.True;
                var reason = ok ? "" : Text(a["error"]) is { } e ? (Text(a["error_kind"]) is { } k && !e.Contains(k, StringComparison.Ordinal) ? $"{k}: {e}" : e)
                    : Text(a["error_kind"]) ?? "failed";
                lines.Add((ok, new Line([host, app, ok ? "ok" : "fail", reason], ok ? "green" : "red")));
            }
        }
        return new CheckLines(["HOST", "APPLICATION", "STATE", "REASON"], 2, lines.OrderBy(l => l.Ok).Select(l => l.Line).ToList());
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
