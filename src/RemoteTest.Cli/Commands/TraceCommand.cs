using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Rendering;

namespace RemoteTest.Cli.Commands;

public sealed class TraceSettings : SubmitSettings
{
    [CommandArgument(0, "<HOST:PORT[,PORT...]>")]
    [Description("Where to trace to, e.g. sbc.example.com:5061 or 192.0.2.10:443,5061; with --icmp a bare HOST will do.")]
    public string[] Targets { get; set; } = [];

    [CommandOption("--udp")]
    [Description("UDP datagrams to the port (e.g. SIP 5060) instead of TCP SYNs.")]
    public bool Udp { get; set; }

    [CommandOption("--icmp")]
    [Description("ICMP echo (ping with a TTL) instead of TCP SYNs.")]
    public bool Icmp { get; set; }

    [CommandOption("-c|--count <N>")]
    [Description("Probes per hop; above 1 the table shows loss and RTT statistics per hop, as mtr --report.")]
    public int? Count { get; set; }

    [CommandOption("--max-hops <N>")]
    [Description("Highest TTL probed (server default 30).")]
    public int? MaxHops { get; set; }

    public override ValidationResult Validate() =>
        Targets.Length == 0 ? ValidationResult.Error("give at least one HOST:PORT")
        : Udp && Icmp ? ValidationResult.Error("--udp and --icmp exclude each other")
        : Count is < 1 ? ValidationResult.Error("--count must be at least 1")
        : base.Validate();
}

/// <summary><c>remotetest trace HOST:PORT [--udp|--icmp] [--count N]</c>: path.trace; exit code 1 when a target was not reached.</summary>
public sealed class TraceCommand(CliEnvironment environment) : SubmitCommand<TraceSettings>(environment)
{
    protected override JsonObject BuildPayload(TraceSettings settings)
    {
        var data = new JsonObject();
        foreach (var target in settings.Targets)
        {
            var (host, ports) = settings.Icmp && !HasPort(target) ? (target.Trim('[', ']'), new List<int>()) : PortCommand.ParseTarget(target);
            if (data[host] is not JsonObject entry)
            {
                data[host] = entry = new JsonObject { ["ports"] = new JsonArray() };
            }
            foreach (var port in ports)
            {
                entry["ports"]!.AsArray().Add(port);
            }
        }
        var payload = JsonInput.Payload("path.trace", data);
        var kwargs = JsonInput.Kwargs(payload);
        kwargs["protocol"] = settings.Udp ? "udp" : settings.Icmp ? "icmp" : "tcp";
        if (settings.Count is { } count)
        {
            kwargs["count"] = count;
        }
        if (settings.MaxHops is { } hops)
        {
            kwargs["max_hops"] = hops;
        }
        return payload;
    }

    private static bool HasPort(string target) =>
        target.StartsWith('[') ? target.Contains("]:", StringComparison.Ordinal) : target.Count(c => c == ':') == 1;
}

/// <summary>path.trace's result as hop tables in the layout of <c>mtr --report</c>, the drop point marked.</summary>
public static class TraceView
{
    public static IRenderable Render(JsonNode? result)
    {
        var rows = new List<IRenderable>();
        foreach (var (host, value) in (result?["results"] as JsonObject ?? []).Where(kv => kv.Value is JsonObject))
        {
            if (ResultView.Text(value!["error"]) is { } hostError)
            {
                rows.Add(new Markup($"[bold]{Markup.Escape(host)}[/] [red]{Markup.Escape(hostError)}[/]"));
                continue;
            }
            foreach (var (key, trace) in (value["ports"] as JsonObject ?? []).Where(kv => kv.Value is JsonObject))
            {
                rows.Add(Trace(host, key, (JsonObject)trace!));
            }
        }
        return new Rows(rows);
    }

    private static IRenderable Trace(string host, string key, JsonObject trace)
    {
        var protocol = ResultView.Text(trace["protocol"]) ?? "tcp";
        var title = key == "icmp" ? $"{host} icmp" : $"{host}:{key} {protocol}";
        var end = ResultView.Text(trace["end"]);
        var verdict = end switch
        {
            "reached" => "[green]reached[/]",
            "filtered" => trace["filtered_after"] is JsonObject f
                ? $"[red]filtered after hop {f["ttl"]} ({Markup.Escape(ResultView.Text(f["address"]) ?? "")})[/]"
                : "[red]filtered: no hop answered[/]",
            "unreachable" => $"[red]unreachable: {Markup.Escape(ResultView.Text(trace["unreachable"]?["name"]) ?? "")} from {Markup.Escape(ResultView.Text(trace["unreachable"]?["from"]) ?? "")}[/]",
            _ => $"[red]{Markup.Escape(ResultView.Text(trace["error"]) ?? "not traced")}[/]",
        };
        var table = new Table().Border(TableBorder.Simple).Title($"[bold]{Markup.Escape(title)}[/] {verdict}");
        foreach (var column in new[] { "Hop", "Host", "Loss%", "Snt", "Last", "Avg", "Best", "Wrst", "StDev" })
        {
            table.AddColumn(column is "Host" ? new TableColumn(column) : new TableColumn(column).RightAligned());
        }
        var dropAfter = trace["filtered_after"]?["ttl"] is JsonValue d && d.TryGetValue(out int ttl) ? ttl : -1;
        foreach (var hop in (trace["hops"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var hopTtl = hop["ttl"]!.GetValue<int>();
            var address = ResultView.Text(hop["address"]);
            var name = ResultView.Text(hop["name"]);
            var hostText = address is null ? "???" : name is null ? address : $"{name} ({address})";
            var answer = ResultView.Text(hop["answer"]);
            var rtts = (hop["rtt_ms"] as JsonArray ?? []).ToList();
            string markup = Markup.Escape(hostText);
            if (answer == "unreachable")
            {
                markup = $"[red]{markup} !{Markup.Escape(ResultView.Text(trace["unreachable"]?["name"]) ?? "unreachable")}[/]";
            }
            else if (address is null && hopTtl == dropAfter + 1)
            {
                markup = "[red]??? <- dropped here (no answer from this hop on)[/]";
            }
            table.AddRow(
                hopTtl.ToString(CultureInfo.InvariantCulture),
                markup,
                Number(hop["loss_pct"], "0.0") + "%",
                ResultView.Text(hop["sent"]) ?? "",
                rtts.Count > 0 ? Number(rtts[^1], "0.0") : "",
                Number(hop["rtt_avg"], "0.0"),
                Number(hop["rtt_min"], "0.0"),
                Number(hop["rtt_max"], "0.0"),
                Number(hop["rtt_stdev"], "0.0"));
        }
        return table;
    }

    private static string Number(JsonNode? node, string format) =>
        node is JsonValue v && v.TryGetValue(out double d) ? d.ToString(format, CultureInfo.InvariantCulture) : "";
}
