using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

/// <summary><c>remotetest workers</c>: live workers, their locations (vantage points) and queues.</summary>
public sealed class WorkersCommand(CliEnvironment environment) : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var body = await api.GetAsync("workers", "workers (GET /workers)", cancellationToken);
        if (settings.Json)
        {
            environment.Out.WriteLine(body?.ToJsonString() ?? "null");
            return ExitCodes.Passed;
        }
        var zone = settings.Zone(environment);
        var workers = body as JsonArray ?? body?["workers"] as JsonArray ?? [];
        // A time is never folded away from its zone.
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Name", "Location", "Queues")
            .AddColumn(new TableColumn("Started").NoWrap()).AddColumn(new TableColumn("Last heartbeat").NoWrap()).AddColumn("Running");
        foreach (var w in workers.OfType<JsonObject>())
        {
            var queues = w["queues"] as JsonArray ?? [];
            var running = w["running_tasks"] is JsonArray list ? list.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : ResultView.Text(w["running_tasks"] ?? w["running"]) ?? "";
            table.AddRow(Markup.Escape(ResultView.Text(w["name"]) ?? ""), Markup.Escape(ResultView.Text(w["location"]) ?? ""),
                Markup.Escape(string.Join(", ", queues.Select(q => q?.ToString()))), Markup.Escape(CliTime.Format(ResultView.Text(w["started"]), zone) ?? ""),
                Markup.Escape(CliTime.Format(ResultView.Text(w["last_heartbeat"]), zone) ?? ""), Markup.Escape(running));
        }
        environment.CreateOutConsole().Write(table);
        if (workers.Count == 0)
        {
            environment.Error.WriteLine("no live workers");
        }
        return ExitCodes.Passed;
    }
}
