using System.Text.Json;
using System.Text.Json.Nodes;
using RemoteTest.Store;

namespace RemoteTest.Api;

/// <summary>
/// The <c>GET /task/{id}</c> answer, written straight from the stored record: the result is stored as JSON
/// text and copied through untouched rather than parsed and serialised again on every poll.
/// </summary>
public sealed class TaskStatusResponse(TaskRecord task) : IResult
{
    public async Task ExecuteAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json";
        var writer = new Utf8JsonWriter(http.Response.BodyWriter);
        Write(writer, task);
        await writer.FlushAsync();
    }

    /// <summary>
    /// Writes one task in the wire shape (shared by the single-task and listing answers). A
    /// <paramref name="listing"/> entry adds the arguments with secrets masked, and the result only when asked.
    /// </summary>
    public static void Write(Utf8JsonWriter w, TaskRecord t, bool listing = false, bool includeResult = true)
    {
        w.WriteStartObject();
        w.WriteString("task_id", t.Id.ToString());
        w.WriteString("state", t.State.ToWire());
        w.WriteBoolean("ready", t.State.IsReady());
        WriteVerdict(w, t);
        if (includeResult && t.State == TaskState.Success && t.Result is not null)
        {
            w.WritePropertyName("result");
            w.WriteRawValue(t.Result, skipInputValidation: true);
        }
        if (t.State is TaskState.Failure or TaskState.Revoked && t.Error is not null)
        {
            w.WriteString("error", t.Error);
        }
        w.WriteString("task_name", t.TaskName);
        w.WriteString("queue", t.Queue);
        WriteDate(w, "date_submitted", t.Submitted);
        WriteDate(w, "date_started", t.Started);
        WriteDate(w, "date_done", t.Done);
        if (t.Worker is not null)
        {
            w.WriteString("worker", t.Worker);
        }
        if (t.State == TaskState.Started && t.ProgressTotal is { } total)
        {
            w.WriteStartObject("progress");
            w.WriteNumber("done", t.ProgressDone ?? 0);
            w.WriteNumber("total", total);
            w.WriteEndObject();
        }
        if (listing)
        {
            w.WritePropertyName("args");
            w.WriteRawValue(Security.StoredArguments.Masked(t.Arguments), skipInputValidation: true);
        }
        if (t.ScheduleName is not null)
        {
            w.WriteString("schedule", t.ScheduleName);
        }
        if (t.Webhook is not null)
        {
            w.WriteStartObject("webhook");
            w.WriteString("url", Security.WebhookSecret.Mask(t.Webhook));
            w.WritePropertyName("deliveries");
            w.WriteRawValue(t.Deliveries ?? "[]", skipInputValidation: true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// <c>verdict</c> (Tasks/TaskVerdict: null while unfinished and for REVOKED) and, when the result counts its checks,
    /// <c>checks: {"passed", "failed"}</c>. The stored verdict is the one judged when the task finished; the counts
    /// come from the stored result by the same rule.
    /// </summary>
    private static void WriteVerdict(Utf8JsonWriter w, TaskRecord t)
    {
        var judgement = Tasks.TaskVerdict.Judge(t.TaskName, t.State, t.Result);
        var verdict = t.Verdict ?? judgement?.Verdict;
        if (verdict is null)
        {
            w.WriteNull("verdict");
            return;
        }
        w.WriteString("verdict", verdict);
        if (judgement is { Passed: { } passed, Failed: { } failed })
        {
            w.WriteStartObject("checks");
            w.WriteNumber("passed", passed);
            w.WriteNumber("failed", failed);
            w.WriteEndObject();
        }
    }

    private static void WriteDate(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
