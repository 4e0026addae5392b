namespace RemoteTest;

/// <summary>The <c>RemoteTest</c> configuration section; every tunable of the service lives below it.</summary>
public sealed class RemoteTestOptions
{
    public const string Section = "RemoteTest";

    /// <summary><c>all</c> (API + worker + embedded storage), <c>api</c>, <c>worker</c>, or a comma list.</summary>
    public string Roles { get; set; } = "all";

    /// <summary>Where the embedded task store, its lock file and the key ring live.</summary>
    public string DataDirectory { get; set; } = "./data";

    public StorageOptions Storage { get; set; } = new();

    /// <summary>The scaled-out queue (RabbitMQ), required with <c>Storage:Kind=postgres</c>.</summary>
    public QueueOptions Queue { get; set; } = new();
    public WorkerOptions Worker { get; set; } = new();
    public LimitsOptions Limits { get; set; } = new();
    public RetentionOptions Retention { get; set; } = new();
    public ClusterOptions Cluster { get; set; } = new();
    public Tasks.DnsCheckOptions Dns { get; set; } = new();

    /// <summary>Trust roots for private CAs, used by every TLS probe.</summary>
    public Probes.TlsOptions Tls { get; set; } = new();

    /// <summary>Tunables of <c>porttest.run</c>.</summary>
    public Tasks.PortTestOptions PortTest { get; set; } = new();

    /// <summary>Bounds and pacing of <c>path.trace</c>.</summary>
    public Tasks.PathTraceOptions PathTrace { get; set; } = new();

    /// <summary>Tunables of <c>apptest.run</c>.</summary>
    public Tasks.AppTestOptions AppTest { get; set; } = new();

    /// <summary>API tokens and anonymous access (Security/).</summary>
    public Security.AuthOptions Auth { get; set; } = new();

    /// <summary>The network-target policy: where probes may connect.</summary>
    public Security.TargetsOptions Targets { get; set; } = new();

    public Security.CorsOptions Cors { get; set; } = new();
    public Security.KeyRingOptions KeyRing { get; set; } = new();

    public WebhookOptions Webhooks { get; set; } = new();
    public ScheduleOptions Schedules { get; set; } = new();
    public ObservabilityOptions Observability { get; set; } = new();
}

/// <summary>Which backend holds the tasks (and so which queue moves them).</summary>
public enum StorageKind
{
    /// <summary>SQLite file in the data directory and an in-process queue; one process.</summary>
    Embedded,

    /// <summary>In-memory SQLite and an in-process queue: nothing survives the process; for tests.</summary>
    Memory,

    /// <summary>PostgreSQL for the tasks and RabbitMQ (<see cref="QueueOptions.RabbitMq"/>) for the queues; many nodes.</summary>
    Postgres,
}

public sealed class StorageOptions
{
    /// <summary><c>embedded</c> (SQLite file + in-process queue), <c>memory</c> (nothing kept; tests) or <c>postgres</c> (with RabbitMQ).</summary>
    public StorageKind Kind { get; set; } = StorageKind.Embedded;

    /// <summary>For <c>postgres</c>: the Npgsql connection string.</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>The RabbitMQ queue of a scaled-out deployment: one durable quorum queue per vantage point.</summary>
public sealed class QueueOptions : IValidatedOptions
{
    /// <summary>
    /// The broker's AMQP URI, e.g. <c>amqp://remotetest:secret@10.0.0.5:5672/remotetest</c> (the path is the
    /// virtual host). Required with <c>Storage:Kind=postgres</c>.
    /// </summary>
    public string? RabbitMq { get; set; }

    /// <summary>Prefix of RemoteTest's queue and exchange names on the broker, so several deployments can share a virtual host.</summary>
    public string Prefix { get; set; } = "remotetest.";

