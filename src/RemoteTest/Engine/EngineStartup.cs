using Hangfire;
using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>
/// Runs before the web server and the Hangfire server start: creates the store's schema, schedules the
/// retention clean-up, and — where the job queue lives in memory — enqueues again every task the store
/// still has PENDING or STARTED, so a restart or crash loses nothing (Celery's <c>acks_late</c>).
/// </summary>
public sealed class EngineStartup(
    ITaskStore store,
    ITaskDispatcher dispatcher,
    IRecurringJobManager recurring,
    ServiceRoles roles,
    IOptions<RemoteTestOptions> options,
    ILogger<EngineStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        if (!roles.Worker)
        {
            return;
        }

        recurring.AddOrUpdate<RetentionJob>("remotetest-retention", roles.Queues[0],
            j => j.RunAsync(CancellationToken.None), options.Value.Retention.CleanupCron);

        if (options.Value.Storage.Kind != StorageKind.Postgres)
        {
            var unfinished = await store.ListUnfinishedAsync(cancellationToken);
            foreach (var task in unfinished)
            {
                dispatcher.Enqueue(task.Id, task.Queue);
            }
            if (unfinished.Count > 0)
            {
                log.LogInformation("Enqueued {Count} unfinished tasks again after start", unfinished.Count);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
