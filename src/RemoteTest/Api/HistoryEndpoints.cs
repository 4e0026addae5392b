using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RemoteTest.Engine;
using RemoteTest.Security;
using RemoteTest.Store;

namespace RemoteTest.Api;

/// <summary>Flower's task list and revoke, as routes: <c>GET /task</c> (history) and <c>DELETE /task/{id}</c>.</summary>
public static class HistoryEndpoints
{
    public static IEndpointRouteBuilder MapHistoryEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/task", ListAsync)
            .WithName("ListTasks").WithTags("Tasks")
            .WithSummary("Task history, newest first, paged with a cursor")
            .WithDescription("Filters: state (PENDING, STARTED, RETRY, FAILURE, SUCCESS, REVOKED), verdict (pass, fail, partial, error), task_name, queue, schedule, since and until (submitted at or after since and before until; ISO 8601 or Unix seconds), target (a case-insensitive substring of the task's arguments: a host, domain or address; at most 255 characters). " +
                             "limit is 1-500 (default 50); pass next_cursor of one page as cursor to get the next. Arguments are shown with secrets masked; results only with include_result=true.");
        app.MapDelete("/task/{id}", RevokeAsync)
            .WithName("RevokeTask").WithTags("Tasks")
            .WithSummary("Revoke a task: a queued one never runs, a running one is cancelled")
            .WithDescription("Answers 200 with the task (state REVOKED), 404 for an unknown id, 409 when the task already ended.");
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, ITaskStore store, CancellationToken cancellationToken)
    {
        var q = http.Request.Query;
        TaskState? state = null;
        if (q["state"].ToString() is { Length: > 0 } s)
        {
            if (!TaskStates.TryParse(s, out var parsed))
            {
                return TaskEndpoints.Error(400, "state", $"'{s}' is not a state; use PENDING, STARTED, RETRY, FAILURE, SUCCESS or REVOKED");
            }
            state = parsed;
        }
        string? verdict = null;
        if (q["verdict"].ToString() is { Length: > 0 } v)
        {
            verdict = v.ToLowerInvariant();
            if (!Tasks.TaskVerdict.IsValue(verdict))
            {
                return TaskEndpoints.Error(400, "verdict", $"'{v}' is not a verdict; use {string.Join(", ", Tasks.TaskVerdict.Values)}");
            }
        }
        if (!TryTime(q, "since", out var since, out var badSince))
        {
            return badSince;
        }
        if (!TryTime(q, "until", out var until, out var badUntil))
        {
            return badUntil;
        }
        var limit = TaskQuery.DefaultLimit;
        if (q["limit"].ToString() is { Length: > 0 } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > TaskQuery.MaxLimit))
        {
            return TaskEndpoints.Error(400, "limit", $"limit must be a whole number within 1-{TaskQuery.MaxLimit}");
        }
        TaskCursor? cursor = null;
        if (q["cursor"].ToString() is { Length: > 0 } cursorText && !TaskCursor.TryDecode(cursorText, out cursor))
        {
            return TaskEndpoints.Error(400, "cursor", "cursor is not one this service handed out (use next_cursor of the previous page)");
        }
        var target = NonEmpty(q["target"])?.Trim();
        if (target is { Length: > TaskQuery.MaxTargetLength })
        {
            return TaskEndpoints.Error(400, "target", $"target is at most {TaskQuery.MaxTargetLength} characters");
        }
        var includeResult = q["include_result"].ToString() is "true" or "1";

        var query = new TaskQuery(state, NonEmpty(q["task_name"]), NonEmpty(q["queue"]), since, Owner: http.Caller().ListingOwner, ScheduleName: NonEmpty(q["schedule"]) is { } schedule && !http.Caller().IsAdmin && !schedule.Contains(':') ? ScheduleEndpoints.ScheduleKey(http.Caller(), schedule) : NonEmpty(q["schedule"]), After: cursor, Limit: limit, Until: until, Verdict: verdict, Target: target is { Length: > 0 } ? target : null);
        var page = await store.ListAsync(query, cancellationToken);
        return new TaskListResponse(page, includeResult, http.Request);
    }

    private static string? NonEmpty(Microsoft.Extensions.Primitives.StringValues v) => v.ToString() is { Length: > 0 } s ? s : null;

    /// <summary>A time parameter (<c>since</c>, <c>until</c>): absent, Unix seconds or ISO 8601; else the 400 answer naming it.</summary>
    private static bool TryTime(IQueryCollection q, string name, out DateTimeOffset? value, out IResult error)
    {
        value = null;
        error = Results.Empty;
        if (q[name].ToString() is not { Length: > 0 } text)
        {
            return true;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var unix) && unix is >= 0 and < 1e11)
        {
            value = DateTimeOffset.UnixEpoch.AddSeconds(unix);
            return true;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var iso))
        {
            value = iso;
            return true;
        }
        error = TaskEndpoints.Error(400, name, $"'{text}' is neither an ISO 8601 time nor Unix seconds");
        return false;
    }

    private static async Task<IResult> RevokeAsync(
        string id, HttpContext http, ITaskStore store, RunningTasks running, ITaskQueue queue, TaskEvents events, TaskCompletion completion, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var task = Guid.TryParse(id, out var guid) ? await store.GetAsync(guid, cancellationToken) : null;
        // Another token's task is unknown to this caller (404, as GET /task/{id} answers).
        if (task is null || !http.Caller().CanSee(task))
        {
            return TypedResults.Json(new { task_id = id, error = "unknown task id (never submitted, or expired after the retention period)" }, statusCode: StatusCodes.Status404NotFound);
        }
        if (task.State.IsReady())
        {
            return Conflict(task);
        }
        var masked = Security.StoredArguments.Masked(task.Arguments);
        switch (await store.RevokeAsync(guid, masked, "TaskRevokedError: revoked by request", time.GetUtcNow(), cancellationToken))
        {
            case RevokeOutcome.NotFound:
                return TypedResults.Json(new { task_id = id, error = "unknown task id" }, statusCode: StatusCodes.Status404NotFound);
            case RevokeOutcome.AlreadyFinished:
                return Conflict((await store.GetAsync(guid, cancellationToken))!);
        }
        // Stored first, then cancelled: the worker sees REVOKED when its probes stop, and does not overwrite it.
        var wasRunning = task.State == TaskState.Started;
        if (!running.Cancel(guid) && wasRunning)
        {
            // Running on another node: tell every worker now (the store stays the truth for one that misses it).
            await queue.BroadcastRevokedAsync(guid, CancellationToken.None);
        }
        audit.TaskAction(http, "revoked", $"task {guid} ({task.TaskName}, was {task.State.ToWire()})");
        events.Revoked(task, wasRunning, $"{http.Connection.RemoteIpAddress}");
        await completion.TaskEndedAsync(guid, CancellationToken.None);
        return new TaskStatusResponse((await store.GetAsync(guid, cancellationToken))!);
    }

    private static IResult Conflict(TaskRecord task) => TypedResults.Json(new
    {
        task_id = task.Id.ToString(),
        state = task.State.ToWire(),
        error = $"task already ended ({task.State.ToWire()}); only PENDING or STARTED tasks can be revoked",
    }, statusCode: StatusCodes.Status409Conflict);

    /// <summary>The history answer, streamed like <see cref="TaskStatusResponse"/>: stored JSON is copied, not re-parsed.</summary>
    private sealed class TaskListResponse(TaskPage page, bool includeResult, HttpRequest request) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.ContentType = "application/json";
            var w = new Utf8JsonWriter(http.Response.BodyWriter);
            w.WriteStartObject();
            w.WriteStartArray("tasks");
            foreach (var t in page.Tasks)
            {
                TaskStatusResponse.Write(w, t, listing: true, includeResult);
            }
            w.WriteEndArray();
            w.WriteNumber("count", page.Tasks.Count);
            if (page.Next is { } next)
            {
                var token = next.Encode();
                w.WriteString("next_cursor", token);
                var query = request.Query.Where(kv => kv.Key != "cursor").Select(kv => KeyValuePair.Create(kv.Key, kv.Value.ToString()))
                    .Append(KeyValuePair.Create("cursor", token));
                w.WriteString("next", "/task" + Microsoft.AspNetCore.Http.QueryString.Create(query!));
            }
            else
            {
                w.WriteNull("next_cursor");
                w.WriteNull("next");
            }
            w.WriteEndObject();
            await w.FlushAsync();
        }
    }
}
