using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Security;

/// <summary>
/// Whether a schedule may fire now (cron or a timer, where no request carries a caller): its owner stays under
/// <c>Limits:MaxQueuedTasksPerToken</c> as <c>POST /task</c> does, so a seconds cron cannot flood the queue.
/// </summary>
public sealed class ScheduleFireGate(ITaskStore store, IApiTokenStore tokens, IOptions<Security.AuthOptions> authOptions, IOptions<LimitsOptions> limitsOptions, TimeProvider time)
{
    /// <summary>Null when the schedule may fire; otherwise why not, for the log.</summary>
    public async Task<string?> RefusalAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        // A schedule acts for the token that saved it: once that token is revoked, expired or gone, it stops firing.
        if (schedule.Owner is { } owner && owner != Caller.AnonymousName)
        {
            var now = time.GetUtcNow();
            var configured = authOptions.Value.Tokens.FirstOrDefault(t => t.Name == owner);
            if (configured is not null)
            {
                if (configured.Expires is { } e && e <= now)
                {
                    return $"its owner token '{owner}' has expired";
                }
            }
            else if (await tokens.GetTokenAsync(owner, cancellationToken) is not { } managed)
            {
                return $"its owner token '{owner}' no longer exists";
            }
            else if (managed.Unusable(now) is { } why)
            {
                return $"its owner token '{owner}': {why[4..]}";
            }
        }
        var limit = limitsOptions.Value.MaxQueuedTasksPerToken;
        var queued = await store.CountUnfinishedAsync(schedule.Owner ?? Caller.AnonymousName, limit, cancellationToken);
        return queued >= limit
            ? $"its owner '{schedule.Owner}' has {queued} tasks queued or running, at most {limit} ({RemoteTestOptions.Section}:Limits:MaxQueuedTasksPerToken)"
            : null;
    }
}
