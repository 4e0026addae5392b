using System.Collections.Concurrent;

namespace RemoteTest.Engine;

/// <summary>
/// The tasks this process is running, each with the token source that cancels it: a revoke cancels the
/// task through it, and the cancellation reaches every probe's open socket.
/// </summary>
public sealed class RunningTasks
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    /// <summary>Ids of the tasks running here now.</summary>
    public IReadOnlyCollection<Guid> Ids => _running.Keys.ToArray();

    /// <summary>How many tasks run here now (the heartbeat's and the metrics' figure).</summary>
    public int Count => _running.Count;

    /// <summary>
    /// Tracks a running task until the returned handle is disposed, unless it already runs in this process (a
    /// second job for the same task, fetched by another of this worker's threads: the store would let the same
    /// worker claim it again); null then.
    /// </summary>
    public IDisposable? TryTrack(Guid taskId, CancellationTokenSource revocation)
    {
        if (!_running.TryAdd(taskId, revocation))
        {
            return null;
        }
        Volatile.Read(ref _started)?.TrySetResult();
        return new Registration(this, taskId, revocation);
    }

    private TaskCompletionSource? _started;

    /// <summary>
    /// Completes when at least one task runs here (at once if one does): the revocation watcher sleeps on it
    /// instead of ticking while the worker is idle.
    /// </summary>
    public Task WhenRunningAsync(CancellationToken cancellationToken)
    {
        if (!_running.IsEmpty)
        {
            return Task.CompletedTask;
        }
        var waiter = Volatile.Read(ref _started);
        if (waiter is null || waiter.Task.IsCompleted)
        {
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiter = Interlocked.CompareExchange(ref _started, fresh, waiter) == waiter ? fresh : Volatile.Read(ref _started)!;
        }
        // Published before this second look: a task tracked in between either sees the waiter or is seen here.
        if (!_running.IsEmpty)
        {
            waiter.TrySetResult();
        }
        return waiter.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Cancels the task if it runs in this process; true when it did.</summary>
    public bool Cancel(Guid taskId)
    {
        if (!_running.TryGetValue(taskId, out var cts))
        {
            return false;
        }
        try
        {
            cts.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false; // it finished meanwhile
        }
    }

    private sealed class Registration(RunningTasks owner, Guid id, CancellationTokenSource cts) : IDisposable
    {
        public void Dispose() => owner._running.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(id, cts));
    }
}
