using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

/// <summary>Submits a task built from the command line, waits for it with live progress, shows the result.</summary>
public abstract class SubmitCommand<TSettings>(CliEnvironment environment) : AsyncCommand<TSettings> where TSettings : SubmitSettings
{
    protected CliEnvironment Environment { get; } = environment;

    /// <summary>The <c>POST /task</c> body, without queue options (added here).</summary>
    protected abstract JsonObject BuildPayload(TSettings settings);

    /// <summary>An extra condition on a successful result (e.g. <c>dns check --expect</c>); null when none.</summary>
    protected virtual string? ExtraFailure(TSettings settings, JsonNode? result) => null;

    public override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        var payload = BuildPayload(settings);
        if (settings.Timeout is { } timeout)
        {
            JsonInput.Kwargs(payload)["timeout"] = timeout;
        }
        if (settings.Queue is { } queue)
        {
            payload["queue"] = queue;
        }
        if (settings.Queues is { } queues)
        {
            payload["queues"] = queues.Trim() == "*" ? "*" : new JsonArray(queues.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(q => (JsonNode)q).ToArray());
        }

        using var api = settings.Connect(Environment);
        JsonObject answer;
        try
        {
            answer = await api.SubmitAsync(payload, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C before the server's answer: the request may have reached it, so say how to find out.
            throw new CliException("interrupted before the server confirmed the task; it may have been submitted: " +
                                   "look with: remotetest task list --limit 5, and cancel it with: remotetest task cancel ID");
        }
        var id = answer["task_id"]!.ToString();
        if (settings.NoWait)
        {
            Environment.Out.WriteLine(settings.OutputFormat == OutputFormat.Json ? answer.ToJsonString() : id);
            return ExitCodes.Passed;
        }
        return await TaskOutcome.FollowAsync(Environment, api, id, new ShowOptions(settings.OutputFormat, settings.Zone(Environment)),
            TimeSpan.FromSeconds(settings.WaitTimeout), result => ExtraFailure(settings, result), cancellationToken);
    }
}

/// <summary>How a task is shown: the format asked for and the zone its times are printed in.</summary>
public sealed record ShowOptions(OutputFormat Format, TimeZoneInfo Zone)
{
    public bool Json => Format == OutputFormat.Json;
}

