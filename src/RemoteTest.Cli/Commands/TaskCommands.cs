using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

/// <summary><c>task get</c>: a task id, --wait, and the result's --format.</summary>
public sealed class TaskGetSettings : ResultSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The task id (or a fan-out group id).")]
    public string Id { get; set; } = "";

    [CommandOption("--wait")]
    [Description("Follow the task until it is ready.")]
    public bool Wait { get; set; }

    [CommandOption("--wait-timeout <SECONDS>")]
    [DefaultValue(600)]
    public int WaitTimeout { get; set; } = 600;
}

/// <summary><c>task cancel</c>: a task id.</summary>
public sealed class TaskIdSettings : ServerSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The task id (or a fan-out group id).")]
    public string Id { get; set; } = "";
}

/// <summary><c>remotetest task get ID</c>: exit 0 only for a finished task whose checks all passed.</summary>
public sealed class TaskGetCommand(CliEnvironment environment) : AsyncCommand<TaskGetSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TaskGetSettings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var status = settings.Wait
            ? await TaskOutcome.WaitAsync(environment, api, settings.Id, TimeSpan.FromSeconds(settings.WaitTimeout), cancellationToken)
            : await api.GetTaskAsync(settings.Id, cancellationToken);
        // An unfinished task has not passed (yet): a script gating on this must not go ahead.
        return TaskOutcome.Show(environment, status, new ShowOptions(settings.OutputFormat, settings.Zone(environment)), null);
    }
}

/// <summary>
/// <c>remotetest task cancel ID</c> (<c>DELETE /task/{id}</c>): exit 0 when revoked, 1 when the task had already
/// ended (409), 2 for an unknown id or an unreachable server. A fan-out group id cancels each location's task.
/// </summary>
public sealed class TaskCancelCommand(CliEnvironment environment) : AsyncCommand<TaskIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TaskIdSettings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var (status, body) = await RevokeAsync(api, settings.Id, cancellationToken);
        if (status == HttpStatusCode.NotFound
            && await GroupChildrenAsync(api, settings.Id, cancellationToken) is { Count: > 0 } children)
        {
            // A group is not a task of its own (DELETE answers 404 for its id): revoke every location's task.
            var codes = new List<int>();
            foreach (var (location, child) in children)
            {
                var (childStatus, childBody) = await RevokeAsync(api, child, cancellationToken);
                codes.Add(Report(settings, $"{location} {child}", childStatus, childBody));
            }
            return codes.Max();
        }
        return Report(settings, settings.Id, status, body);
    }

    private static Task<(HttpStatusCode, JsonNode?)> RevokeAsync(ApiClient api, string id, CancellationToken cancellationToken) =>
        api.SendAsync(HttpMethod.Delete, $"task/{Uri.EscapeDataString(id)}", null, cancellationToken);

    /// <summary>The locations' task ids of a group (not yet ready ones only); empty when the id is no group.</summary>
    private static async Task<List<(string Location, string Id)>> GroupChildrenAsync(ApiClient api, string id, CancellationToken cancellationToken)
    {
        var (status, body) = await api.SendAsync(HttpMethod.Get, $"task/{Uri.EscapeDataString(id)}", null, cancellationToken);
        return status == HttpStatusCode.OK && body is JsonObject group
            ? TaskOutcome.Children(group).Where(c => ResultView.Text(c.Status["task_id"]) is not null)
                .Select(c => (c.Location, ResultView.Text(c.Status["task_id"])!)).ToList()
            : [];
    }

    private int Report(TaskIdSettings settings, string what, HttpStatusCode status, JsonNode? body)
    {
        if (settings.Json && body is not null)
        {
            environment.Out.WriteLine(body.ToJsonString());
        }
        switch (status)
        {
            case HttpStatusCode.OK or HttpStatusCode.Accepted or HttpStatusCode.NoContent:
                if (!settings.Json)
                {
                    environment.Out.WriteLine($"{what}: {ResultView.Text(body?["state"]) ?? "REVOKED"} (cancelled)");
                }
                return ExitCodes.Passed;
            case HttpStatusCode.Conflict:
                // Not a usage error: the task exists and simply finished first. Its final state is what a script wants.
                var state = ResultView.Text(body?["state"]);
                environment.Error.WriteLine($"{what}: not cancelled: the task had already ended{(state is null ? "" : $" ({state})")}; " +
                                            "only PENDING or STARTED tasks can be cancelled");
                return ExitCodes.Failed;
            case HttpStatusCode.NotFound:
                throw new CliException($"{what}: no such task (never submitted, expired, or submitted with another token)");
            case HttpStatusCode.MethodNotAllowed:
                throw new CliException("this server cannot cancel tasks (DELETE /task/{id})");
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                throw new CliException($"cancel {what}: not authorised ({(int)status}): give a token with --token, REMOTETEST_TOKEN or the config file");
            default:
                throw new CliException($"cancel {what}: {(int)status} {ResultView.Text(body?["error"]) ?? status.ToString()}");
        }
    }
}

