using System.Diagnostics;

namespace RemoteTest.Engine;

/// <summary>
/// Moves task ids to workers, at least once, per vantage point (queue). It holds no state of its own that
/// matters: the task store is the state machine, and a lost message is found again by the store's sweeps.
/// Embedded: <see cref="InProcessQueue"/>; scaled out: <see cref="RabbitMqQueue"/>.
/// </summary>
public interface ITaskQueue
{
    /// <summary>
    /// Hands the task to its queue. Carries only the id (and the caller's trace context), never arguments.
    /// Throws <see cref="QueueNotDeclaredException"/> when no worker ever declared the queue.
    /// </summary>
    Task EnqueueAsync(Guid taskId, string queue, CancellationToken cancellationToken);

    /// <summary>
    /// Whether a task sent to the queue would be taken: false only when the queue is known not to exist (no worker
    /// ever declared it), so submit refuses it before anything is stored; true when it cannot be told now.
    /// </summary>
    Task<bool> ExistsAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Messages waiting in the queue (not yet handed to a worker).</summary>
    Task<long> DepthAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Tells every worker that the task was revoked, so the one running it cancels it now; the store already says REVOKED.</summary>
    Task BroadcastRevokedAsync(Guid taskId, CancellationToken cancellationToken);

    /// <summary>On a worker: whether it takes tasks now (readiness); a sentence says why not.</summary>
    (bool Consuming, string Description) WorkerState { get; }
}

/// <summary>A queue no worker declared: a task sent there would wait forever, so submit answers 400 naming <c>queue</c>.</summary>
public sealed class QueueNotDeclaredException(string queue)
    : Exception($"queue '{queue}' does not exist: no worker serving it ever started");

/// <summary>What a queue message carries: the task id, and the W3C trace parent of the request that queued it.</summary>
public readonly record struct QueueMessage(Guid TaskId, string Queue, string? TraceParent)
{
    public static QueueMessage For(Guid taskId, string queue) => new(taskId, queue, Activity.Current?.Id);
}
