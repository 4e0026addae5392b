using RemoteTest.Store;

namespace RemoteTest.Api;

/// <summary>
/// The live workers as the API sees them, read from the worker registry and kept for a moment so that a
/// burst of submissions costs one registry query, not one per request.
/// </summary>
public sealed class LiveWorkers(IWorkerRegistry registry, TimeProvider time)
{
    /// <summary>How long one registry answer is reused; well below the heartbeat interval.</summary>
    private static readonly TimeSpan CacheFor = TimeSpan.FromMilliseconds(500);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (DateTimeOffset At, IReadOnlyList<WorkerInfo> Workers)? _cached;
    private volatile ByQueue? _byQueue;

    private sealed record ByQueue(IReadOnlyList<WorkerInfo> Workers, IReadOnlyDictionary<string, IReadOnlyList<WorkerInfo>> Queues);

    /// <summary>Every live worker (fresh from the registry).</summary>
    public Task<IReadOnlyList<WorkerInfo>> ListAsync(CancellationToken cancellationToken) => registry.ListLiveAsync(time.GetUtcNow(), cancellationToken);

    /// <summary>The queues live workers serve, each with its workers' locations; cached briefly.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<WorkerInfo>>> QueuesAsync(CancellationToken cancellationToken)
    {
        var workers = await CachedAsync(cancellationToken).ConfigureAwait(false);
        // Every POST asks; the grouping is made once per registry read, not once per request.
        if (_byQueue is { } known && ReferenceEquals(known.Workers, workers))
        {
            return known.Queues;
        }
        var queues = workers
            .SelectMany(w => w.Queues.Select(q => (Queue: q, Worker: w)))
            .GroupBy(x => x.Queue, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<WorkerInfo>)g.Select(x => x.Worker).ToList(), StringComparer.Ordinal);
        _byQueue = new ByQueue(workers, queues);
        return queues;
    }

    private async Task<IReadOnlyList<WorkerInfo>> CachedAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cached is { } c && now - c.At < CacheFor)
        {
            return c.Workers;
        }
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cached is { } again && time.GetUtcNow() - again.At < CacheFor)
            {
                return again.Workers;
            }
            var workers = await registry.ListLiveAsync(now, cancellationToken).ConfigureAwait(false);
            _cached = (time.GetUtcNow(), workers);
            return workers;
        }
        finally
        {
            _refresh.Release();
        }
    }
}
