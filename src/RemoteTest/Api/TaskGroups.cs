using System.Text.Json.Nodes;
using RemoteTest.Engine;
using RemoteTest.Security;
using RemoteTest.Store;

namespace RemoteTest.Api;

/// <summary>
/// Fan-out: one task run from several vantage points. <c>POST /task</c> with <c>queues</c> stores one child
/// task per queue under a group id; <c>GET /task/{group id}</c> shows the children side by side with what
/// they saw differently. The group is not a row of its own: it is the children sharing a group id.
/// </summary>
public static class TaskGroups
{
    /// <summary>Globalping's per-probe statuses, which clients of multi-location tools already know.</summary>
    public static string Status(TaskRecord child, bool queueServed) => child.State switch
    {
        TaskState.Success => "finished",
        TaskState.Failure or TaskState.Revoked => "failed",
        _ when !queueServed => "offline",
        _ => "in-progress",
    };

    /// <summary>
    /// Validates the queues (or expands <c>*</c>), stores every child, then enqueues them; 202 only after all are
    /// stored. The group is one audit event (naming every child) and each child one task event.
    /// </summary>
    /// <param name="arguments">The arguments as stored (secrets protected).</param>
    /// <param name="webhook">The webhook as stored (protected).</param>
    /// <param name="targets">The checked targets, for the audit log.</param>
    public static async Task<IResult> SubmitAsync(
        TaskSubmission submission,
        string arguments,
        string? webhook,
        IReadOnlyList<string> targets,
        HttpContext http,
        AuditLog audit,
        TaskIntake intake,
        ITaskQueue queue,
        LiveWorkers live,
        bool allowUnserved,
        DateTimeOffset now,
        ILogger log,
        CancellationToken cancellationToken)
    {
        var served = await live.QueuesAsync(cancellationToken);
        IReadOnlyList<string> queues;
        if (submission.FanOut is [TaskSubmission.AllQueues])
        {
            queues = served.Keys.Order(StringComparer.Ordinal).ToList();
            if (queues.Count == 0)
            {
                return TaskEndpoints.Error(StatusCodes.Status400BadRequest, "queues", "no live worker serves any queue, so \"*\" selects nothing");
            }
        }
        else
        {
            queues = submission.FanOut!;
            if (await TaskEndpoints.QueueRefusalAsync(queues, "queues", served, allowUnserved, queue, cancellationToken) is { } refused)
            {
                return refused;
            }
        }

        var group = Guid.NewGuid();
        var caller = http.Caller();
        var children = queues.Select(q => TaskRecord.New(submission.Task.Name, q, arguments, caller.Owner, now, group) with { Webhook = webhook }).ToList();
        var undeclared = await intake.AcceptAsync(children, $"{http.Connection.RemoteIpAddress} (group {group})", LogLevel.Debug, cancellationToken);
        if (undeclared.Count > 0)
        {
            return TaskEndpoints.Error(StatusCodes.Status400BadRequest, "queues", string.Join("; ", undeclared));
        }
        audit.GroupSubmitted(http, caller, group, children, targets, submission.Arguments.Values);
        log.LogInformation("Group {GroupId} ({TaskName}) submitted to queues {Queues}", group, submission.Task.Name, string.Join(", ", queues));

        var tasks = new JsonObject();
        foreach (var child in children)
        {
            tasks[child.Queue] = child.Id.ToString();
        }
        return new LocatedJson(new JsonObject { ["task_id"] = group.ToString(), ["tasks"] = tasks }, StatusCodes.Status202Accepted, $"/task/{group}");
    }

    /// <summary>The <c>GET /task/{group id}</c> answer.</summary>
    public static async Task<JsonObject> DescribeAsync(Guid group, IReadOnlyList<TaskRecord> children, LiveWorkers live, CancellationToken cancellationToken)
    {
        var served = await live.QueuesAsync(cancellationToken);
        var tasks = new JsonObject();
        var byQueue = new JsonObject();
        var results = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal) { ["finished"] = 0, ["failed"] = 0, ["in-progress"] = 0, ["offline"] = 0 };
        foreach (var child in children)
        {
            var status = Status(child, served.ContainsKey(child.Queue));
            counts[status]++;
            tasks[child.Queue] = child.Id.ToString();
            var result = child.State == TaskState.Success && child.Result is not null ? JsonNode.Parse(child.Result) : null;
            if (result is not null)
            {
                results[child.Queue] = result;
            }
            var location = result?["summary"]?["location"]?.DeepClone()
                ?? (served.TryGetValue(child.Queue, out var workers) ? workers.FirstOrDefault(w => w.Name == child.Worker)?.Location : null);
            var entry = new JsonObject
            {
                ["task_id"] = child.Id.ToString(),
                ["state"] = child.State.ToWire(),
                ["status"] = status,
                ["ready"] = child.State.IsReady(),
                ["verdict"] = child.Verdict ?? Tasks.TaskVerdict.Of(child.TaskName, child.State, child.Result),
                ["worker"] = child.Worker,
                ["location"] = location,
                ["date_started"] = child.Started is { } s ? WorkerEndpoints.Wire(s) : null,
                ["date_done"] = child.Done is { } d ? WorkerEndpoints.Wire(d) : null,
            };
            if (result is not null)
            {
                entry["result"] = result.DeepClone();
            }
            if (child.State is TaskState.Failure or TaskState.Revoked && child.Error is not null)
            {
                entry["error"] = child.Error;
            }
            byQueue[child.Queue] = entry;
        }

        var ready = children.All(c => c.State.IsReady());
        var state = !ready
            ? children.Any(c => c.State != TaskState.Pending) ? TaskState.Started : TaskState.Pending
            : children.All(c => c.State == TaskState.Success) ? TaskState.Success
            : children.Any(c => c.State == TaskState.Failure) ? TaskState.Failure
            : TaskState.Revoked;
        var (differences, truncated) = GroupDifferences.Compute(results);
        var answer = new JsonObject
        {
            ["task_id"] = group.ToString(),
            ["group"] = true,
            ["state"] = state.ToWire(),
            ["ready"] = ready,
            ["verdict"] = ready ? Tasks.TaskVerdict.Combine(children.Select(c => c.Verdict ?? Tasks.TaskVerdict.Of(c.TaskName, c.State, c.Result))) : null,
            ["task_name"] = children[0].TaskName,
            ["date_submitted"] = WorkerEndpoints.Wire(children.Min(c => c.Submitted)),
            ["tasks"] = tasks,
            ["children"] = byQueue,
            ["summary"] = new JsonObject
            {
                ["queues"] = children.Count,
                ["finished"] = counts["finished"],
                ["failed"] = counts["failed"],
                ["in_progress"] = counts["in-progress"],
                ["offline"] = counts["offline"],
                ["compared"] = results.Count,
                ["differences"] = differences.Count,
                ["differences_truncated"] = truncated,
            },
            ["differences"] = differences,
        };
        return answer;
    }

    /// <summary>A JSON answer with a <c>Location</c> header.</summary>
    public sealed class LocatedJson(JsonNode body, int status, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.Location = location;
            return TypedResults.Json(body, statusCode: status).ExecuteAsync(http);
        }
    }
}
