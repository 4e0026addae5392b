namespace RemoteTest.Store;

/// <summary>
/// A named, recurring task as the task store keeps it. The store is the source of truth: the job engine's
/// recurring jobs are rebuilt from it at start, because the embedded engine forgets them on exit.
/// </summary>
/// <param name="Arguments">Bound arguments as JSON, secrets protected (they are needed at every run).</param>
/// <param name="TimeZone">IANA or Windows time zone id the cron is read in, e.g. "UTC" or "Europe/Berlin".</param>
/// <param name="Notify">When the webhook is called: null (every run), "change" or "cert_expiry".</param>
/// <param name="Thresholds">For "cert_expiry": the days-left thresholds, as a JSON array, e.g. [21,14,7].</param>
/// <param name="LastFired">The latest fire time claimed by a node; guards a schedule against firing twice.</param>
/// <param name="LastOutcome">What the previous run found, as JSON, kept for change and threshold detection.</param>
public sealed record ScheduleRecord(
    string Name,
    string TaskName,
    string Queue,
    string Arguments,
    string Cron,
    string TimeZone,
    string? Webhook,
    string? Notify,
    string? Thresholds,
    string? Owner,
    DateTimeOffset Created,
    DateTimeOffset? LastFired = null,
    string? LastOutcome = null);
