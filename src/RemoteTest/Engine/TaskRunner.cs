using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Store;
using RemoteTest.Tasks;

namespace RemoteTest.Engine;

/// <summary>
/// Runs one queue message: claims the task in the store, runs it and writes its state and result back; the
/// queue acknowledges the message only after this returns (Celery's <c>acks_late</c>). Retries are off: an
/// unreachable host is a result, and a crash — or a task that cannot even be loaded — is a FAILURE with its message.
/// </summary>
public sealed class TaskRunner(
    ITaskStore store,
    TaskRegistry registry,
    ArgumentSecrets secrets,
    WorkerIdentity worker,
    RunningTasks running,
    TaskEvents events,
    TaskCompletion completion,
    IOptions<WorkerOptions> workerOptions,
    TimeProvider time,
    ILogger<TaskRunner> log)
{
    /// <summary>
    /// Runs the task of <paramref name="message"/>. Returns when the message may be acknowledged (the task ended
    /// and is stored, or there is nothing to run); throws <see cref="OperationCanceledException"/> when
    /// <paramref name="stopping"/> interrupted it and it was handed back (PENDING), so the message goes back too.
    /// </summary>
    /// <param name="redelivered">
    /// The queue hands the message out again because the worker that held it lost its connection (SIGKILL,
    /// network): the task may be taken over from that worker at once, without waiting for its heartbeat to expire.
    /// </param>
    public async Task RunAsync(QueueMessage message, bool redelivered, CancellationToken stopping)
    {
        // The task's log lines carry the TraceId of the request (or schedule fire) that queued it: an Activity
        // made directly (not from an ActivitySource, which makes none while nobody listens) with that parent.
        using var activity = new Activity("RemoteTest.Task");
        if (message.TraceParent is { Length: > 0 } parent)
        {
            activity.SetParentId(parent);
        }
        activity.SetTag("task_id", message.TaskId);
        activity.Start();
        await RunAsync(message.TaskId, redelivered, stopping);
    }

    public async Task RunAsync(Guid taskId, bool redelivered, CancellationToken cancellationToken)
    {
        // Revocation and the time limit both cancel the one token the task and its probes' sockets use.
        using var revocation = new CancellationTokenSource();
        using var tracking = running.TryTrack(taskId, revocation);
        if (tracking is null)
        {
            // A duplicate message (re-queued by a sweep, redelivered) while this process runs the task: nothing to do.
            return;
        }
        var now = time.GetUtcNow();
        var record = redelivered
            ? await store.TryTakeOverAsync(taskId, worker.Name, now, cancellationToken)
            : await store.TryStartAsync(taskId, worker.Name, now, cancellationToken);
        if (record is null)
        {
            // Revoked, already finished, expired by retention, or running on another live worker: nothing to run.
            return;
        }

        var started = Stopwatch.GetTimestamp();
        using var scope = log.BeginScope(new Dictionary<string, object?> { ["TaskId"] = taskId, ["TaskName"] = record.TaskName, ["Queue"] = record.Queue });
        events.Started(record);
        // Anything that fails from here on, loading the arguments included, ends the task as FAILURE with the
        // reason: a task must never stay STARTED because its stored arguments cannot be read.
        var masked = "{}";
        string? result = null;
        string? error = null;
        var state = TaskState.Success;

        // Disposed before the final state is written: a progress write still waiting must not follow the end.
        using var progress = new ProgressWriter(store, taskId, workerOptions.Value.ProgressInterval, time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, revocation.Token);
        deadline.CancelAfter(workerOptions.Value.TaskTimeLimit);
        try
        {
            // Inside the try: arguments that cannot be read or decrypted make the task a FAILURE, never a stuck STARTED.
            var stored = JsonNode.Parse(record.Arguments) as JsonObject ?? new JsonObject();
            masked = ArgumentSecrets.MaskAll(stored).ToJsonString();
            if (!registry.TryGet(record.TaskName, out var task))
            {
                throw new InvalidOperationException($"task '{record.TaskName}' is not known to worker {worker.Name}");
            }
            var named = secrets.Unprotect(stored) as JsonObject
                ?? throw new InvalidOperationException("the stored arguments are not a JSON object");
            var arguments = task.Parse(TaskArguments.FromNamed(task.Parameters, named));
            var context = new TaskContext(taskId, progress.Report);
            var value = await task.RunAsync(arguments, context, deadline.Token);
            result = WorkerStamp.Apply(JsonSerializer.SerializeToNode(value, value.GetType(), RemoteTestJson.Options), worker);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The process is stopping and the grace period is over: hand the task back (PENDING); the caller puts
            // the message back in its queue, so another worker (or the next start) runs it.
            await store.ReleaseAsync(taskId, worker.Name, CancellationToken.None);
            log.LogWarning("Task {TaskId} ({TaskName}) interrupted by shutdown; handed back to queue {Queue}", taskId, record.TaskName, record.Queue);
            throw;
        }
        catch (OperationCanceledException) when (revocation.IsCancellationRequested)
        {
            // The store already says REVOKED (the revoke wrote it before cancelling): nothing to record.
            events.Cancelled(record, worker.Name, Stopwatch.GetElapsedTime(started));
            return;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            state = TaskState.Failure;
            error = $"TimeLimitExceeded: task ran longer than {workerOptions.Value.TaskTimeLimit.TotalSeconds:0.#} s";
        }
        catch (Exception ex)
        {
            state = TaskState.Failure;
            error = $"{ex.GetType().Name}: {ex.Message}";
            log.LogError(ex, "Task {TaskId} ({TaskName}) failed", taskId, record.TaskName);
        }

        progress.Dispose();
        now = time.GetUtcNow();
        // The verdict is judged once, here, and stored beside the state: every reader (history filter, UI, CLI) shares it.
        var verdict = TaskVerdict.Of(record.TaskName, state, result);
        var finished = record with { State = state, Result = result, Error = error, Arguments = masked, Done = now, Verdict = verdict };
        var notification = await completion.EvaluateAsync(finished, CancellationToken.None);
        if (!await store.FinishAsync(taskId, state, result, error, masked, worker.Name, now, verdict, CancellationToken.None))
        {
            // Revoked while its last probes finished: the revoke wins and the result is dropped.
            events.Cancelled(record, worker.Name, Stopwatch.GetElapsedTime(started));
            return;
        }
        events.Ended(record, state, worker.Name, Stopwatch.GetElapsedTime(started));
        completion.Notify(finished, notification);
    }
}

