namespace RemoteTest.Store;

/// <summary>One task as the task store keeps it.</summary>
/// <param name="Arguments">Bound arguments as JSON; secrets protected while the task waits, masked once it ends.</param>
/// <param name="Result">The result as JSON text, when SUCCESS.</param>
/// <param name="Webhook">URL the result is POSTed to when the task is ready.</param>
/// <param name="ScheduleName">The schedule that started this task, if any.</param>
/// <param name="Deliveries">Webhook deliveries so far, as a JSON array (see Engine/WebhookDelivery).</param>
/// <param name="Verdict">Whether the checks passed (Tasks/TaskVerdict), written when the task finishes; null before and for REVOKED.</param>
public sealed record TaskRecord(
    Guid Id,
    string TaskName,
    string Queue,
    TaskState State,
    string Arguments,
    string? Result,
    string? Error,
    string? Owner,
    string? Worker,
    DateTimeOffset Submitted,
    DateTimeOffset? Started,
    DateTimeOffset? Done,
    int? ProgressDone = null,
    int? ProgressTotal = null,
    Guid? GroupId = null,
    string? Webhook = null,
    string? ScheduleName = null,
    string? Deliveries = null,
    string? Verdict = null)
{
    /// <summary>A new PENDING task.</summary>
    public static TaskRecord New(string taskName, string queue, string arguments, string? owner, DateTimeOffset now, Guid? groupId = null) =>
        new(Guid.NewGuid(), taskName, queue, TaskState.Pending, arguments, null, null, owner, null, now, null, null, null, null, groupId);
}