public sealed class TaskListSettings : ResultSettings
{
    /// <summary>The largest page <c>GET /task</c> answers.</summary>
    public const int MaxLimit = 500;

    /// <summary>Tasks per page unless --limit says otherwise.</summary>
    public const int DefaultLimit = 20;

    private static readonly string[] States = ["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"];

    [CommandOption("--state <STATE>")]
    [Description("PENDING, STARTED, RETRY, SUCCESS, FAILURE or REVOKED.")]
    public string? State { get; set; }

    private static readonly string[] Verdicts = ["pass", "fail", "partial", "error"];

    [CommandOption("--verdict <VERDICT>")]
    [Description("Only tasks whose checks ended so: pass, fail, partial (some failed) or error (the task itself failed).")]
    public string? Verdict { get; set; }

    [CommandOption("--task <TASK_NAME>")]
    [Description("Only this task, e.g. porttest.run.")]
    public string? Task { get; set; }

    [CommandOption("--target <TEXT>")]
    [Description("Only tasks whose targets (hosts, domains) contain this text, case-insensitive.")]
    public string? Target { get; set; }

    [CommandOption("-q|--queue <QUEUE>")]
    [Description("Only tasks of this queue (vantage point).")]
    public string? Queue { get; set; }

    [CommandOption("--schedule <NAME>")]
    [Description("Only the runs of this schedule.")]
    public string? Schedule { get; set; }

    [CommandOption("--since <WHEN>")]
    [Description("Submitted at or after this time: ISO 8601 (2026-11-27, 2026-11-27T10:00:00Z) or an age (90s, 30m, 2h, 7d).")]
    public string? Since { get; set; }

    [CommandOption("--until <WHEN>")]
    [Description("Submitted before this time: ISO 8601 or an age (2h: submitted more than two hours ago).")]
    public string? Until { get; set; }

    [CommandOption("--limit <N>")]
    [Description("Tasks per page, 1-500.")]
    [DefaultValue(DefaultLimit)]
    public int Limit { get; set; } = DefaultLimit;

    [CommandOption("--cursor <CURSOR>")]
    [Description("Continue a listing (the cursor printed at its end).")]
    public string? Cursor { get; set; }

    public override ValidationResult Validate()
    {
        if (Limit is < 1 or > MaxLimit)
        {
            return ValidationResult.Error($"--limit must be 1-{MaxLimit}");
        }
        if (State is not null && !States.Contains(State.ToUpperInvariant()))
        {
            return ValidationResult.Error($"--state '{State}' is not a state; use {string.Join(", ", States)}");
        }
        if (Target is not null && Target.Trim().Length == 0)
        {
            return ValidationResult.Error("--target is empty; give part of a host or domain name");
        }
        if (Verdict is not null && !Verdicts.Contains(Verdict.ToLowerInvariant()))
        {
            return ValidationResult.Error($"--verdict '{Verdict}' is not a verdict; use {string.Join(", ", Verdicts)}");
        }
        foreach (var (option, text) in new[] { ("--since", Since), ("--until", Until) })
        {
            if (text is not null && TimeValue(text, DateTimeOffset.UtcNow) is null)
            {
                return ValidationResult.Error($"{option} '{text}' is neither an ISO 8601 time nor an age like 30m, 2h or 7d");
            }
        }
        return base.Validate();
    }

    /// <summary>--since as the server takes it: an age is turned into the ISO 8601 time it reaches back to.</summary>
    public string? SinceValue(DateTimeOffset now) => TimeValue(Since, now);

    /// <summary>--until as the server takes it, like <see cref="SinceValue"/>.</summary>
    public string? UntilValue(DateTimeOffset now) => TimeValue(Until, now);

    private static string? TimeValue(string? option, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(option))
        {
            return null;
        }
        var text = option.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            return text; // Unix seconds, which the server reads as they are
        }
        if (text.Length >= 2 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            TimeSpan? age = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                'w' => TimeSpan.FromDays(7 * n),
                _ => null,
            };
            if (age is { } a)
            {
                return (now - a).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            }
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when)
            ? when.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : null;
    }
}

/// <summary><c>remotetest task list</c>: history (<c>GET /task</c>), newest first, a page at a time.</summary>
public sealed class TaskListCommand(CliEnvironment environment) : AsyncCommand<TaskListSettings>
{
    private const int TargetsShown = 3;

    /// <summary>Below this width the eight columns fold (ids and times split): the list is shown instead.</summary>
    private const int MinTableWidth = 150;

