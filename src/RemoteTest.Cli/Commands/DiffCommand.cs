using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

public sealed class DiffSettings : ServerSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The task to look at (after the change).")]
    public string Id { get; set; } = "";

    [CommandArgument(1, "[OTHER_ID]")]
    [Description("The task to compare with (before the change).")]
    public string? Other { get; set; }

    [CommandOption("--baseline <NAME>")]
    [Description("Compare with this pinned baseline instead of a task id.")]
    public string? Baseline { get; set; }

    public override ValidationResult Validate() => (Other is null) == (Baseline is null)
        ? ValidationResult.Error("give either OTHER_ID or --baseline NAME")
        : ValidationResult.Success();
}

/// <summary>
/// <c>remotetest diff ID [OTHER_ID | --baseline NAME]</c>: what changed (<c>GET /task/{id}/diff</c>) as a table;
/// exit 1 when anything changed, 0 when nothing did, 2 for bad input or an unknown task.
/// </summary>
public sealed class DiffCommand(CliEnvironment environment) : AsyncCommand<DiffSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DiffSettings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var against = settings.Baseline is { } name ? $"baseline:{name}" : settings.Other!;
        var diff = await api.GetAsync($"task/{Uri.EscapeDataString(settings.Id)}/diff?against={Uri.EscapeDataString(against)}", "diff", cancellationToken) as JsonObject
            ?? throw new CliException("diff: the server answered no diff");
        var changed = diff["changed"] is JsonValue v && v.TryGetValue(out bool b) && b;
        if (settings.Json)
        {
            environment.Out.WriteLine(diff.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return changed ? ExitCodes.Failed : ExitCodes.Passed;
        }
        var console = environment.CreateOutConsole();
        var zone = settings.Zone(environment);
        foreach (var (label, side) in new[] { ("before", diff["before"]), ("after", diff["after"]) })
        {
            if (side is JsonObject s0)
            {
                // Which runs are compared, and when each ended: the times a change window is judged by.
                var done = CliTime.Format(ResultView.Text(s0["date_done"]), zone);
                console.MarkupLine($"[grey]{label}: {Markup.Escape(ResultView.Text(s0["task_id"]) ?? "")}{(done is null ? "" : $"  done {Markup.Escape(done)}")}" +
                                   $"{(ResultView.Text(s0["queue"]) is { } q ? $"  queue {Markup.Escape(q)}" : "")}[/]");
            }
        }
        console.Write(Render(diff));
        var s = diff["summary"];
        console.MarkupLine($"[grey]changed: {s?["changed"]}  unchanged: {s?["unchanged"]}  added: {s?["added"]}  removed: {s?["removed"]}[/]");
        console.MarkupLine(changed ? "[yellow]CHANGED[/]" : "[green]UNCHANGED[/]");
        return changed ? ExitCodes.Failed : ExitCodes.Passed;
    }

    /// <summary>One row per changed field (and per added or removed check): check, field, before, after.</summary>
    public static Table Render(JsonObject diff)
    {
        var before = diff["baseline"] is JsonValue baseline ? $"Before (baseline {baseline})" : "Before";
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Check", "Field", before, "After");
        foreach (var check in (diff["checks"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = ResultView.Text(check["key"]) ?? "?";
            switch (ResultView.Text(check["status"]))
            {
                case "added":
                    table.AddRow(new Text(key), new Text(""), new Markup("[grey]absent[/]"), new Markup("[green]added[/]"));
                    break;
                case "removed":
                    table.AddRow(new Text(key), new Text(""), new Markup("[red]present[/]"), new Markup("[red]removed[/]"));
                    break;
                case "changed":
                    foreach (var field in (check["fields"] as JsonArray ?? []).OfType<JsonObject>().Where(f => f["changed"]?.GetValue<bool>() == true))
                    {
                        table.AddRow(new Text(key), new Text(ResultView.Text(field["field"]) ?? ""),
                            new Markup($"[red]{Markup.Escape(Show(field["from"]))}[/]"), new Markup($"[green]{Markup.Escape(Show(field["to"]))}[/]"));
                    }
                    break;
            }
        }
        return table;
    }

    private static string Show(JsonNode? value) => value switch
    {
        null => "null",
        JsonArray a => string.Join(", ", a.Select(x => ResultView.Text(x) ?? "null")),
        _ => ResultView.Text(value) ?? "null",
    };
}
