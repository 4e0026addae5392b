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
    public IDisposable? TryTrack(Guid taskId, CancellationTokenSource revocation) =>
        _running.TryAdd(taskId, revocation) ? new Registration(this, taskId, revocation) : null;

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