/// <summary>
/// Writes a running task's progress to the store, at most once per interval: a fan-out of thousands of probes
/// costs a few writes. The first write waits one interval after the task started, so a task that ends sooner
/// (most tasks: a port or two) costs no progress write at all — its progress is shown only while STARTED, and
/// its end is one write anyway; two writes per task were 2 of its 5 SQLite transactions (bench/README.md). A
/// report that falls inside the throttle window is written when the window ends, so the stored progress never
/// stays behind while a longer task waits on its last probes. Nothing is written once disposed.
/// </summary>
internal sealed class ProgressWriter(ITaskStore store, Guid taskId, TimeSpan interval, TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private long _last = time.GetTimestamp();   // the task's start counts as a write: the first one is due an interval later
    private int _done;
    private int _total;
    private ITimer? _flush;
    private bool _stopped;

    public void Report(int done, int total)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }
            _done = done;
            _total = total;
            var now = time.GetTimestamp();
            if (time.GetElapsedTime(_last, now) >= interval)
            {
                _last = now;
                _ = store.SetProgressAsync(taskId, done, total, CancellationToken.None);
            }
            else
            {
                // Written when the window ends, unless the task has ended by then.
                _flush ??= time.CreateTimer(_ => Flush(), null, interval - time.GetElapsedTime(_last, now), Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Flush()
    {
        lock (_gate)
        {
            _flush?.Dispose();
            _flush = null;
            if (_stopped)
            {
                return;
            }
            _last = time.GetTimestamp();
            _ = store.SetProgressAsync(taskId, _done, _total, CancellationToken.None);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            _flush?.Dispose();
            _flush = null;
        }
    }
}
