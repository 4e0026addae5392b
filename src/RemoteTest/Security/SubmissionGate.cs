using System.Globalization;
using Microsoft.Extensions.Options;
using RemoteTest.Api;
using RemoteTest.Store;
using RemoteTest.Tasks;

namespace RemoteTest.Security;

/// <summary>Arguments of a task that connect to hosts the client named: what the up-front target check judges.</summary>
public interface ITargetedArguments
{
    /// <summary>The field that names the targets, for the 400 answer (e.g. <c>nameservers</c>, <c>data</c>).</summary>
    string TargetField { get; }

    /// <summary>The targets as the client wrote them (host names or IP literals); empty when the task uses only the operator's.</summary>
    IReadOnlyList<string> Targets { get; }
}

/// <summary>
/// What a submission must pass besides valid arguments: not every target denied (400), the caller's queued
/// tasks under <c>Limits:MaxQueuedTasksPerToken</c> (429), the queue under <c>Limits:MaxQueueLength</c> (503).
/// </summary>
public sealed class SubmissionGate(TargetGuard guard, ITaskStore store, QueueLengths queues, IOptions<LimitsOptions> limitsOptions)
{
    /// <summary>
    /// Throws <see cref="TaskArgumentException"/> when the task names targets and the policy denies every one of them.
    /// </summary>
    /// <param name="parsed">The task's arguments record, as its <c>ParseArguments</c> returned it.</param>
    public IReadOnlyList<string> CheckTargets(object parsed)
    {
        if (parsed is not ITargetedArguments targeted || targeted.Targets.Count == 0)
        {
            return [];
        }
        string? first = null;
        foreach (var target in targeted.Targets)
        {
            var refusal = guard.CheckAsWritten(target);
            if (refusal is null)
            {
                return targeted.Targets;
            }
            first ??= refusal;
        }
        throw new TaskArgumentException(targeted.TargetField,
            targeted.Targets.Count == 1 ? first! : $"every target is denied by the target policy; the first: {first}");
    }

    /// <summary>Null when the caller may queue one more task on <paramref name="queue"/>; else the answer to send.</summary>
    public async Task<IResult?> CheckCapacityAsync(Caller caller, string queue, CancellationToken cancellationToken)
    {
        var limits = limitsOptions.Value;
        var queued = await store.CountUnfinishedAsync(caller.Owner, limits.MaxQueuedTasksPerToken, cancellationToken);
        if (queued >= limits.MaxQueuedTasksPerToken)
        {
            return Refuse(StatusCodes.Status429TooManyRequests, limits.QueueRetryAfter, "queued",
                $"{(caller.Anonymous ? "anonymous callers have" : $"token '{caller.Owner}' has")} {queued} tasks queued or running; at most {limits.MaxQueuedTasksPerToken}");
        }
        if (await queues.FullAsync(queue, limits.MaxQueueLength, cancellationToken) is { } length)
        {
            return Refuse(StatusCodes.Status503ServiceUnavailable, limits.QueueRetryAfter, "queue",
                $"queue '{queue}' holds {length} tasks waiting, its limit; try again later");
        }
        return null;
    }

    private static IResult Refuse(int status, TimeSpan retryAfter, string field, string message) => RetryLater(status, retryAfter, field, message);

    /// <summary>An error answer with <c>Retry-After</c>.</summary>
    public static IResult RetryLater(int status, TimeSpan retryAfter, string field, string message) => new RetryLaterResult(
        TaskEndpoints.Error(status, field, message), (int)Math.Ceiling(retryAfter.TotalSeconds));

    private sealed class RetryLaterResult(IResult inner, int seconds) : IResult, IStatusCodeHttpResult, IValueHttpResult
    {
        public int? StatusCode => (inner as IStatusCodeHttpResult)?.StatusCode;

        public object? Value => (inner as IValueHttpResult)?.Value;

        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(http);
        }
    }
}
