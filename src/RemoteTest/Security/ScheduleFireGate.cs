using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Security;

/// <summary>
/// Whether a schedule may fire now (cron or a timer, where no request carries a caller): its owner stays under
/// <c>Limits:MaxQueuedTasksPerToken</c> as <c>POST /task</c> does, so a seconds cron cannot flood the queue.
/// </summary>
public sealed class ScheduleFireGate(ITaskStore store, IOptions<RemoteTestOptions> options)
{
    /// <summary>Null when the schedule may fire; otherwise why not, for the log.</summary>
    public async Task<string?> RefusalAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        var limit = options.Value.Limits.MaxQueuedTasksPerToken;
        var queued = await store.CountUnfinishedAsync(schedule.Owner ?? Caller.AnonymousName, limit, cancellationToken);
        return queued >= limit
            ? $"its owner '{schedule.Owner}' has {queued} tasks queued or running, at most {limit} ({RemoteTestOptions.Section}:Limits:MaxQueuedTasksPerToken)"
            : null;
    }
}
