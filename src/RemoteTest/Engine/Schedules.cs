using System.Text.RegularExpressions;
using Cronos;
using Hangfire;
using Hangfire.Common;
using Hangfire.Storage;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>A validated cron expression in its time zone.</summary>
public sealed partial record ScheduleTiming(CronExpression Expression, TimeZoneInfo Zone)
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex NameRegex();

    /// <summary>Names are used in URLs and job ids: letters, digits, '_', '.', '-', at most 100.</summary>
    public static bool IsName(string name) => NameRegex().IsMatch(name);

    /// <summary>Parses 5-field (minutes) or 6-field (seconds first) cron in an IANA or Windows time zone; the error says what is wrong.</summary>
    public static ScheduleTiming Parse(string cron, string timeZone)
    {
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            throw new FormatException($"cron '{cron}' has {fields} fields; use 5 (minute hour day month weekday) or 6 (second first)");
        }
        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            throw new FormatException($"cron '{cron}' is not valid: {ex.Message}");
        }
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone))
        {
            throw new FormatException($"time zone '{timeZone}' is not known (use an IANA name such as 'UTC' or 'Europe/Berlin')");
        }
        return new ScheduleTiming(expression, zone);
    }

    public static ScheduleTiming Of(ScheduleRecord s) => Parse(s.Cron, s.TimeZone);

    public DateTimeOffset? Next(DateTimeOffset after) => Expression.GetNextOccurrence(after, Zone);

    /// <summary>Windows searched, smallest first, for the latest occurrence: few occurrences to enumerate whatever the cron.</summary>
    private static readonly TimeSpan[] LookBack =
        [TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(32), TimeSpan.FromDays(400), TimeSpan.FromDays(8 * 366)];

    /// <summary>
    /// The occurrence a fire at <paramref name="now"/> belongs to: the latest one at or before it (Hangfire fires
    /// an occurrence seconds after it is due, or once later for a missed one). Nodes that fire the same
    /// occurrence compute the same instant, so the store lets only one of them claim it.
    /// </summary>
    public DateTimeOffset Occurrence(DateTimeOffset now)
    {
        foreach (var window in LookBack)
        {
            DateTimeOffset? latest = null;
            foreach (var o in Expression.GetOccurrences(now - window, now, Zone, fromInclusive: true, toInclusive: true))
            {
                latest = o;
            }
            if (latest is { } found)
            {
                return found;
            }
        }
        return new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
    }
}

/// <summary>
/// Keeps Hangfire's recurring jobs in step with the schedules in the task store, and fires them: each
/// schedule is one recurring job <c>schedule:{name}</c> whose only argument is the schedule's name.
/// </summary>
public sealed class Schedules(
    ITaskStore store,
    IRecurringJobManager recurring,
    JobStorage jobStorage,
    ITaskDispatcher dispatcher,
    TaskEvents events,
    RemoteTestMetrics metrics,
    ServiceRoles roles,
    TimeProvider time,
    ILogger<Schedules> log,
    Security.ScheduleFireGate fireGate)
{
    private const string JobPrefix = "schedule:";

    public static string JobId(string name) => JobPrefix + name;

    /// <summary>Creates or updates the recurring job of a stored schedule.</summary>
    public void Register(ScheduleRecord s)
    {
        var timing = ScheduleTiming.Of(s);
        // The fire job itself is tiny (insert + enqueue); it runs on this node's first queue, the task on the schedule's.
        recurring.AddOrUpdate(JobId(s.Name), Job.FromExpression<Schedules>(x => x.FireAsync(s.Name, CancellationToken.None), roles.Queues[0]),
            s.Cron, new RecurringJobOptions { TimeZone = timing.Zone });
    }

    public void Unregister(string name) => recurring.RemoveIfExists(JobId(name));

    /// <summary>At start: registers every stored schedule, and removes recurring jobs of schedules deleted meanwhile.</summary>
    public async Task SynchronizeAsync(CancellationToken cancellationToken)
    {
        var stored = await store.ListSchedulesAsync(cancellationToken);
        foreach (var s in stored)
        {
            try
            {
                Register(s);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                log.LogError("Schedule {Schedule} not registered: {Error}", s.Name, ex.Message);
            }
        }
        using var connection = jobStorage.GetConnection();
        var names = stored.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var job in connection.GetRecurringJobs().Where(j => j.Id.StartsWith(JobPrefix, StringComparison.Ordinal) && !names.Contains(j.Id[JobPrefix.Length..])))
        {
            recurring.RemoveIfExists(job.Id);
        }
        if (stored.Count > 0)
        {
            log.LogInformation("Registered {Count} schedules", stored.Count);
        }
    }

    /// <summary>The recurring job: claims this occurrence in the store (one node wins) and submits the task.</summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    public async Task FireAsync(string name, CancellationToken cancellationToken)
    {
        var schedule = await store.GetScheduleAsync(name, cancellationToken);
        if (schedule is null)
        {
            Unregister(name);
            return;
        }
        var occurrence = ScheduleTiming.Of(schedule).Occurrence(time.GetUtcNow());
        if (!await store.TryClaimScheduleFireAsync(name, occurrence, cancellationToken))
        {
            log.LogDebug("Schedule {Schedule} occurrence {Occurrence:o} already fired elsewhere", name, occurrence);
            return;
        }
        if (await fireGate.RefusalAsync(schedule, cancellationToken) is { } refusal)
        {
            log.LogWarning("Schedule {Schedule} occurrence {Occurrence:o} skipped: {Reason}", name, occurrence, refusal);
            return;
        }
        await SubmitAsync(schedule, "cron", cancellationToken);
    }

    /// <summary>Creates and enqueues one run of a schedule; <paramref name="trigger"/> is <c>cron</c> or <c>manual</c>.</summary>
    public async Task<TaskRecord> SubmitAsync(ScheduleRecord schedule, string trigger, CancellationToken cancellationToken)
    {
        var task = TaskRecord.New(schedule.TaskName, schedule.Queue, schedule.Arguments, schedule.Owner, time.GetUtcNow())
            with
        { ScheduleName = schedule.Name, Webhook = schedule.Webhook };
        await store.InsertAsync(task, cancellationToken);
        events.Submitted(task, $"schedule {schedule.Name} ({trigger})", LogLevel.Information);   // before the job exists: never after its STARTED
        dispatcher.Enqueue(task.Id, task.Queue);
        metrics.ScheduleFired(trigger);
        return task;
    }
}
