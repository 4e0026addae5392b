using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>
/// One log event (category <c>RemoteTest.TaskEvents</c>) and the matching metrics per task state change,
/// each with the same fields: TaskId, TaskName, Queue, State, Worker and, when it ended, DurationSeconds.
/// Only the end of a task is Information: at hundreds of tasks a second, a line per state change cost a fifth
/// of the throughput (bench/README.md), and a client's submission is already an Information event of the audit log.
/// The events are source-generated (<c>LoggerMessage</c>): a Debug event that is off costs a level check, not an
/// argument array and boxed values on every task.
/// </summary>
public sealed partial class TaskEvents(RemoteTestMetrics metrics, ILoggerFactory logs)
{
    public const string Category = "RemoteTest.TaskEvents";

    private static readonly EventId SubmittedEvent = new(1001, "TaskSubmitted");
    private static readonly EventId EndedEvent = new(1003, "TaskEnded");

    private readonly ILogger _log = logs.CreateLogger(Category);
    private readonly ILogger _runner = logs.CreateLogger<TaskRunner>();

    /// <summary>
    /// PENDING: accepted and queued; <paramref name="source"/> says who asked (a client address or a schedule).
    /// Debug unless asked otherwise: the audit log records every client's submission.
    /// </summary>
    public void Submitted(TaskRecord t, string source, LogLevel level = LogLevel.Debug)
    {
        metrics.Submitted(t.TaskName, t.Queue);
        // Not generated: the generator refuses a second "TaskSubmitted" event name beside the audit log's; the level
        // check spares the argument array while the event is off (its default).
        if (_log.IsEnabled(level))
        {
            _log.Log(level, SubmittedEvent, "Task {TaskId} {State} ({TaskName}, queue {Queue}) from {Source}",
                t.Id, "PENDING", t.TaskName, t.Queue, source);
        }
    }

    /// <summary>STARTED on a worker (Debug: the wait is in the pick-up latency metric and the task's date_started).</summary>
    public void Started(TaskRecord t)
    {
        var waited = (t.Started ?? t.Submitted) - t.Submitted;
        metrics.Started(t.Queue, waited);
        LogStarted(_log, t.Id, "STARTED", t.TaskName, t.Queue, t.Worker, waited.TotalSeconds);
    }

    /// <summary>SUCCESS or FAILURE, recorded by the worker that ran it.</summary>
    public void Ended(TaskRecord t, TaskState state, string worker, TimeSpan duration)
    {
        metrics.Finished(t.TaskName, state.ToWire(), duration);
        LogEnded(_log, state == TaskState.Success ? LogLevel.Information : LogLevel.Warning,
            t.Id, state.ToWire(), t.TaskName, t.Queue, worker, duration.TotalSeconds);
    }

    /// <summary>REVOKED by a client; <paramref name="wasRunning"/> when a worker had started it.</summary>
    public void Revoked(TaskRecord t, bool wasRunning, string source)
    {
        var duration = wasRunning && t.Started is { } s ? DateTimeOffset.UtcNow - s : (TimeSpan?)null;
        metrics.Finished(t.TaskName, "REVOKED", duration);
        // Not generated: it shares TaskEnded's event id (the generator allows one method per id), and is rare.
        _log.LogInformation(EndedEvent, "Task {TaskId} {State} ({TaskName}, queue {Queue}) on {Worker} by {Source}, was {Previous}",
            t.Id, "REVOKED", t.TaskName, t.Queue, t.Worker, source, t.State.ToWire());
    }

    /// <summary>Not a state change: the worker noticed the revoke and stopped the task's probes.</summary>
    public void Cancelled(TaskRecord t, string worker, TimeSpan ran) =>
        LogCancelled(_runner, t.Id, worker, ran.TotalSeconds, t.TaskName);

    [LoggerMessage(EventId = 1002, EventName = "TaskStarted", Level = LogLevel.Debug,
        Message = "Task {TaskId} {State} ({TaskName}, queue {Queue}) on {Worker} after {WaitSeconds:0.000} s queued")]
    private static partial void LogStarted(ILogger log, Guid taskId, string state, string taskName, string queue, string? worker, double waitSeconds);

    [LoggerMessage(EventId = 1003, EventName = "TaskEnded", Message = "Task {TaskId} {State} ({TaskName}, queue {Queue}) on {Worker} in {DurationSeconds:0.000} s")]
    private static partial void LogEnded(ILogger log, LogLevel level, Guid taskId, string state, string taskName, string queue, string worker, double durationSeconds);

    [LoggerMessage(EventId = 1004, EventName = "TaskCancelled", Level = LogLevel.Information,
        Message = "Task {TaskId} cancelled on {Worker} after {DurationSeconds:0.000} s ({TaskName}): revoked")]
    private static partial void LogCancelled(ILogger log, Guid taskId, string worker, double durationSeconds, string taskName);
}
