using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Engine;
using RemoteTest.Security;
using RemoteTest.Store;
using RemoteTest.Tasks;
using static RemoteTest.Api.TaskEndpoints;

namespace RemoteTest.Api;

/// <summary>Recurring tasks: <c>POST/GET/DELETE /schedules</c> and a manual trigger.</summary>
public static class ScheduleEndpoints
{
    private static readonly HashSet<string> Members = ["name", "task_name", "data", "cron", "time_zone", "queue", "webhook", "notify", "thresholds"];

    public static IEndpointRouteBuilder MapScheduleEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/schedules").WithTags("Schedules");
        group.MapPost("/", SaveAsync).WithName("SaveSchedule")
            .WithSummary("Create or replace a schedule")
            .WithDescription("Body: {name, task_name, data, cron, time_zone?, queue?, webhook?, notify?, thresholds?}. cron has 5 fields (minute first) or 6 (second first) " +
                             "and is read in time_zone (IANA, default UTC). notify: omitted (webhook on every run), \"change\" (only when the outcome differs from the previous run) " +
                             "or \"cert_expiry\" (when a certificate's days left cross one of thresholds, default [21, 14, 7]). 201 when created, 200 when replaced.");
        group.MapGet("/", ListAsync).WithName("ListSchedules").WithSummary("Every schedule, by name");
        group.MapGet("/{name}", GetAsync).WithName("GetSchedule").WithSummary("One schedule with its next run and its last runs");
        group.MapDelete("/{name}", DeleteAsync).WithName("DeleteSchedule").WithSummary("Delete a schedule (its past runs stay in the history)");
        group.MapPost("/{name}/run", RunNowAsync).WithName("RunSchedule").WithSummary("Run a schedule now, outside its cron; answers 202 with the task id");
        return app;
    }

    private static async Task<IResult> SaveAsync(
        HttpContext http, TaskRegistry registry, ITaskStore store, TaskIntake intake, Schedules schedules, AuditLog audit,
        IOptions<LimitsOptions> limitsOptions, IOptions<ScheduleOptions> schedulesOptions, IOptions<WebhookOptions> webhooksOptions, TimeProvider time, SubmissionGate gate, CancellationToken cancellationToken)
    {
        var limit = limitsOptions.Value.MaxRequestBytes;
        JsonNode? body;
        try
        {
            // Read as POST /task reads: bounded, valid UTF-8, no duplicate keys, whatever the Content-Type.
            body = await RequestJson.ReadAsync(http.Request, limit, cancellationToken);
        }
        catch (JsonException ex)
        {
            return TaskEndpoints.Error(400, "body", $"Invalid JSON body: {ex.Message}");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TaskEndpoints.Error(StatusCodes.Status413PayloadTooLarge, "body", $"request body is larger than {limit} bytes");
        }
        ScheduleRecord schedule;
        try
        {
            // Runs of a schedule belong to whoever saved it, so they show in that caller's history.
            schedule = Parse(body, registry, intake, webhooksOptions.Value.MaxUrlLength, time.GetUtcNow()) with { Owner = http.Caller().Owner };
            // Names are per owner (stored as "owner:name" for a token), so saving never reveals another owner's name.
            schedule = schedule with { Name = ScheduleKey(http.Caller(), schedule.Name) };
        }
        catch (TaskArgumentException ex)
        {
            return TaskEndpoints.Error(400, ex.Field, ex.Message);
        }
        if (ScheduleNotifications.BaselineName(schedule.Notify) is { } pinned)
        {
            var baseline = await store.GetBaselineAsync(schedule.Owner!, pinned, cancellationToken);
            if (baseline is null)
            {
                return TaskEndpoints.Error(400, "notify", $"unknown baseline '{pinned}': pin one first with POST /task/{{id}}/baseline");
            }
            if (baseline.TaskName != schedule.TaskName)
            {
                return TaskEndpoints.Error(400, "notify", $"baseline '{pinned}' is a {baseline.TaskName} task, this schedule runs {schedule.TaskName}");
            }
        }
        var existing = await store.GetScheduleAsync(schedule.Name, cancellationToken);
        if (existing is not null && !http.Caller().Owns(existing.Owner))
        {
            // Names are global; another token's schedule is neither shown nor replaced.
            return TaskEndpoints.Error(StatusCodes.Status409Conflict, "name", $"the schedule name '{schedule.Name}' is taken; choose another");
        }
        // A schedule submits tasks for its owner: the owner's queue limit applies to saving one as to POST /task.
        if (await gate.CheckCapacityAsync(http.Caller(), schedule.Queue, cancellationToken) is { } full)
        {
            return full;
        }
        if (existing is null)
        {
            var all = await store.ListSchedulesAsync(cancellationToken);
            var perOwner = schedulesOptions.Value.MaxSchedulesPerOwner;
            if (all.Count(x => string.Equals(x.Owner, schedule.Owner, StringComparison.Ordinal)) >= perOwner)
            {
                return SubmissionGate.RetryLater(StatusCodes.Status429TooManyRequests, limitsOptions.Value.QueueRetryAfter, "name",
                    $"{(http.Caller().Anonymous ? "anonymous callers have" : $"token '{schedule.Owner}' has")} {perOwner} schedules, the limit per owner (RemoteTest:Schedules:MaxSchedulesPerOwner); delete one first");
            }
            if (all.Count >= schedulesOptions.Value.MaxSchedules)
            {
                return TaskEndpoints.Error(StatusCodes.Status409Conflict, "name", $"there are already {schedulesOptions.Value.MaxSchedules} schedules (RemoteTest:Schedules:MaxSchedules)");
            }
        }
        var created = await store.SaveScheduleAsync(schedule, cancellationToken);
        schedules.Register(schedule);
        audit.TaskAction(http, created ? "created" : "replaced",
            $"schedule {schedule.Name}: {schedule.TaskName} on queue {schedule.Queue} at '{schedule.Cron}' ({schedule.TimeZone})");
        var saved = (await store.GetScheduleAsync(schedule.Name, cancellationToken))!;
        var json = Describe(saved, http.Caller());
        return created
            ? TypedResults.Json(json, statusCode: StatusCodes.Status201Created).WithLocation($"/schedules/{Uri.EscapeDataString(json["name"]!.GetValue<string>())}")
            : TypedResults.Json(json);
    }

    /// <summary>Validates a schedule body; the task's arguments are checked exactly as <c>POST /task</c> checks them.</summary>
    internal static ScheduleRecord Parse(JsonNode? body, TaskRegistry registry, TaskIntake intake, int maxWebhookLength, DateTimeOffset now)
    {
        if (body is not JsonObject o)
        {
            throw new TaskArgumentException("body", "Invalid JSON body: expected an object");
        }
        foreach (var (key, _) in o)
        {
            if (!Members.Contains(key))
            {
                throw new TaskArgumentException(key, $"unexpected member '{key}'; a schedule has {string.Join(", ", Members)}");
            }
        }
        var name = ArgumentReader.String(o["name"] ?? throw new TaskArgumentException("name", "Missing 'name'"), "name", 100);
        if (!ScheduleTiming.IsName(name))
        {
            throw new TaskArgumentException("name", $"'{name}' is not a schedule name (letters, digits, '_', '.', '-'; at most 100)");
        }
        var cron = ArgumentReader.String(o["cron"] ?? throw new TaskArgumentException("cron", "Missing 'cron'"), "cron", 200).Trim();
        var zone = o["time_zone"] is { } z ? ArgumentReader.String(z, "time_zone", 100) : "UTC";
        try
        {
            _ = ScheduleTiming.Parse(cron, zone);
        }
        catch (FormatException ex)
        {
            throw new TaskArgumentException(ex.Message.StartsWith("time zone", StringComparison.Ordinal) ? "time_zone" : "cron", ex.Message);
        }

        var submission = TaskSubmission.Parse(new JsonObject
        {
            ["task_name"] = o["task_name"]?.DeepClone(),
            ["data"] = o["data"]?.DeepClone(),
            ["queue"] = o["queue"]?.DeepClone(),
            ["webhook"] = o["webhook"]?.DeepClone(),
        }, registry, maxWebhookLength);

        string? notify = null;
        if (o["notify"] is { } n)
        {
            notify = ArgumentReader.String(n, "notify", 80);
            // "baseline:NAME": each run is compared with the caller's baseline NAME (issue 14), notified when it differs.
            var baseline = ScheduleNotifications.BaselineName(notify);
            if (baseline is not null && !DiffEndpoints.BaselineName().IsMatch(baseline))
            {
                throw new TaskArgumentException("notify", $"'{baseline}' is not a baseline name (letters, digits, '.', '_', '-'; at most 64)");
            }
            if (baseline is null && !ScheduleNotifications.Kinds.Contains(notify))
            {
                throw new TaskArgumentException("notify", $"'{notify}' is not a notification; use {string.Join(" or ", ScheduleNotifications.Kinds)} or baseline:NAME (or omit it for every run)");
            }
            if (submission.Webhook is null)
            {
                throw new TaskArgumentException("webhook", "notify needs a webhook to post to");
            }
        }
        string? thresholds = null;
        if (o["thresholds"] is { } t)
        {
            var list = ArgumentReader.Array(t, "thresholds");
            if (list.Count is 0 or > 20)
            {
                throw new TaskArgumentException("thresholds", "thresholds must list 1-20 numbers of days");
            }
            thresholds = new JsonArray(list.Select((x, i) => (JsonNode)JsonValue.Create(ArgumentReader.Integer(x, ArgumentReader.Element("thresholds", i), 0, 3650)))
                .ToArray()).ToJsonString();
        }

        var (arguments, webhook) = intake.Protect(submission.Arguments, submission.Webhook);
        return new ScheduleRecord(name, submission.Task.Name, submission.Queue, arguments, cron, zone, webhook, notify, thresholds, Owner: null, now);
    }

    private static async Task<IResult> ListAsync(HttpContext http, ITaskStore store, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var all = (await store.ListSchedulesAsync(cancellationToken)).Where(s => caller.Owns(s.Owner)).ToList();
        return TypedResults.Json(new JsonObject { ["schedules"] = new JsonArray(all.Select(s => (JsonNode)Describe(s, caller)).ToArray()), ["count"] = all.Count });
    }

    private static async Task<IResult> GetAsync(string name, HttpContext http, ITaskStore store, IOptions<ScheduleOptions> schedulesOptions, CancellationToken cancellationToken)
    {
        if (await VisibleAsync(name, http, store, cancellationToken) is not { } s)
        {
            return NotFound(name);
        }
        var json = Describe(s, http.Caller());
        var runs = await store.ListAsync(new TaskQuery(ScheduleName: s.Name, Limit: schedulesOptions.Value.RecentRuns), cancellationToken);
        json["last_runs"] = new JsonArray(runs.Tasks.Select(t => (JsonNode)new JsonObject
        {
            ["task_id"] = t.Id.ToString(),
            ["state"] = t.State.ToWire(),
            ["verdict"] = t.Verdict ?? Tasks.TaskVerdict.Of(t.TaskName, t.State, t.Result),
            ["date_submitted"] = Date(t.Submitted),
            ["date_done"] = Date(t.Done),
        }).ToArray());
        if (s.LastOutcome is { } outcome && JsonNode.Parse(outcome) is JsonObject last)
        {
            json["last_outcome"] = last["values"]?.DeepClone();
        }
        return TypedResults.Json(json);
    }

    private static async Task<IResult> DeleteAsync(string name, HttpContext http, ITaskStore store, Schedules schedules, AuditLog audit, CancellationToken cancellationToken)
    {
        if (await VisibleAsync(name, http, store, cancellationToken) is not { } s || !await store.DeleteScheduleAsync(s.Name, cancellationToken))
        {
            return NotFound(name);
        }
        schedules.Unregister(s.Name);
        audit.TaskAction(http, "deleted", $"schedule {name}");
        return TypedResults.NoContent();
    }

    private static async Task<IResult> RunNowAsync(string name, HttpContext http, ITaskStore store, Schedules schedules, AuditLog audit, SubmissionGate gate,
        CancellationToken cancellationToken)
    {
        if (await VisibleAsync(name, http, store, cancellationToken) is not { } s)
        {
            return NotFound(name);
        }
        // The run is the schedule owner's task: the owner's queue limit applies (429 with Retry-After), as to POST /task.
        var owner = new Caller(s.Owner ?? Caller.AnonymousName, new HashSet<string>(), s.Owner is null or Caller.AnonymousName);
        if (await gate.CheckCapacityAsync(owner, s.Queue, cancellationToken) is { } full)
        {
            return full;
        }
        var task = await schedules.SubmitAsync(s, "manual", cancellationToken);
        audit.TaskAction(http, "ran", $"schedule {name} now as task {task.Id}");
        return TypedResults.Json(new { task_id = task.Id.ToString() }, statusCode: StatusCodes.Status202Accepted).WithLocation($"/task/{task.Id}");
    }

    /// <summary>The schedule when the caller owns it (admin: any); another token's schedule answers 404, as its tasks do.</summary>
    private static async Task<ScheduleRecord?> VisibleAsync(string name, HttpContext http, ITaskStore store, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        // The caller's own schedule first; then the name as stored (admin addresses others' as "owner:name"; a
        // schedule saved before names were per owner is stored under its bare name).
        if (await store.GetScheduleAsync(ScheduleKey(caller, name), cancellationToken) is { } own && caller.Owns(own.Owner))
        {
            return own;
        }
        return await store.GetScheduleAsync(name, cancellationToken) is { } s && caller.Owns(s.Owner) ? s : null;
    }

    /// <summary>How a schedule is stored: its bare name for anonymous callers (one tenant), <c>owner:name</c> for a token.</summary>
    public static string ScheduleKey(Caller caller, string name) => caller.Anonymous ? name : $"{caller.Owner}:{name}";

    /// <summary>The name a caller knows a stored schedule by: without its own owner prefix (admin sees others' in full).</summary>
    public static string DisplayName(Caller caller, string key) =>
        !caller.Anonymous && key.StartsWith(caller.Owner + ":", StringComparison.Ordinal) ? key[(caller.Owner.Length + 1)..] : key;

    /// <summary>A schedule as the API shows it: arguments with secrets masked, and when it runs next.</summary>
    private static JsonObject Describe(ScheduleRecord s, Caller caller)
    {
        DateTimeOffset? next = null;
        try
        {
            next = ScheduleTiming.Of(s).Next(DateTimeOffset.UtcNow);
        }
        catch (FormatException)
        {
        }
        return new JsonObject
        {
            ["name"] = DisplayName(caller, s.Name),
            ["task_name"] = s.TaskName,
            ["data"] = new JsonObject { ["kwargs"] = ArgumentSecrets.MaskAll(JsonNode.Parse(s.Arguments) ?? new JsonObject()) },
            ["cron"] = s.Cron,
            ["time_zone"] = s.TimeZone,
            ["queue"] = s.Queue,
            ["webhook"] = WebhookSecret.Mask(s.Webhook),
            ["notify"] = s.Notify,
            ["thresholds"] = s.Thresholds is null ? null : JsonNode.Parse(s.Thresholds),
            ["date_created"] = Date(s.Created),
            ["last_fired"] = Date(s.LastFired),
            ["next_run"] = Date(next),
        };
    }

    private static string? Date(DateTimeOffset? d) => d?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    private static IResult NotFound(string name) =>
        TypedResults.Json(new { name, error = $"no schedule named '{name}'" }, statusCode: StatusCodes.Status404NotFound);
}
