using Microsoft.AspNetCore.Mvc;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using RemoteTest.Engine;
using RemoteTest.Security;
using RemoteTest.Store;
using RemoteTest.Tasks;

namespace RemoteTest.Api;

/// <summary>The original's routes: submit a task, read its state and result.</summary>
public static class TaskEndpoints
{
    public static IEndpointRouteBuilder MapTaskEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/task", SubmitAsync).AddEndpointFilter(SubmissionAudit.FilterAsync);
        app.MapGet("/task/{id}", GetAsync);
        return app;
    }

    /// <summary>What <c>POST /task</c> works with, from the container (<c>[AsParameters]</c>).</summary>
    internal sealed record SubmitServices(
        [FromServices] TaskRegistry Registry,
        [FromServices] ITaskQueue Queue,
        [FromServices] LiveWorkers Live,
        [FromServices] TaskIntake Intake,
        [FromServices] SubmissionGate Gate,
        [FromServices] AuditLog Audit,
        [FromServices] TimeProvider Time,
        [FromServices] IOptions<ClusterOptions> Cluster,
        [FromServices] IOptions<LimitsOptions> Limits,
        [FromServices] IOptions<WebhookOptions> Webhooks,
        [FromServices] ILoggerFactory Logs);

    private static async Task<IResult> SubmitAsync(HttpContext http, [AsParameters] SubmitServices s, CancellationToken cancellationToken)
    {
        var limit = s.Limits.Value.MaxRequestBytes;
        if (http.Request.ContentLength > limit)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, "body", $"request body is larger than {limit} bytes");
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        JsonNode? body;
        try
        {
            // The original read the body whatever its Content-Type (Flask's force=True); so do we.
            body = await RequestJson.ReadAsync(http.Request, limit, cancellationToken);
        }
        catch (JsonException ex)
        {
            return Error(StatusCodes.Status400BadRequest, "body", $"Invalid JSON body: {ex.Message}");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, "body", $"request body is larger than {limit} bytes");
        }

        TaskSubmission submission;
        IReadOnlyList<string> targets;
        try
        {
            submission = TaskSubmission.Parse(body, s.Registry, s.Webhooks.Value.MaxUrlLength);
            targets = s.Gate.CheckTargets(submission.Parsed);
        }
        catch (TaskArgumentException ex)
        {
            return Error(StatusCodes.Status400BadRequest, ex.Field, ex.Message);
        }

        var caller = http.Caller();
        if (await s.Gate.CheckCapacityAsync(caller, submission.Queue, cancellationToken) is { } full)
        {
            return full;
        }

        var (arguments, webhook) = s.Intake.Protect(submission.Arguments, submission.Webhook);
        var allowUnserved = s.Cluster.Value.AllowQueuesWithoutWorkers;
        if (submission.FanOut is not null)
        {
            return await TaskGroups.SubmitAsync(submission, arguments, webhook, targets, http, s.Audit, s.Intake, s.Queue, s.Live, allowUnserved, s.Time.GetUtcNow(),
                s.Logs.CreateLogger("RemoteTest.Api"), cancellationToken);
        }
        if (await QueueRefusalAsync([submission.Queue], "queue", await s.Live.QueuesAsync(cancellationToken), allowUnserved, s.Queue, cancellationToken) is { } refused)
        {
            return refused;
        }
        var record = TaskRecord.New(submission.Task.Name, submission.Queue, arguments, owner: caller.Owner, s.Time.GetUtcNow()) with { Webhook = webhook };
        if (await s.Intake.AcceptAsync([record], $"{http.Connection.RemoteIpAddress}", LogLevel.Debug, cancellationToken) is [var undeclared, ..])
        {
            return Error(StatusCodes.Status400BadRequest, "queue", undeclared);
        }
        s.Audit.TaskSubmitted(http, caller, record, targets, submission.Arguments.Values);

        return TypedResults.Json(new { task_id = record.Id.ToString() }, statusCode: StatusCodes.Status202Accepted)
            .WithLocation($"/task/{record.Id}");
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, ITaskStore store, LiveWorkers live, CancellationToken cancellationToken)
    {
        var task = Guid.TryParse(id, out var guid) ? await store.GetAsync(guid, cancellationToken) : null;
        if (task is null && guid != Guid.Empty
            && (await store.ListGroupAsync(guid, cancellationToken)).Where(c => http.Caller().CanSee(c)).ToList() is { Count: > 0 } children)
        {
            return TypedResults.Json(await TaskGroups.DescribeAsync(guid, children, live, cancellationToken));
        }
        // The original answered PENDING for ids it never saw, so a typo looked like a queued task forever.
        // Another token's task is "unknown" too: a 403 would confirm that the id exists.
        return task is null || !http.Caller().CanSee(task)
            ? TypedResults.Json(new { task_id = id, error = "unknown task id (never submitted, or expired after the retention period)" }, statusCode: StatusCodes.Status404NotFound)
            : new TaskStatusResponse(task);
    }

    /// <summary>
    /// Null when every one of <paramref name="queues"/> can take a task now; else the 400 naming <paramref name="field"/>.
    /// A queue nobody serves would leave its task PENDING forever, so it is refused unless
    /// <see cref="ClusterOptions.AllowQueuesWithoutWorkers"/>; even then it must exist in the broker (a vantage point
    /// is a queue). A served queue exists: its workers declared it.
    /// </summary>
    internal static async Task<IResult?> QueueRefusalAsync(IReadOnlyList<string> queues, string field, IReadOnlyDictionary<string, IReadOnlyList<WorkerInfo>> served,
        bool allowUnserved, ITaskQueue queue, CancellationToken cancellationToken)
    {
        var unserved = queues.Where(q => !served.ContainsKey(q)).ToList();
        if (unserved.Count > 0 && !allowUnserved)
        {
            return Error(StatusCodes.Status400BadRequest, field, UnservedMessage(unserved, served.Keys));
        }
        foreach (var q in unserved)
        {
            if (!await queue.ExistsAsync(q, cancellationToken))
            {
                return Error(StatusCodes.Status400BadRequest, field, new QueueNotDeclaredException(q).Message);
            }
        }
        return null;
    }

    /// <summary>The 400 message for queues no live worker serves, naming the ones that are.</summary>
    private static string UnservedMessage(IReadOnlyCollection<string> unserved, IEnumerable<string> served)
    {
        var known = served.Order(StringComparer.Ordinal).ToList();
        return $"no live worker serves queue{(unserved.Count == 1 ? "" : "s")} {string.Join(", ", unserved.Select(q => $"'{q}'"))}; " +
               $"live queues: {(known.Count == 0 ? "none" : string.Join(", ", known))}";
    }

    /// <summary>The error shape of every 4xx answer: <c>{"error", "field"}</c>.</summary>
    public static IResult Error(int status, string field, string message) =>
        TypedResults.Json(new { error = message, field }, statusCode: status);

    internal static IResult WithLocation(this IResult result, string location) => new LocatedResult(result, location);

    private sealed class LocatedResult(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.Location = location;
            return inner.ExecuteAsync(http);
        }
    }
}