    public override async Task<int> ExecuteAsync(CommandContext context, TaskListSettings settings, CancellationToken cancellationToken)
    {
        // Each filter as the query parameter and the option it came from, so the next page's command repeats them.
        // An age (--since 2h) is resolved once: the next page keeps the time this one reached back to.
        var now = DateTimeOffset.UtcNow;
        (string Parameter, string Option, string? Value)[] filters =
        [
            ("state", "--state", settings.State?.ToUpperInvariant()),
            ("verdict", "--verdict", settings.Verdict?.ToLowerInvariant()),
            ("task_name", "--task", settings.Task),
            ("target", "--target", settings.Target),
            ("queue", "--queue", settings.Queue),
            ("schedule", "--schedule", settings.Schedule),
            ("since", "--since", settings.SinceValue(now)),
            ("until", "--until", settings.UntilValue(now)),
        ];
        var given = filters.Where(f => !string.IsNullOrEmpty(f.Value)).ToList();
        var query = given.Select(f => $"{f.Parameter}={Uri.EscapeDataString(f.Value!)}").Prepend($"limit={settings.Limit}")
            .Concat(settings.Cursor is { Length: > 0 } cursor ? [$"cursor={Uri.EscapeDataString(cursor)}"] : []);
        using var api = settings.Connect(environment);
        var body = await api.GetAsync($"task?{string.Join('&', query)}", "task list (GET /task)", cancellationToken);
        if (settings.OutputFormat == OutputFormat.Json)
        {
            environment.Out.WriteLine(body?.ToJsonString() ?? "null");
            return ExitCodes.Passed;
        }
        var tasks = (body as JsonArray ?? body?["tasks"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var zone = settings.Zone(environment);
        // The verdict leads (did the checks pass?); the state only says whether the task ran.
        string[] headers = ["VERDICT", "ID", "TASK", "STATE", "TARGETS", "QUEUE", "SUBMITTED", "TOOK"];
        var rows = tasks.Select(t =>
        {
            var submitted = Time(t["date_submitted"]);
            var verdict = ResultView.VerdictMarkup(t);
            var state = ResultView.Text(t["state"]) ?? "";
            string[] texts =
            [
                Markup.Remove(verdict), ResultView.Text(t["task_id"]) ?? "", ResultView.Text(t["task_name"]) ?? "", state, Targets(t["args"]),
                ResultView.Text(t["queue"]) ?? "", submitted is { } at ? CliTime.Format(at, zone) : "",
                Time(t["date_done"]) is { } done ? Took(done - (Time(t["date_started"]) ?? submitted ?? done)) : "",
            ];
            return texts.Select((text, i) => (text, i == 0 ? verdict : i == 3 ? ResultView.StateMarkup(state) : Markup.Escape(text))).ToArray();
        }).ToList();
        if (tasks.Count == 0)
        {
            environment.Error.WriteLine("no task matches");
        }
        else if (ResultLayouts.DecideListing(settings.OutputFormat, environment.CreateOutConsole().Profile.Width, environment.OutputIsTerminal, MinTableWidth) == ResultLayout.List)
        {
            // One line per task, never folded: the id is what a person copies into "task get" or "task cancel".
            ResultLayouts.ListConsole(environment).Write(ResultView.PlainList(headers, rows));
        }
        else
        {
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var (header, i) in headers.Select((h, i) => (h, i)))
            {
                // Every column but the targets keeps its line; the targets wrap instead.
                var column = new TableColumn(char.ToUpperInvariant(header[0]) + header[1..].ToLowerInvariant());
                table.AddColumn(i == 4 ? column : i == 7 ? column.NoWrap().RightAligned() : column.NoWrap());
            }
            foreach (var row in rows)
            {
                table.AddRow(row.Select(c => c.Item2).ToArray());
            }
            environment.CreateOutConsole().Write(table);
        }
        if (ResultView.Text(body?["next_cursor"]) is { Length: > 0 } next)
        {
            // The same filters with the cursor: the next page of this very listing (never the token).
            var again = given.Select(f => $"{f.Option} {f.Value}").Prepend("remotetest task list")
                .Concat(settings.Limit == TaskListSettings.DefaultLimit ? [] : [$"--limit {settings.Limit}"])
                .Concat(settings.Server is { Length: > 0 } server ? [$"--server {server}"] : [])
                .Append($"--cursor {next}");
            // Plain, never wrapped at the console's width: the line is meant to be copied whole.
            environment.Out.WriteLine($"more: {string.Join(' ', again)}");
        }
        return ExitCodes.Passed;
    }

    private static DateTimeOffset? Time(JsonNode? value) =>
        DateTimeOffset.TryParse(ResultView.Text(value), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;

    private static string Took(TimeSpan span) => span.TotalSeconds < 120
        ? span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
        : span.TotalMinutes.ToString("0", CultureInfo.InvariantCulture) + " min";

    /// <summary>The hosts or domains of a task's first object argument, as the UI's history shows them.</summary>
    private static string Targets(JsonNode? args)
    {
        var keys = (args as JsonObject ?? []).Select(kv => kv.Value).OfType<JsonObject>().FirstOrDefault()?.Select(kv => kv.Key).ToList() ?? [];
        return keys.Count <= TargetsShown ? string.Join(", ", keys) : $"{string.Join(", ", keys.Take(TargetsShown))} +{keys.Count - TargetsShown} more";
    }
}
