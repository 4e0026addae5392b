using System.Text.Json.Nodes;
using RemoteTest.Store;
using RemoteTest.Tasks;

namespace RemoteTest.Engine;

/// <summary>
/// The one way a task enters the system — a <c>POST /task</c>, each child of a fan-out, each run of a schedule:
/// its arguments stored with their secrets encrypted, the task stored PENDING, logged as submitted, then put on its
/// queue. Storing comes first, so a crash after it loses nothing (the reconciler, or the embedded start-up,
/// publishes a stored task that has no message); logging comes before the message exists, so the PENDING line never
/// trails the worker's STARTED. What a caller audits (a request, a group, a schedule's run) stays with the caller.
/// </summary>
public sealed class TaskIntake(ITaskStore store, ITaskQueue queue, ArgumentSecrets secrets, TaskEvents events, TimeProvider time, ILogger<TaskIntake> log)
{
    /// <summary>Arguments and webhook as they are stored: every secret encrypted (Data Protection).</summary>
    public (string Arguments, string? Webhook) Protect(TaskArguments arguments, string? webhook) =>
        (secrets.Protect(arguments.Values).ToJsonString(), secrets.ProtectWebhook(webhook));

    /// <summary>
    /// Stores every task, then logs and enqueues each in turn. Returns the messages of queues the broker refused
    /// because no worker ever declared them (those tasks are stored FAILURE with the message, never left PENDING).
    /// Any other publishing failure leaves the task PENDING for the reconciler, with a warning.
    /// </summary>
    /// <param name="origin">Who submitted, for the log line: a client address, a group, a schedule.</param>
    public async Task<IReadOnlyList<string>> AcceptAsync(IReadOnlyList<TaskRecord> tasks, string origin, LogLevel level, CancellationToken cancellationToken)
    {
        foreach (var task in tasks)
        {
            await store.InsertAsync(task, cancellationToken);
        }
        List<string>? refused = null;
        foreach (var task in tasks)
        {
            events.Submitted(task, origin, level);
            try
            {
                await queue.EnqueueAsync(task.Id, task.Queue, cancellationToken);
            }
            catch (QueueNotDeclaredException ex)
            {
                var masked = ArgumentSecrets.MaskAll(JsonNode.Parse(task.Arguments) ?? new JsonObject()).ToJsonString();
                await store.FinishAsync(task.Id, TaskState.Failure, null, $"QueueNotDeclared: {ex.Message}", masked, null, time.GetUtcNow(),
                    TaskVerdict.Error, CancellationToken.None);
                (refused ??= []).Add(ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning("Task {TaskId} ({Origin}) stored but not queued yet, the reconciler will publish it: {Error}", task.Id, origin, ex.Message);
            }
        }
        return refused ?? (IReadOnlyList<string>)[];
    }
}
