using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>
/// Runs before the web server and the workers start: creates the store's schema and — where the queue lives
/// in memory — enqueues again every task the store still has PENDING or STARTED, so a restart or crash loses
/// nothing (Celery's <c>acks_late</c>). Scaled out, the broker keeps its messages and the store's sweeps find
/// the rest (<see cref="WorkerHeartbeat"/>).
/// </summary>
public sealed class EngineStartup(
    ITaskStore store,
    ITaskQueue queue,
    ServiceRoles roles,
    IOptions<StorageOptions> storageOptions,
    ILogger<EngineStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        if (!roles.Worker || storageOptions.Value.Kind == StorageKind.Postgres)
        {
            return;
        }
        var unfinished = await store.ListUnfinishedAsync(cancellationToken);
        foreach (var task in unfinished)
        {
            await queue.EnqueueAsync(task.Id, task.Queue, cancellationToken);
        }
        if (unfinished.Count > 0)
        {
            log.LogInformation("Enqueued {Count} unfinished tasks again after start", unfinished.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
