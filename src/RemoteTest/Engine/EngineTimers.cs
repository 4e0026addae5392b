using Microsoft.Extensions.Options;

namespace RemoteTest.Engine;

/// <summary>
/// The engine's clocks, on every node: schedules are looked at every <see cref="ScheduleOptions.PollInterval"/>
/// (a schedule saved on any node is seen by all; each occurrence is claimed once in the store), and the retention
/// clean-up runs on <see cref="RetentionOptions.CleanupCron"/> (deleting what expired is the same on every node,
/// so several nodes running it at once only repeat a cheap DELETE). One store query per poll, nothing else.
/// </summary>
public sealed class EngineTimers(
    Schedules schedules,
    RetentionJob retention,
    IOptions<RetentionOptions> retentionOptions, IOptions<ScheduleOptions> schedulesOptions,
    TimeProvider time,
    ILogger<EngineTimers> log) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        schedules.Changed += Wake;
        stoppingToken.Register(() => schedules.Changed -= Wake);
        return Task.WhenAll(RunSchedulesAsync(stoppingToken), RunRetentionAsync(stoppingToken));
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    private async Task RunSchedulesAsync(CancellationToken stoppingToken)
    {
        var interval = schedulesOptions.Value.PollInterval;
        var healthy = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await schedules.FireDueAsync(stoppingToken);
                if (!healthy)
                {
                    log.LogInformation("Schedules: task store reachable again");
                    healthy = true;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                if (healthy)
                {
                    log.LogWarning("Schedules: could not fire due schedules (will keep trying): {Message}", ex.Message);
                    healthy = false;
                }
            }
            try
            {
                // Wake at the poll interval, or sooner when a schedule changed here.
                await _wake.WaitAsync(interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task RunRetentionAsync(CancellationToken stoppingToken)
    {
        ScheduleTiming timing;
        try
        {
            timing = ScheduleTiming.Parse(retentionOptions.Value.CleanupCron, "UTC");
        }
        catch (FormatException ex)
        {
            log.LogError("{Setting}: {Error}; no retention clean-up runs", $"{RemoteTestOptions.Section}:Retention:CleanupCron", ex.Message);
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            if (timing.Next(now) is not { } next)
            {
                return;
            }
            try
            {
                await Task.Delay(next - now, time, stoppingToken);
                await retention.RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning("Retention clean-up failed (next at its schedule): {Message}", ex.Message);
            }
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
