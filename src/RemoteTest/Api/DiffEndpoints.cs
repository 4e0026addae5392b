using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using RemoteTest.Security;
using RemoteTest.Store;

namespace RemoteTest.Api;

/// <summary>
/// "What changed since before the change?": <c>GET /task/{id}/diff?against={other_id|baseline:NAME}</c>, and named
/// baselines (<c>POST /task/{id}/baseline</c>, <c>GET /baselines</c>, <c>GET|DELETE /baselines/{name}</c>).
/// Owner-scoped like every task route: another owner's task or baseline answers 404.
/// </summary>
public static partial class DiffEndpoints
{
    public const string BaselinePrefix = "baseline:";

    /// <summary>A baseline name: what a person types and a URL carries unescaped.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    public static partial Regex BaselineName();

    public static IEndpointRouteBuilder MapDiffEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/task/{id}/diff", DiffAsync);
        app.MapPost("/task/{id}/baseline", PinAsync);
        app.MapGet("/baselines", ListAsync);
        app.MapGet("/baselines/{name}", GetAsync);
        app.MapDelete("/baselines/{name}", UnpinAsync);
        return app;
    }

    private static IResult NotFound(string field, string message) =>
        TypedResults.Json(new { error = message, field }, statusCode: StatusCodes.Status404NotFound);

    private static async Task<TaskRecord?> VisibleAsync(string id, HttpContext http, ITaskStore store, CancellationToken cancellationToken) =>
        Guid.TryParse(id, out var guid) && await store.GetAsync(guid, cancellationToken) is { } task && http.Caller().CanSee(task) ? task : null;

    private static async Task<IResult> DiffAsync(string id, HttpContext http, ITaskStore store, CancellationToken cancellationToken)
    {
        var after = await VisibleAsync(id, http, store, cancellationToken);
        if (after is null)
        {
            return NotFound("id", $"unknown task id '{id}'");
        }
        var against = http.Request.Query["against"].ToString();
        if (string.IsNullOrWhiteSpace(against))
        {
            return TaskEndpoints.Error(StatusCodes.Status400BadRequest, "against", "against is required: another task id, or baseline:NAME");
        }
        var resolved = await ResolveAsync(against, http, store, cancellationToken);
        if (resolved.Error is { } error)
        {
            return error;
        }
        var (before, baseline) = (resolved.Task!, resolved.Baseline);
        if (before.TaskName != after.TaskName)
        {
            return TaskEndpoints.Error(StatusCodes.Status400BadRequest, "against",
                $"cannot compare a {after.TaskName} task with a {before.TaskName} task: both must be runs of the same task");
        }
        foreach (var (field, task) in new[] { ("id", after), ("against", before) })
        {
            if (task.State != TaskState.Success)
            {
                return TaskEndpoints.Error(StatusCodes.Status409Conflict, field, $"task {task.Id} is {task.State.ToWire()}: only finished (SUCCESS) tasks are compared");
            }
        }
        return TypedResults.Json(Document(after, before, baseline));
    }

    /// <summary>The diff answer: both tasks, then <see cref="TaskDiff.Compute"/>'s document.</summary>
    public static JsonObject Document(TaskRecord after, TaskRecord before, string? baseline)
    {
        var diff = TaskDiff.Compute(after.TaskName, Parse(before.Result), Parse(after.Result));
        var document = new JsonObject
        {
            ["task_id"] = after.Id.ToString(),
            ["task_name"] = after.TaskName,
            ["against"] = before.Id.ToString(),
            ["baseline"] = baseline,
            ["before"] = Side(before),
            ["after"] = Side(after),
        };
        foreach (var (key, value) in diff.ToList())
        {
            diff.Remove(key);
            document[key] = value;
        }
        return document;
    }

    private static JsonObject Side(TaskRecord t) => new()
    {
        ["task_id"] = t.Id.ToString(),
        ["date_done"] = t.Done?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["queue"] = t.Queue,
    };

    private static JsonNode? Parse(string? json)
    {
        try
        {
            return json is null ? null : JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An <c>against</c> value: a task id or <c>baseline:NAME</c> of the caller's, else the error to answer.</summary>
    private static async Task<(TaskRecord? Task, string? Baseline, IResult? Error)> ResolveAsync(string against, HttpContext http, ITaskStore store, CancellationToken cancellationToken)
    {
        if (against.StartsWith(BaselinePrefix, StringComparison.Ordinal))
        {
            var name = against[BaselinePrefix.Length..];
            if (!BaselineName().IsMatch(name))
            {
                return (null, null, TaskEndpoints.Error(StatusCodes.Status400BadRequest, "against", $"'{name}' is not a baseline name (letters, digits, '.', '_', '-'; at most 64)"));
            }
            var pinned = await store.GetBaselineAsync(http.Caller().Owner, name, cancellationToken);
            var task = pinned is null ? null : await VisibleAsync(pinned.TaskId.ToString(), http, store, cancellationToken);
            return task is null ? (null, null, NotFound("against", $"unknown baseline '{name}'")) : (task, name, null);
        }
        if (!Guid.TryParse(against, out _))
        {
            return (null, null, TaskEndpoints.Error(StatusCodes.Status400BadRequest, "against", $"'{against}' is neither a task id nor baseline:NAME"));
        }
        var other = await VisibleAsync(against, http, store, cancellationToken);
        return other is null ? (null, null, NotFound("against", $"unknown task id '{against}'")) : (other, null, null);
    }

    private static async Task<IResult> PinAsync(string id, HttpContext http, ITaskStore store, TimeProvider time, AuditLog audit,
        IOptions<LimitsOptions> limitsOptions, CancellationToken cancellationToken)
    {
        var task = await VisibleAsync(id, http, store, cancellationToken);
        if (task is null)
        {
            return NotFound("id", $"unknown task id '{id}'");
        }
        JsonNode? body;
        try
        {
            body = await RequestJson.ReadAsync(http.Request, limitsOptions.Value.MaxRequestBytes, cancellationToken);
        }
        catch (JsonException ex)
        {
            return TaskEndpoints.Error(StatusCodes.Status400BadRequest, "body", $"Invalid JSON body: {ex.Message}");
        }
        if (body is not JsonObject o || o["name"] is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
        {
            return TaskEndpoints.Error(StatusCodes.Status400BadRequest, "name", "name is required: {\"name\": \"pre-cutover\"}");
        }
        var name = v.GetValue<string>();
        if (!BaselineName().IsMatch(name))
        {
            return TaskEndpoints.Error(StatusCodes.Status400BadRequest, "name", "name: letters, digits, '.', '_', '-', starting with a letter or digit; at most 64");
        }
        if (task.State != TaskState.Success)
        {
            return TaskEndpoints.Error(StatusCodes.Status409Conflict, "id", $"task {task.Id} is {task.State.ToWire()}: only a finished (SUCCESS) task can be a baseline");
        }
        var record = new BaselineRecord(http.Caller().Owner, name, task.Id, task.TaskName, time.GetUtcNow());
        var created = await store.SaveBaselineAsync(record, cancellationToken);
        audit.TaskAction(http, "baseline.pin", $"{name} {task.Id}");
        return TypedResults.Json(Describe(record), statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> ListAsync(HttpContext http, ITaskStore store, CancellationToken cancellationToken)
    {
        var list = await store.ListBaselinesAsync(http.Caller().Owner, cancellationToken);
        return TypedResults.Json(new JsonObject { ["baselines"] = new JsonArray([.. list.Select(b => (JsonNode)Describe(b))]), ["count"] = list.Count });
    }

    private static async Task<IResult> GetAsync(string name, HttpContext http, ITaskStore store, CancellationToken cancellationToken) =>
        BaselineName().IsMatch(name) && await store.GetBaselineAsync(http.Caller().Owner, name, cancellationToken) is { } b
            ? TypedResults.Json(Describe(b))
            : NotFound("name", $"unknown baseline '{name}'");

    private static async Task<IResult> UnpinAsync(string name, HttpContext http, ITaskStore store, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!BaselineName().IsMatch(name) || !await store.DeleteBaselineAsync(http.Caller().Owner, name, cancellationToken))
        {
            return NotFound("name", $"unknown baseline '{name}'");
        }
        audit.TaskAction(http, "baseline.unpin", name);
        return TypedResults.NoContent();
    }

    private static JsonObject Describe(BaselineRecord b) => new()
    {
        ["name"] = b.Name,
        ["task_id"] = b.TaskId.ToString(),
        ["task_name"] = b.TaskName,
        ["date_created"] = b.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["diff"] = $"/task/{{id}}/diff?against={BaselinePrefix}{b.Name}",
    };
}