    /// <summary>
    /// How long a submit keeps retrying a publish while the broker is unreachable (restarting). After that the
    /// task stays PENDING in the store and the reconciler publishes it (<see cref="ClusterOptions.RequeuePendingAfter"/>).
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Publisher channels per process: each carries one publish (and its confirm) at a time.</summary>
    public int PublisherChannels { get; set; } = 8;

    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":Queue";
        if (!string.IsNullOrWhiteSpace(RabbitMq) && !(Uri.TryCreate(RabbitMq, UriKind.Absolute, out var amqp) && amqp.Scheme is "amqp" or "amqps"))
        {
            // The URI may hold a password: it is not repeated in the message.
            yield return $"{S}:RabbitMq: not an amqp:// or amqps:// URI";
        }
        if (PublishTimeout <= TimeSpan.Zero || PublisherChannels is < 1 or > 256 || !StartupValidation.IsQueuePrefix(Prefix))
        {
            yield return $"{S}: PublishTimeout must be positive, PublisherChannels within 1-256, Prefix at most 64 of letters, digits, '.', '_' and '-'";
        }
    }
}

public sealed class WorkerOptions : IValidatedOptions
{
    /// <summary>
    /// Queues this worker takes tasks from; a queue is a vantage point. Empty here because the configuration
    /// binder appends configured array items to an initial value (["default"] + ["fra"] would serve both);
    /// an empty list means ["default"] after binding.
    /// </summary>
    public string[] Queues { get; set; } = [];

    /// <summary>Free text naming where this worker stands, e.g. "Frankfurt".</summary>
    public string? Location { get; set; }

    /// <summary>Worker name; defaults to host name and process id.</summary>
    public string? Name { get; set; }

    /// <summary>Tasks run at once by this process (also the broker's prefetch: unacknowledged messages it holds).</summary>
    public int Concurrency { get; set; } = 50;

    /// <summary>
    /// At SIGTERM, how long running tasks may go on before they are cancelled and handed back to their
    /// queue for another worker; the host waits a little longer than this before it exits.
    /// </summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Hard limit on one task's run time, whatever its own timeouts say (Celery's time_limit).</summary>
    public TimeSpan TaskTimeLimit { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a worker asks the store whether one of its running tasks was revoked on another node.</summary>
    public TimeSpan RevocationPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a running task writes its progress to the store, at most; the first write comes this long after
    /// the task started, so a task that ends sooner writes none (it is shown only while STARTED).
    /// </summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>No configured queue means the default queue (see <see cref="Queues"/>).</summary>
    public static void DefaultQueues(WorkerOptions options)
    {
        if (options.Queues.Length == 0)
        {
            options.Queues = [Api.TaskSubmission.DefaultQueue];
        }
    }

    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":Worker";
        if (Queues.Length == 0)
        {
            yield return $"{S}:Queues: at least one queue is needed";
        }
        foreach (var q in Queues.Where(q => !StartupValidation.IsQueueName(q)))
        {
            yield return $"{S}:Queues: '{q}' is not a queue name (lower-case letters, digits, '_' and '-', at most 64)";
        }
        if (Concurrency is < 1 or > 1000)
        {
            yield return $"{S}:Concurrency: {Concurrency} is outside 1-1000";
        }
        if (TaskTimeLimit <= TimeSpan.Zero)
        {
            yield return $"{S}:TaskTimeLimit: must be positive";
        }
        if (ShutdownGrace < TimeSpan.Zero)
        {
            yield return $"{S}:ShutdownGrace: must not be negative";
        }
        if (RevocationPollInterval <= TimeSpan.Zero)
        {
            yield return $"{S}:RevocationPollInterval: must be positive";
        }
        if (ProgressInterval < TimeSpan.Zero)
        {
            yield return $"{S}:ProgressInterval: must not be negative";
        }
    }
}

/// <summary>How nodes of a scaled-out deployment see each other.</summary>
public sealed class ClusterOptions : IValidatedOptions
{
    /// <summary>How often a worker writes its heartbeat (and looks for tasks orphaned by dead workers).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A worker silent this long is dead: its queues stop counting as served and its running tasks are re-queued.</summary>
    public TimeSpan WorkerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Accept tasks for queues no live worker serves (they wait PENDING until one starts); otherwise such a request is a 400.</summary>
    public bool AllowQueuesWithoutWorkers { get; set; }

