namespace RemoteTest.Store;

/// <summary>One worker process as it announces itself in its heartbeats.</summary>
/// <param name="Instance">Random per process start: tells a restarted worker from a second process that took the same name.</param>
/// <param name="RunningTasks">Ids of the tasks it runs now (filled when listing).</param>
public sealed record WorkerInfo(
    string Name,
    string Instance,
    string? Location,
    IReadOnlyList<string> Queues,
    string? Version,
    DateTimeOffset Started,
    DateTimeOffset Heartbeat,
    int Running,
    IReadOnlyList<Guid>? RunningTasks = null);

/// <summary>
/// Which workers are alive, where they stand and which queues they serve. A worker is live while its
/// heartbeat is younger than <see cref="ClusterOptions.WorkerTimeout"/>; a STARTED task whose worker is not
/// live is an orphan (the worker crashed) and goes back to its queue.
/// </summary>
public interface IWorkerRegistry
{
    /// <summary>Records a heartbeat; false when a live worker of another process already holds this name.</summary>
    Task<bool> HeartbeatAsync(WorkerInfo worker, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Removes the worker at a clean shutdown, so its queues stop counting as served at once.</summary>
    Task RemoveAsync(string name, string instance, CancellationToken cancellationToken);

    /// <summary>Live workers, by name, with the tasks each runs.</summary>
    Task<IReadOnlyList<WorkerInfo>> ListLiveAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Hands every orphaned task to <paramref name="enqueue"/> and marks it PENDING again; returns how many.
    /// Safe to run on every worker at once: only one sweeps at a time, and a repeated enqueue is harmless
    /// (a task runs once, the second message finds it taken).
    /// </summary>
    Task<int> RequeueOrphansAsync(DateTimeOffset now, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken);

    /// <summary>
    /// Hands to <paramref name="enqueue"/> every task PENDING for longer than <paramref name="age"/> on a queue a
    /// live worker serves, unless a sweep already did within <paramref name="age"/>; returns how many. Such a
    /// task may have no message at all: its API node died between storing it and enqueuing it. One sweeper at a
    /// time; the extra message of a task that was queued after all finds it taken and does nothing.
    /// </summary>
    /// <param name="queueHasJobs">
    /// True when a queue still has messages waiting: its PENDING tasks are probably waiting their turn, so they are
    /// left alone unless PENDING for longer than <see cref="OverdueFactor"/> times <paramref name="age"/>.
    /// </param>
    Task<int> RequeueStrandedAsync(DateTimeOffset now, TimeSpan age, Func<string, Task<bool>> queueHasJobs, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken);

    /// <summary>A task PENDING this many times the age is enqueued again even while its queue has messages waiting.</summary>
    const int OverdueFactor = 12;
}

/// <summary>The registry of a single process (memory and embedded storage): the process itself is the only worker.</summary>
public sealed class LocalWorkerRegistry(ITaskStore store) : IWorkerRegistry
{
    private WorkerInfo? _self;

    public Task<bool> HeartbeatAsync(WorkerInfo worker, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _self = worker with { Heartbeat = now };
        return Task.FromResult(true);
    }

    public Task RemoveAsync(string name, string instance, CancellationToken cancellationToken)
    {
        _self = null;
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<WorkerInfo>> ListLiveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_self is not { } self)
        {
            return [];
        }
        var running = (await store.ListUnfinishedAsync(cancellationToken).ConfigureAwait(false))
            .Where(t => t.State == TaskState.Started && t.Worker == self.Name).Select(t => t.Id).ToList();
        return [self with { RunningTasks = running, Running = running.Count }];
    }

    /// <summary>Nothing to do: the embedded engine enqueues every unfinished task again when the process starts.</summary>
    public Task<int> RequeueOrphansAsync(DateTimeOffset now, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken) => Task.FromResult(0);

    /// <summary>Nothing to do: one process stores and enqueues, and enqueues every unfinished task again when it starts.</summary>
    public Task<int> RequeueStrandedAsync(DateTimeOffset now, TimeSpan age, Func<string, Task<bool>> queueHasJobs, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken) =>
        Task.FromResult(0);
}
