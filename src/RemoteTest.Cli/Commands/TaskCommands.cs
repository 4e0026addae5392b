using System.ComponentModel;
using System.Net;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

public sealed class TaskIdSettings : ServerSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The task id (or a fan-out group id).")]
    public string Id { get; set; } = "";

    [CommandOption("--wait")]
    [Description("task get: follow the task until it is ready.")]
    public bool Wait { get; set; }

    [CommandOption("--wait-timeout <SECONDS>")]
    [DefaultValue(600)]
    public int WaitTimeout { get; set; } = 600;
}

/// <summary><c>remotetest task get ID</c>: exit 0 only for a finished task whose checks all passed.</summary>
public sealed class TaskGetCommand(CliEnvironment environment) : AsyncCommand<TaskIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TaskIdSettings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var status = settings.Wait
            ? await TaskOutcome.WaitAsync(environment, api, settings.Id, TimeSpan.FromSeconds(settings.WaitTimeout), cancellationToken)
            : await api.GetTaskAsync(settings.Id, cancellationToken);
        // An unfinished task has not passed (yet): a script gating on this must not go ahead.
        return TaskOutcome.Show(environment, status, settings.Json, null);
    }
}

/// <summary><c>remotetest task cancel ID</c>.</summary>
public sealed class TaskCancelCommand(CliEnvironment environment) : AsyncCommand<TaskIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TaskIdSettings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var (status, body) = await api.SendAsync(HttpMethod.Delete, $"task/{Uri.EscapeDataString(settings.Id)}", null, cancellationToken);
        if (settings.Json && body is not null)
        {
            environment.Out.WriteLine(body.ToJsonString());
        }
        switch (status)
        {
            case HttpStatusCode.OK or HttpStatusCode.Accepted or HttpStatusCode.NoContent:
                if (!settings.Json)
                {
                    environment.Out.WriteLine($"{settings.Id}: {ResultView.Text(body?["state"]) ?? "REVOKED"}");
                }
                return ExitCodes.Passed;
            case HttpStatusCode.Conflict:
                environment.Error.WriteLine($"{settings.Id}: {ResultView.Text(body?["error"]) ?? "already finished; nothing to cancel"}");
                return ExitCodes.Failed;
            case HttpStatusCode.MethodNotAllowed:
                throw new CliException("this server cannot cancel tasks (DELETE /task/{id})");
            default:
                throw new CliException($"cancel {settings.Id}: {(int)status} {ResultView.Text(body?["error"]) ?? status.ToString()}");
        }
    }
}

public sealed class TaskListSettings : ServerSettings
{
    [CommandOption("--state <STATE>")]
    [Description("PENDING, STARTED, SUCCESS, FAILURE or REVOKED.")]
    public string? State { get; set; }

    [CommandOption("--task <TASK_NAME>")]
    [Description("Only this task, e.g. porttest.run.")]
    public string? Task { get; set; }

    [CommandOption("-q|--queue <QUEUE>")]
    public string? Queue { get; set; }

    [CommandOption("--since <WHEN>")]
    [Description("Submitted at or after this time (ISO 8601).")]
    public string? Since { get; set; }

    [CommandOption("--limit <N>")]
    [DefaultValue(20)]
    public int Limit { get; set; } = 20;

    [CommandOption("--cursor <CURSOR>")]
    [Description("Continue a listing (the cursor printed at its end).")]
    public string? Cursor { get; set; }

    public override ValidationResult Validate() => Limit is < 1 or > 1000 ? ValidationResult.Error("--limit must be 1-1000") : ValidationResult.Success();
}

/// <summary><c>remotetest task list</c>: history, newest first.</summary>
public sealed class TaskListCommand(CliEnvironment environment) : AsyncCommand<TaskListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TaskListSettings settings, CancellationToken cancellationToken)
    {
        var query = new List<string> { $"limit={settings.Limit}" };
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value)) query.Add($"{name}={Uri.EscapeDataString(value)}");
        }
        Add("state", settings.State?.ToUpperInvariant());
        Add("task_name", settings.Task);
        Add("queue", settings.Queue);
        Add("since", settings.Since);
        Add("cursor", settings.Cursor);
        using var api = settings.Connect(environment);
        var body = await api.GetAsync($"task?{string.Join('&', query)}", "task list (GET /task)", cancellationToken);
        if (settings.Json)
        {
            environment.Out.WriteLine(body?.ToJsonString() ?? "null");
            return ExitCodes.Passed;
        }
        var tasks = body as JsonArray ?? body?["tasks"] as JsonArray ?? body?["items"] as JsonArray ?? [];
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Id", "Task", "State", "Queue", "Submitted", "Done");
        foreach (var t in tasks.OfType<JsonObject>())
        {
            table.AddRow(Markup.Escape(ResultView.Text(t["task_id"]) ?? ""), Markup.Escape(ResultView.Text(t["task_name"]) ?? ""),
                Markup.Escape(ResultView.Text(t["state"]) ?? ""), Markup.Escape(ResultView.Text(t["queue"]) ?? ""),
                Markup.Escape(ResultView.Text(t["date_submitted"]) ?? ""), Markup.Escape(ResultView.Text(t["date_done"]) ?? ""));
        }
        var console = environment.CreateOutConsole();
        console.Write(table);
        if (ResultView.Text(body?["next_cursor"] ?? body?["cursor"]) is { Length: > 0 } next)
        {
            console.MarkupLine($"[grey]more: remotetest task list --cursor {Markup.Escape(next)}[/]");
        }
        return ExitCodes.Passed;
    }
}