    /// <summary>
    /// The reconciler: a task PENDING this long on a queue some live worker serves, while that queue has no message
    /// waiting, is published again, at most once per this period: its message may never have been sent (the API
    /// node died between storing the task and publishing it, or the broker was down longer than
    /// <see cref="QueueOptions.PublishTimeout"/>). A duplicate message is harmless, the task is claimed once in the
    /// store. Zero turns the check off.
    /// </summary>
    public TimeSpan RequeuePendingAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Thread-pool threads started without delay on a node of a shared backend. Everything on the task path is
    /// async now, so the runtime's default suffices; kept for a deployment that measures otherwise (engine v1 needed
    /// 64: Hangfire's storage calls held a pool thread per round trip; bench/README.md). Zero leaves the runtime's default.
    /// </summary>
    public int MinThreads { get; set; }

    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":Cluster";
        if (HeartbeatInterval <= TimeSpan.Zero || WorkerTimeout < 2 * HeartbeatInterval)
        {
            yield return $"{S}:WorkerTimeout ({WorkerTimeout}) must be at least twice {S}:HeartbeatInterval ({HeartbeatInterval}), which must be positive";
        }
        if (MinThreads is < 0 or > 10000)
        {
            yield return $"{S}:MinThreads: {MinThreads} is outside 0-10000";
        }
    }
}

public sealed class LimitsOptions : IValidatedOptions
{
    /// <summary>Largest accepted request body.</summary>
    public int MaxRequestBytes { get; set; } = 1024 * 1024;

    /// <summary>Most checks (host × port, domains, host × application) in one task.</summary>
    public int MaxChecksPerTask { get; set; } = 5000;

    /// <summary>Largest per-check timeout a client may ask for, in seconds.</summary>
    public double MaxTimeoutSeconds { get; set; } = 60;

    /// <summary>Most hosts in one porttest or apptest task.</summary>
    public int MaxHostsPerTask { get; set; } = 500;

    /// <summary>Most ports per host in one porttest task.</summary>
    public int MaxPortsPerHost { get; set; } = 1000;

    /// <summary>Most domains in one dns.check_records task.</summary>
    public int MaxDomainsPerTask { get; set; } = 2000;

    /// <summary>Most applications per host in one apptest task.</summary>
    public int MaxApplicationsPerHost { get; set; } = 32;

    /// <summary>Tasks one token (or all anonymous callers together) may have PENDING or STARTED; past it: 429.</summary>
    public int MaxQueuedTasksPerToken { get; set; } = 1000;

    /// <summary>Tasks waiting in one queue; past it the API answers 503 with Retry-After.</summary>
    public int MaxQueueLength { get; set; } = 10000;

    /// <summary>The Retry-After of a 429 or 503 for a full queue.</summary>
    public TimeSpan QueueRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    public Security.RateLimitOptions RateLimit { get; set; } = new();

    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":Limits";
        if (MaxRequestBytes < 1024)
        {
            yield return $"{S}:MaxRequestBytes: {MaxRequestBytes} is below 1024";
        }
        if (MaxChecksPerTask < 1)
        {
            yield return $"{S}:MaxChecksPerTask: must be at least 1";
        }
        if (!(MaxTimeoutSeconds > 0))
        {
            yield return $"{S}:MaxTimeoutSeconds: must be positive";
        }
    }
}

public sealed class RetentionOptions : IValidatedOptions
{
    /// <summary>How long a finished task and its result are kept. Celery's result_expires default is 1 day, which
    /// drops a change window's results before the review a week later; pinned baselines are kept regardless.</summary>
    public TimeSpan Results { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Cron schedule (UTC, 5 fields, or 6 with seconds first) of the clean-up, run by a timer on every node.</summary>
    public string CleanupCron { get; set; } = "*/10 * * * *";

    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":Retention";
        if (!StartupValidation.IsCron(CleanupCron))
        {
            yield return $"{S}:CleanupCron: '{CleanupCron}' is not a cron expression of 5 or 6 fields";
        }
        if (Results <= TimeSpan.Zero)
        {
            yield return $"{S}:Results: must be positive";
        }
    }
}
