using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.Extensions.Options;
using RemoteTest.Store;
using RemoteTest.Tasks;

namespace RemoteTest.Engine;

/// <summary>
/// The Hangfire job: loads a task from the store, runs it and writes its state and result back.
/// Retries are off: an unreachable host is a result, and a crash is a FAILURE with its message.
/// </summary>
public sealed class TaskRunner(
    ITaskStore store,
    TaskRegistry registry,
    ArgumentSecrets secrets,
    WorkerIdentity worker,
    WorkerActivity activity,
    IOptions<RemoteTestOptions> options,
    TimeProvider time,
    ILogger<TaskRunner> log)
{
    /// <summary>How often a running task writes its progress to the store, at most.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    public async Task RunAsync(Guid taskId, CancellationToken cancellationToken)
    {
        var record = await store.TryStartAsync(taskId, worker.Name, time.GetUtcNow(), cancellationToken);
        if (record is null)
        {
            // Revoked, already finished, or expired by retention: nothing to run.
            return;
        }

        using var running = activity.Track();
        var started = Stopwatch.GetTimestamp();
        var stored = JsonNode.Parse(record.Arguments) ?? new JsonObject();
        var masked = ArgumentSecrets.MaskAll(stored).ToJsonString();
        string? result = null;
        string? error = null;
        var state = TaskState.Success;

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.Worker.TaskTimeLimit);
        try
        {
            if (!registry.TryGet(record.TaskName, out var task))
            {
                throw new InvalidOperationException($"task '{record.TaskName}' is not known to worker {worker.Name}");
            }
            var named = (JsonObject)secrets.Unprotect(stored);
            var arguments = task.Parse(TaskArguments.FromNamed(task.Parameters, named));
            var context = new TaskContext(taskId, ProgressWriter(taskId));
            var value = await task.RunAsync(arguments, context, deadline.Token);
            result = WorkerStamp.Apply(JsonSerializer.SerializeToNode(value, value.GetType(), RemoteTestJson.Options), worker);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The process is stopping and the grace period is over: hand the task back (PENDING) and let
            // Hangfire put the job back in its queue, so another worker (or the next start) runs it.
            await store.ReleaseAsync(taskId, worker.Name, CancellationToken.None);
            log.LogWarning("Task {TaskId} ({TaskName}) interrupted by shutdown; handed back to queue {Queue}", taskId, record.TaskName, record.Queue);
            throw;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            state = TaskState.Failure;
            error = $"TimeLimitExceeded: task ran longer than {options.Value.Worker.TaskTimeLimit.TotalSeconds:0.#} s";
        }
        catch (Exception ex)
        {
            state = TaskState.Failure;
            error = $"{ex.GetType().Name}: {ex.Message}";
            log.LogError(ex, "Task {TaskId} ({TaskName}) failed", taskId, record.TaskName);
        }

        await store.FinishAsync(taskId, state, result, error, masked, time.GetUtcNow(), CancellationToken.None);
        log.LogInformation("Task {TaskId} ({TaskName}) {State} on {Worker} in {Seconds:0.000} s",
            taskId, record.TaskName, state.ToWire(), worker.Name, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>Writes progress to the store, throttled so that a fan-out of thousands of probes costs a few writes.</summary>
    private Action<int, int> ProgressWriter(Guid taskId)
    {
        long last = 0;
        return (done, total) =>
        {
            var now = time.GetTimestamp();
            var previous = Interlocked.Read(ref last);
            var due = done >= total || time.GetElapsedTime(previous, now) >= ProgressInterval;
            if (due && Interlocked.CompareExchange(ref last, now, previous) == previous)
            {
                _ = store.SetProgressAsync(taskId, done, total, CancellationToken.None);
            }
        };
    }
}
