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
    public DnsCheckOptions Dns { get; set; } = new();

    /// <summary>Trust roots for private CAs, used by every TLS probe.</summary>
    public Probes.TlsOptions Tls { get; set; } = new();

    /// <summary>Tunables of <c>porttest.run</c>.</summary>
    public Tasks.PortTestOptions PortTest { get; set; } = new();

    /// <summary>Bounds and pacing of <c>path.trace</c>.</summary>
    public Tasks.PathTraceOptions PathTrace { get; set; } = new();

    /// <summary>Tunables of <c>apptest.run</c>.</summary>
    public AppTestOptions AppTest { get; set; } = new();

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
    public StorageKind Kind { get; set; } = StorageKind.Embedded;

    /// <summary>For <c>postgres</c>: the Npgsql connection string.</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>The RabbitMQ queue of a scaled-out deployment: one durable quorum queue per vantage point.</summary>
public sealed class QueueOptions
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
}

public sealed class WorkerOptions
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
}

/// <summary>How nodes of a scaled-out deployment see each other.</summary>
public sealed class ClusterOptions
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
}

public sealed class LimitsOptions
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
}

public sealed class RetentionOptions
{
    /// <summary>How long a finished task and its result are kept (Celery's result_expires default: 1 day).</summary>
    public TimeSpan Results { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Cron schedule (UTC, 5 fields, or 6 with seconds first) of the clean-up, run by a timer on every node.</summary>
    public string CleanupCron { get; set; } = "*/10 * * * *";
}

/// <summary>Tunables of <c>dns.check_records</c>.</summary>
public sealed class DnsCheckOptions
{
    /// <summary>Queries of one task in flight at once; a task of 1,000 names still takes about one timeout.</summary>
    public int MaxConcurrentQueries { get; set; } = 256;

    /// <summary>Most entries in the <c>nameservers</c> kwarg.</summary>
    public int MaxNameservers { get; set; } = 10;

    /// <summary>Most states per domain in <c>dns_data</c> (each live answer is compared with every state).</summary>
    public int MaxStatesPerDomain { get; set; } = 256;

    /// <summary>Most values per state in <c>dns_data</c>.</summary>
    public int MaxValuesPerState { get; set; } = 256;

    /// <summary>Longest state name in <c>dns_data</c> (numeric names are parsed to sort them).</summary>
    public int MaxStateNameLength { get; set; } = 256;

    /// <summary>Resolvers asked when a task names none (<c>ip</c> or <c>ip:port</c>); empty means the system's.</summary>
    public string[] DefaultNameservers { get; set; } = [];

    /// <summary>
    /// Named resolver sets a task may give as <c>nameservers: "NAME"</c> (e.g. <c>internal</c> = an operator's
    /// resolvers). A configured set replaces a built-in one of the same name; see <see cref="BuiltInResolverSets"/>.
    /// </summary>
    public Dictionary<string, string[]> ResolverSets { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The sets the product ships: <c>public</c> = the large public resolvers (Cloudflare, Google, Quad9,
    /// OpenDNS), each operator's primary and secondary address — "has my change reached the world?".
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> BuiltInResolverSets = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["public"] = ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9", "149.112.112.112", "208.67.222.222", "208.67.220.220"],
    };

    /// <summary>The set named <paramref name="name"/>: configured first, else built in; null when none.</summary>
    public string[]? ResolverSet(string name) =>
        ResolverSets.TryGetValue(name, out var configured) ? configured : BuiltInResolverSets.GetValueOrDefault(name);

    /// <summary>
    /// Port the authoritative servers of a zone are asked on (<c>authoritative: true</c>). 53 in the world; tests
    /// serve several authoritative servers on 127.0.0.x at one free port.
    /// </summary>
    public int AuthoritativePort { get; set; } = 53;

    /// <summary>Most authoritative server addresses asked per domain (every address of every NS of its zone).</summary>
    public int MaxAuthoritativeServers { get; set; } = 16;
}

/// <summary>Tunables of <c>apptest.run</c>.</summary>
public sealed class AppTestOptions
{
    /// <summary>Probes of one task in flight at once (each host × application × transport is one).</summary>
    public int MaxConcurrentChecks { get; set; } = 256;

    /// <summary>
    /// The task's deadline in multiples of its <c>timeout</c>: the longest check is four sequential steps (connect,
    /// authenticate, login, logout), each bounded by the timeout, and everything runs at once.
    /// </summary>
    public double DeadlineTimeouts { get; set; } = 4;

    /// <summary>Largest response body read from one HTTP request; the rest is counted, not kept.</summary>
    public long MaxResponseBytes { get; set; } = 1024 * 1024;
}
