using System.Reflection;
using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>
/// Announces this worker in the registry (name, location, queues, running tasks) every
/// <see cref="ClusterOptions.HeartbeatInterval"/>, and re-queues tasks whose worker stopped sending
/// heartbeats (SIGKILL, power loss) — RabbitMQ redelivers a dead worker's messages at once, this sweep is the
/// store's own safety net. It is also the reconciler: tasks left PENDING without a message (their API node died
/// between storing and publishing them, or the broker was unreachable) are published again after
/// <see cref="ClusterOptions.RequeuePendingAfter"/>. Both sweeps run on one node at a time (advisory locks), and a
/// duplicate message is harmless (the worker claims the task in the store). A database outage is logged and waited
/// out, never fatal. Registered before the queue's worker, so it stops after it: the worker stays visible while its
/// running tasks finish within the shutdown grace period, and is removed once they are done.
/// </summary>
public sealed class WorkerHeartbeat(
    IWorkerRegistry registry,
    ITaskQueue queue,
    WorkerIdentity identity,
    RunningTasks running,
    IOptions<ClusterOptions> clusterOptions,
    TimeProvider time,
    ILogger<WorkerHeartbeat> log) : BackgroundService
{
    private static readonly string? Version = typeof(WorkerHeartbeat).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];

    private readonly DateTimeOffset _started = time.GetUtcNow();
    private bool _healthy = true;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first heartbeat before the worker takes tasks: its queues count as served from the start, and a
        // second process with the same configured name is refused instead of silently sharing its identity.
        var deadline = time.GetUtcNow() + clusterOptions.Value.WorkerTimeout * 2;
        while (true)
        {
            try
            {
                if (!await registry.HeartbeatAsync(Describe(), time.GetUtcNow(), cancellationToken))
                {
                    throw new StartupException(
                        $"{RemoteTestOptions.Section}:Worker:Name: '{identity.Name}' is in use by another live worker; give each worker its own name");
                }
                break;
            }
            catch (Exception ex) when (ex is not StartupException && time.GetUtcNow() < deadline && !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("Worker registry not reachable yet: {Message}; retrying", ex.Message);
                await Task.Delay(clusterOptions.Value.HeartbeatInterval, time, cancellationToken);
            }
        }
        log.LogInformation("Worker {Name} ({Location}) serving queues {Queues}", identity.Name, identity.Location ?? "no location", string.Join(", ", identity.Queues));
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(clusterOptions.Value.HeartbeatInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await BeatAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>One heartbeat and one sweep for orphaned tasks; failures are logged once per outage.</summary>
    internal async Task BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            var now = time.GetUtcNow();
            await registry.HeartbeatAsync(Describe(), now, cancellationToken).ConfigureAwait(false);
            if (!_healthy)
            {
                log.LogInformation("Worker registry reachable again");
                _healthy = true;
            }
            // Not connected to the broker (it restarts): a sweep's publishes would only wait and fail, and hold up
            // the next heartbeat. Another worker sweeps, or this one once it is back.
            if (queue.WorkerState.Consuming)
            {
                var requeued = await registry.RequeueOrphansAsync(now, (id, name) => queue.EnqueueAsync(id, name, cancellationToken), cancellationToken).ConfigureAwait(false);
                if (requeued > 0)
                {
                    log.LogWarning("Re-queued {Count} tasks left STARTED by workers that stopped sending heartbeats", requeued);
                }
                await RequeueStrandedAsync(now, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (_healthy)
            {
                log.LogWarning("Heartbeat failed (will keep trying): {Message}", ex.Message);
                _healthy = false;
            }
        }
    }

    private async Task RequeueStrandedAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var age = clusterOptions.Value.RequeuePendingAfter;
        var stranded = await registry.RequeueStrandedAsync(now, age,
            async name => await queue.DepthAsync(name, cancellationToken).ConfigureAwait(false) > 0,
            (id, name) => queue.EnqueueAsync(id, name, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (stranded > 0)
        {
            log.LogWarning("Published again {Count} tasks PENDING for more than {Age} with no message waiting in their queue", stranded, age);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await registry.RemoveAsync(identity.Name, identity.Instance, cancellationToken);
        }
        catch (Exception ex)
        {
            log.LogWarning("Could not remove worker {Name} from the registry: {Message}", identity.Name, ex.Message);
        }
    }

    private WorkerInfo Describe() => new(identity.Name, identity.Instance, identity.Location, identity.Queues, Version,
        _started, time.GetUtcNow(), running.Count);
}