/// <summary>Following a task to its end and showing it: shared by the submit commands and <c>task get</c>.</summary>
public static class TaskOutcome
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(150);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(1);

    /// <summary>Waits (with progress on standard error) until the task is ready, shows it, returns the exit code.</summary>
    public static async Task<int> FollowAsync(CliEnvironment environment, ApiClient api, string id, ShowOptions options, TimeSpan waitTimeout,
        Func<JsonNode?, string?>? extraFailure, CancellationToken cancellationToken)
    {
        var status = await WaitAsync(environment, api, id, waitTimeout, cancellationToken);
        return Show(environment, status, options, extraFailure);
    }

    /// <summary>
    /// Polls <c>GET /task/{id}</c> until ready; a bar on a terminal, a line per change otherwise. Ctrl-C (the token)
    /// stops only the waiting: the message says plainly that the task keeps running and how to follow or cancel it.
    /// </summary>
    public static async Task<JsonObject> WaitAsync(CliEnvironment environment, ApiClient api, string id, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        try
        {
            return await WaitUntilReadyAsync(environment, api, id, waitTimeout, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"stopped waiting; task {id} keeps running on the server. " +
                $"Follow it with: remotetest task get {id} --wait; cancel it with: remotetest task cancel {id}");
        }
    }

    private static async Task<JsonObject> WaitUntilReadyAsync(CliEnvironment environment, ApiClient api, string id, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + waitTimeout;
        var console = environment.CreateErrorConsole();
        if (!environment.Interactive)
        {
            string? last = null;
            return await PollAsync(api, id, deadline, status =>
            {
                var line = Describe(status);
                if (line != last)
                {
                    environment.Error.WriteLine($"{id}: {line}");
                    last = line;
                }
            }, cancellationToken);
        }
        JsonObject? final = null;
        await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask($"{id[..Math.Min(8, id.Length)]} PENDING", maxValue: 1);
                bar.IsIndeterminate = true;
                final = await PollAsync(api, id, deadline, status =>
                {
                    bar.Description = $"{id[..Math.Min(8, id.Length)]} {Markup.Escape(Describe(status))}";
                    if (status["progress"] is JsonObject p && p["total"] is JsonValue t && t.TryGetValue(out int total) && total > 0)
                    {
                        bar.IsIndeterminate = false;
                        bar.MaxValue = total;
                        bar.Value = p["done"] is JsonValue d && d.TryGetValue(out int done) ? done : 0;
                    }
                    if (IsReady(status))
                    {
                        bar.Value = bar.MaxValue;
                        bar.StopTask();
                    }
                }, cancellationToken);
            });
        return final!;
    }

    private static async Task<JsonObject> PollAsync(ApiClient api, string id, DateTimeOffset deadline, Action<JsonObject> onStatus, CancellationToken cancellationToken)
    {
        var delay = FirstPoll;
        while (true)
        {
            var status = await api.GetTaskAsync(id, cancellationToken);
            onStatus(status);
            if (IsReady(status))
            {
                return status;
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new CliException($"task {id} is still {status["state"]} after the wait timeout; follow it with: remotetest task get {id} --wait");
            }
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 1.5));
        }
    }

    /// <summary>Ready: the task says so, or (a fan-out group) every location's task does.</summary>
    public static bool IsReady(JsonObject status)
    {
        if (status["ready"] is JsonValue r && r.TryGetValue(out bool ready) && ready)
        {
            return true;
        }
        var children = Children(status).ToList();
        return children.Count > 0 && children.All(c => c.Status["ready"] is JsonValue v && v.TryGetValue(out bool b) && b);
    }

    private static string Describe(JsonObject status)
    {
        var state = status["state"]?.ToString() ?? "?";
        return status["progress"] is JsonObject p ? $"{state} {p["done"]}/{p["total"]}" : state;
    }

    /// <summary>The locations of a fan-out group: <c>children</c> ({queue: status}; <c>tasks</c> holds only their ids).</summary>
    public static IEnumerable<(string Location, JsonObject Status)> Children(JsonObject status) => (status["children"] ?? status["tasks"]) switch
    {
        JsonObject o => o.Where(kv => kv.Value is JsonObject).Select(kv => (kv.Key, (JsonObject)kv.Value!)),
        JsonArray a => a.OfType<JsonObject>().Select(c => (ResultView.Text(c["queue"]) ?? ResultView.Text(c["location"]) ?? ResultView.Text(c["task_id"]) ?? "?", c)),
        _ => [],
    };

    /// <summary>{"path": ["results", "sbc", "ports", "5061", "open"], "values": {"fra": true, "dfw": false}} as one line.</summary>
    private static string DescribeDifference(JsonObject d)
    {
        var path = (d["path"] as JsonArray ?? []).Select(p => p?.ToString()).Where(p => p != "results");
        var values = (d["values"] as JsonObject ?? []).Select(kv => $"{kv.Key} = {kv.Value?.ToJsonString() ?? "null"}");
        return $"{string.Join(" > ", path)}: {string.Join(", ", values)}";
    }

    /// <summary>"RUNNING task X is STARTED, not finished yet; wait for it with: remotetest task get X --wait".</summary>
    private static string RunningLine(JsonObject status, List<string> running)
    {
        var id = ResultView.Text(status["task_id"]) ?? "";
        return $"RUNNING task {id} is {string.Join("; ", running)}, not finished yet; wait for it with: remotetest task get {id} --wait";
    }

    /// <summary>Prints a finished (or not) task; returns 0 when every check passed, 1 otherwise.</summary>
    public static int Show(CliEnvironment environment, JsonObject status, ShowOptions options, Func<JsonNode?, string?>? extraFailure)
    {
        var json = options.Json;
        var taskName = ResultView.Text(status["task_name"]);
        var children = Children(status).ToList();
        List<(string? Location, JsonObject Status)> outcomes = children.Count > 0
            ? [.. children.Select(c => ((string?)c.Location, c.Status))]
            : [(null, status)];
        var failures = new List<string>();
        var running = new List<string>();
        foreach (var (location, s) in outcomes)
        {
            var where = location is null ? "" : $"{location}: ";
            var state = ResultView.Text(s["state"]);
            if (!IsReady(s))
            {
                // Not a failure: the task has not finished. Still not a pass, so a script gating on it must not go ahead.
                running.Add($"{where}{state ?? "PENDING"}");
            }
            else if (state != "SUCCESS")
            {
                failures.Add($"{where}task ended {state}{(ResultView.Text(s["error"]) is { } e ? $": {e}" : "")}");
            }
            else if (!ResultView.Passed(taskName ?? ResultView.Text(s["task_name"]), s["result"]))
            {
                failures.Add($"{where}some checks failed");
            }
            else if (extraFailure?.Invoke(s["result"]) is { } extra)
            {
                failures.Add(where + extra);
            }
        }

        if (json)
        {
            environment.Out.WriteLine(status.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            if (failures.Count > 0)
            {
                environment.Error.WriteLine($"FAILED {string.Join("; ", failures)}");
            }
            if (running.Count > 0)
            {
                environment.Error.WriteLine(RunningLine(status, running));
            }
        }
        else
        {
            var console = environment.CreateOutConsole();
            console.MarkupLine($"{ResultView.VerdictMarkup(status)} [bold]{Markup.Escape(taskName ?? "task")}[/] {Markup.Escape(status["task_id"]?.ToString() ?? "")} [grey]{Markup.Escape(status["state"]?.ToString() ?? "")}[/]".TrimStart());
            var times = new[] { ("submitted", "date_submitted"), ("started", "date_started"), ("done", "date_done") }
                .Where(t => ResultView.Text(status[t.Item2]) is not null)
                .Select(t => $"{t.Item1} {CliTime.Format(ResultView.Text(status[t.Item2]), options.Zone)}").ToList();
            if (times.Count > 0)
            {
                // Never folded: a time is read (and copied) whole, with its zone.
                ResultLayouts.ListConsole(environment).MarkupLine($"[grey]{Markup.Escape(string.Join("  ", times))}[/]");
            }
            if (status["differences"] is JsonArray { Count: > 0 } differences)
            {
                console.MarkupLine("[yellow]differences between locations:[/]");
                foreach (var d in differences.OfType<JsonObject>())
                {
                    console.MarkupLine("  " + Markup.Escape(DescribeDifference(d)));
                }
            }
            foreach (var (location, s) in outcomes)
            {
                if (location is not null)
                {
                    console.Write(new Rule($"{Markup.Escape(location)} [grey]{Markup.Escape(s["state"]?.ToString() ?? "")}[/]").LeftJustified());
                }
                if (ResultView.Text(s["state"]) == "SUCCESS")
                {
                    var name = taskName ?? ResultView.Text(s["task_name"]);
                    var layout = ResultLayouts.Decide(options.Format, ResultView.RowCount(name, s["result"]), console.Profile.Width, environment.OutputIsTerminal);
                    // The list on a console that never folds a line: every line starts with its host, whole.
                    var target = layout == ResultLayout.List ? ResultLayouts.ListConsole(environment) : console;
                    target.Write(ResultView.Render(name, s["result"], layout));
                }
            }
            if (failures.Count > 0)
            {
                console.MarkupLine($"[red bold]FAILED[/] {Markup.Escape(string.Join("; ", failures))}");
            }
            if (running.Count > 0)
            {
                console.MarkupLine($"[blue bold]RUNNING[/] {Markup.Escape(RunningLine(status, running)["RUNNING ".Length..])}");
            }
            else if (failures.Count == 0)
            {
                console.MarkupLine("[green bold]PASSED[/]");
            }
        }
        return failures.Count == 0 && running.Count == 0 ? ExitCodes.Passed : ExitCodes.Failed;
    }
}
