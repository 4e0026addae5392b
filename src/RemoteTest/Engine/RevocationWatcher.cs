using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>
/// Cancels running tasks that were revoked through another node: a <c>DELETE /task/{id}</c> cancels a task
/// at once when it runs in the API's own process, and otherwise only marks it REVOKED in the shared store;
/// every worker asks the store at <see cref="WorkerOptions.RevocationPollInterval"/> which of its running
/// tasks are revoked (one indexed query). While nothing runs it does not wake at all: it waits for a task to
/// start, and a revoke still reaches a task within one interval of the revoke.
/// </summary>
public sealed class RevocationWatcher(
    RunningTasks running,
    ITaskStore store,
    IOptions<WorkerOptions> workerOptions,
    TimeProvider time,
    ILogger<RevocationWatcher> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = workerOptions.Value.RevocationPollInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await running.WhenRunningAsync(stoppingToken);
                await Task.Delay(interval, time, stoppingToken);
                await CheckOnceAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One poll: cancels the local tasks the store says are revoked; returns how many.</summary>
    public async Task<int> CheckOnceAsync(CancellationToken cancellationToken)
    {
        var ids = running.Ids;
        if (ids.Count == 0)
        {
            return 0;
        }
        try
        {
            var cancelled = 0;
            foreach (var id in await store.ListRevokedAsync(ids, cancellationToken))
            {
                if (running.Cancel(id))
                {
                    cancelled++;
                    log.LogInformation("Task {TaskId} revoked elsewhere; cancelled here", id);
                }
            }
            return cancelled;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A storage hiccup must not stop the watcher; the next poll tries again.
            log.LogWarning(ex, "Revocation poll failed");
            return 0;
        }
    }
}
