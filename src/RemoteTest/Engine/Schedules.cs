using System.Text.RegularExpressions;
using Cronos;
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
    /// The occurrence a fire at <paramref name="now"/> belongs to: the latest one at or before it (the timer fires
    /// an occurrence up to one poll interval after it is due, or once later for missed ones). Nodes that fire the same
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
/// Fires the schedules kept in the task store. <see cref="EngineTimers"/> calls <see cref="FireDueAsync"/> on
/// every node every <see cref="ScheduleOptions.PollInterval"/>; each occurrence is claimed once in the store, so
/// however many nodes see it due, one task is submitted. Nothing is registered anywhere else: a schedule saved
/// through any node is seen by every node at its next poll.
/// </summary>
public sealed class Schedules(
    ITaskStore store,
    TaskIntake intake,
    RemoteTestMetrics metrics,
    TimeProvider time,
    ILogger<Schedules> log,
    Security.ScheduleFireGate fireGate)
{
    /// <summary>Raised when a schedule is saved or deleted here, so the timer looks again at once.</summary>
    public event Action? Changed;

    /// <summary>Validates a stored schedule's timing (throws <see cref="FormatException"/>) and wakes the timer.</summary>
    public void Register(ScheduleRecord s)
    {
        _ = ScheduleTiming.Of(s);
        Changed?.Invoke();
    }

    public void Unregister(string name) => Changed?.Invoke();

    /// <summary>
    /// Fires every schedule with an occurrence due since its last fire (or since it was created). A node that
    /// was down fires a missed schedule once, not once per missed occurrence. Returns how many this node fired.
    /// </summary>
    public async Task<int> FireDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var fired = 0;
        foreach (var schedule in await store.ListSchedulesAsync(cancellationToken))
        {
            ScheduleTiming timing;
            try
            {
                timing = ScheduleTiming.Of(schedule);
            }
            catch (FormatException ex)
            {
                log.LogError("Schedule {Schedule} cannot fire: {Error}", schedule.Name, ex.Message);
                continue;
            }
            var since = schedule.LastFired is { } last && last > schedule.Created ? last : schedule.Created;
            if (timing.Next(since) is not { } due || due > now)
            {
                continue;
            }
            var occurrence = timing.Occurrence(now);
            if (!await store.TryClaimScheduleFireAsync(schedule.Name, occurrence, cancellationToken))
            {
                log.LogDebug("Schedule {Schedule} occurrence {Occurrence:o} already fired elsewhere", schedule.Name, occurrence);
                continue;
            }
            if (await SubmitUnlessRefusedAsync(schedule, occurrence, cancellationToken))
            {
                fired++;
            }
        }
        return fired;
    }

    /// <summary>Fires the occurrence due now of one schedule, unless a node already claimed it; true when this call submitted the task.</summary>
    public async Task<bool> FireAsync(string name, CancellationToken cancellationToken)
    {
        if (await store.GetScheduleAsync(name, cancellationToken) is not { } schedule)
        {
            return false;
        }
        var occurrence = ScheduleTiming.Of(schedule).Occurrence(time.GetUtcNow());
        if (!await store.TryClaimScheduleFireAsync(name, occurrence, cancellationToken))
        {
            log.LogDebug("Schedule {Schedule} occurrence {Occurrence:o} already fired elsewhere", name, occurrence);
            return false;
        }
        return await SubmitUnlessRefusedAsync(schedule, occurrence, cancellationToken);
    }

    /// <summary>
    /// Submits a claimed occurrence unless the owner's limits refuse it (queue full, token revoked or expired):
    /// a cron fire goes through the same gate as <c>POST /task</c>, and a refused one is skipped, not queued later.
    /// </summary>
    private async Task<bool> SubmitUnlessRefusedAsync(ScheduleRecord schedule, DateTimeOffset occurrence, CancellationToken cancellationToken)
    {
        if (await fireGate.RefusalAsync(schedule, cancellationToken) is { } refusal)
        {
            log.LogWarning("Schedule {Schedule} occurrence {Occurrence:o} skipped: {Reason}", schedule.Name, occurrence, refusal);
            return false;
        }
        await SubmitAsync(schedule, "cron", cancellationToken);
        return true;
    }

    /// <summary>The earliest next occurrence of any schedule after <paramref name="after"/>; null when there is none.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(DateTimeOffset after, CancellationToken cancellationToken)
    {
        DateTimeOffset? next = null;
        foreach (var schedule in await store.ListSchedulesAsync(cancellationToken))
        {
            try
            {
                if (ScheduleTiming.Of(schedule).Next(after) is { } n && (next is null || n < next))
                {
                    next = n;
                }
            }
            catch (FormatException)
            {
            }
        }
        return next;
    }

    /// <summary>Creates and enqueues one run of a schedule; <paramref name="trigger"/> is <c>cron</c> or <c>manual</c>.</summary>
    public async Task<TaskRecord> SubmitAsync(ScheduleRecord schedule, string trigger, CancellationToken cancellationToken)
    {
        var task = TaskRecord.New(schedule.TaskName, schedule.Queue, schedule.Arguments, schedule.Owner, time.GetUtcNow())
            with
        { ScheduleName = schedule.Name, Webhook = schedule.Webhook };
        await intake.AcceptAsync([task], $"schedule {schedule.Name} ({trigger})", LogLevel.Information, cancellationToken);
        metrics.ScheduleFired(trigger);
        return task;
    }
}
