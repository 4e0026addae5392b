namespace RemoteTest;

/// <summary>Webhook delivery: signing, retries and back-off.</summary>
public sealed class WebhookOptions : IValidatedOptions
{
    /// <summary>HMAC-SHA256 key for <c>X-RemoteTest-Signature</c>; without one, deliveries go unsigned (and a warning is logged at start).</summary>
    public string? Secret { get; set; }

    /// <summary>Attempts per delivery, the first included.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Wait before the first retry; doubles with each further one (with jitter).</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Time limit of one attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest accepted webhook URL.</summary>
    public int MaxUrlLength { get; set; } = 2048;

    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":Webhooks";
        if (MaxAttempts is < 1 or > 20)
        {
            yield return $"{S}:MaxAttempts: {MaxAttempts} is outside 1-20";
        }
        if (FirstRetryDelay < TimeSpan.Zero || AttemptTimeout <= TimeSpan.Zero)
        {
            yield return $"{S}: FirstRetryDelay must not be negative and AttemptTimeout must be positive";
        }
    }
}

/// <summary>Recurring tasks.</summary>
public sealed class ScheduleOptions : IValidatedOptions
{
    /// <summary>
    /// Certificate days-left thresholds for <c>notify: "cert_expiry"</c> when a schedule names none; null means
    /// 21, 14, 7 (not an array initialiser: the configuration binder appends to arrays instead of replacing them).
    /// </summary>
    public int[]? DefaultCertThresholds { get; set; }

    /// <summary>The thresholds in force.</summary>
    public IReadOnlyList<int> CertThresholds => DefaultCertThresholds is { Length: > 0 } t ? t : [21, 14, 7];

    /// <summary>Most schedules kept.</summary>
    public int MaxSchedules { get; set; } = 1000;

    /// <summary>Most schedules one token (or all anonymous callers together) may keep; past it: 429.</summary>
    public int MaxSchedulesPerOwner { get; set; } = 100;

    /// <summary>
    /// How often every node looks in the store for due schedules (one query). A cron with seconds fires at most
    /// this late; a schedule saved on this node is looked at at once.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Runs shown by <c>GET /schedules/{name}</c>.</summary>
    public int RecentRuns { get; set; } = 10;

    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":Schedules";
        if (DefaultCertThresholds?.Any(t => t is < 0 or > 3650) == true)
        {
            yield return $"{S}:DefaultCertThresholds: days must be within 0-3650";
        }
        if (PollInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"{S}:PollInterval: must be at least 1 second";
        }
    }
}

/// <summary>Logs, metrics and the operator pages.</summary>
public sealed class ObservabilityOptions : IValidatedOptions
{
    /// <summary><c>text</c> (default console lines) or <c>json</c> (one JSON object per line, with scopes).</summary>
    public string LogFormat { get; set; } = "text";

    /// <summary>Serve <c>/metrics</c> in the Prometheus text format.</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>How long a certificate seen by a probe stays in <c>remotetest_ssl_earliest_cert_expiry</c> without being seen again.</summary>
    public TimeSpan CertificateMetricTtl { get; set; } = TimeSpan.FromDays(2);

    /// <summary>Most endpoints tracked by the certificate metric (the oldest seen are dropped first).</summary>
    public int MaxCertificateSeries { get; set; } = 10_000;

    public IEnumerable<string> Validate()
    {
        if (LogFormat is not ("text" or "json"))
        {
            yield return $"{RemoteTestOptions.Section}:Observability:LogFormat: '{LogFormat}' is not text or json";
        }
    }
}
