using System.Text.RegularExpressions;

namespace RemoteTest;

/// <summary>Checks the configuration before anything starts; each problem is one line naming the setting.</summary>
public static partial class StartupValidation
{
    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex QueueName();

    /// <summary>True when <paramref name="name"/> can be a queue (lower-case letters, digits, '_' and '-').</summary>
    public static bool IsQueueName(string name) => QueueName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9._-]{0,64}$")]
    private static partial Regex QueuePrefix();

    /// <summary>True when <paramref name="prefix"/> can start RabbitMQ queue and exchange names.</summary>
    public static bool IsQueuePrefix(string prefix) => QueuePrefix().IsMatch(prefix);

    private static bool IsCron(string cron)
    {
        try
        {
            Engine.ScheduleTiming.Parse(cron, "UTC");
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Settings of engine v1 (Hangfire) that no longer exist: naming one stops start-up rather than be ignored.</summary>
    public static IEnumerable<string> Removed(IConfiguration configuration)
    {
        const string S = RemoteTestOptions.Section;
        if (!string.IsNullOrWhiteSpace(configuration[$"{S}:Storage:Redis"]))
        {
            yield return $"{S}:Storage:Redis: Redis queues were removed in engine v2; set {S}:Queue:RabbitMq instead (README, upgrading)";
        }
    }

    public static IEnumerable<string> Validate(RemoteTestOptions o)
    {
        const string S = RemoteTestOptions.Section;
        var roles = ServiceRoles.Parse(o.Roles, o.Worker.Queues);
        if (roles is null)
        {
            yield return $"{S}:Roles: '{o.Roles}' is not a role list; use all, api, worker or api,worker";
        }
        else if (o.Storage.Kind != StorageKind.Postgres && !(roles.Api && roles.Worker))
        {
            yield return $"{S}:Roles: '{o.Roles}' needs a shared backend ({S}:Storage:Kind=postgres); the {o.Storage.Kind.ToString().ToLowerInvariant()} storage lives inside one process";
        }
        if (o.Storage.Kind == StorageKind.Postgres && string.IsNullOrWhiteSpace(o.Storage.ConnectionString))
        {
            yield return $"{S}:Storage:ConnectionString: required when {S}:Storage:Kind is postgres";
        }
        if (string.IsNullOrWhiteSpace(o.DataDirectory))
        {
            yield return $"{S}:DataDirectory: must not be empty";
        }
        if (o.Worker.Queues.Length == 0)
        {
            yield return $"{S}:Worker:Queues: at least one queue is needed";
        }
        foreach (var q in o.Worker.Queues.Where(q => !IsQueueName(q)))
        {
            yield return $"{S}:Worker:Queues: '{q}' is not a queue name (lower-case letters, digits, '_' and '-', at most 64)";
        }
        if (o.Worker.Concurrency is < 1 or > 1000)
        {
            yield return $"{S}:Worker:Concurrency: {o.Worker.Concurrency} is outside 1-1000";
        }
        if (o.Worker.TaskTimeLimit <= TimeSpan.Zero)
        {
            yield return $"{S}:Worker:TaskTimeLimit: must be positive";
        }
        if (o.Storage.Kind == StorageKind.Postgres && string.IsNullOrWhiteSpace(o.Queue.RabbitMq))
        {
            yield return $"{S}:Queue:RabbitMq: required when {S}:Storage:Kind is postgres (the AMQP URI of the RabbitMQ broker, e.g. amqp://user:password@host:5672/vhost)";
        }
        else if (!string.IsNullOrWhiteSpace(o.Queue.RabbitMq) && !(Uri.TryCreate(o.Queue.RabbitMq, UriKind.Absolute, out var amqp) && amqp.Scheme is "amqp" or "amqps"))
        {
            // The URI may hold a password: it is not repeated in the message.
            yield return $"{S}:Queue:RabbitMq: not an amqp:// or amqps:// URI";
        }
        if (!string.IsNullOrWhiteSpace(o.Queue.RabbitMq) && o.Storage.Kind != StorageKind.Postgres)
        {
            yield return $"{S}:Queue:RabbitMq: needs {S}:Storage:Kind=postgres (RabbitMQ moves the tasks, PostgreSQL holds them)";
        }
        if (o.Queue.PublishTimeout <= TimeSpan.Zero || o.Queue.PublisherChannels is < 1 or > 256 || !StartupValidation.IsQueuePrefix(o.Queue.Prefix))
        {
            yield return $"{S}:Queue: PublishTimeout must be positive, PublisherChannels within 1-256, Prefix at most 64 of letters, digits, '.', '_' and '-'";
        }
        if (!IsCron(o.Retention.CleanupCron))
        {
            yield return $"{S}:Retention:CleanupCron: '{o.Retention.CleanupCron}' is not a cron expression of 5 or 6 fields";
        }
        if (o.Cluster.HeartbeatInterval <= TimeSpan.Zero || o.Cluster.WorkerTimeout < 2 * o.Cluster.HeartbeatInterval)
        {
            yield return $"{S}:Cluster:WorkerTimeout ({o.Cluster.WorkerTimeout}) must be at least twice {S}:Cluster:HeartbeatInterval ({o.Cluster.HeartbeatInterval}), which must be positive";
        }
        if (o.Cluster.MinThreads is < 0 or > 10000)
        {
            yield return $"{S}:Cluster:MinThreads: {o.Cluster.MinThreads} is outside 0-10000";
        }
        if (o.Worker.ShutdownGrace < TimeSpan.Zero)
        {
            yield return $"{S}:Worker:ShutdownGrace: must not be negative";
        }
        if (o.Limits.MaxRequestBytes < 1024)
        {
            yield return $"{S}:Limits:MaxRequestBytes: {o.Limits.MaxRequestBytes} is below 1024";
        }
        if (o.Limits.MaxChecksPerTask < 1)
        {
            yield return $"{S}:Limits:MaxChecksPerTask: must be at least 1";
        }
        if (!(o.Limits.MaxTimeoutSeconds > 0))
        {
            yield return $"{S}:Limits:MaxTimeoutSeconds: must be positive";
        }
        foreach (var ns in o.Dns.DefaultNameservers.Where(ns => Probes.DnsQuery.ParseNameServer(ns) is null))
        {
            yield return $"{S}:Dns:DefaultNameservers: '{ns}' is not an IP address or ip:port";
        }
        foreach (var (set, list) in o.Dns.ResolverSets)
        {
            foreach (var ns in (list ?? []).Where(ns => Probes.DnsQuery.ParseNameServer(ns) is null))
            {
                yield return $"{S}:Dns:ResolverSets:{set}: '{ns}' is not an IP address or ip:port";
            }
        }
        if (o.Dns.AuthoritativePort is < 1 or > 65535)
        {
            yield return $"{S}:Dns:AuthoritativePort: must be 1-65535";
        }
        if (o.Retention.Results <= TimeSpan.Zero)
        {
            yield return $"{S}:Retention:Results: must be positive";
        }
        foreach (var problem in o.PathTrace.Validate())
        {
            yield return problem;
        }
        foreach (var problem in o.PortTest.Validate())
        {
            yield return problem;
        }
        if (o.AppTest.MaxConcurrentChecks < 1 || !(o.AppTest.DeadlineTimeouts >= 1) || o.AppTest.MaxResponseBytes < 1024)
        {
            yield return $"{S}:AppTest: MaxConcurrentChecks must be at least 1, DeadlineTimeouts at least 1, MaxResponseBytes at least 1024";
        }
        var tlsProblem = TlsRootsProblem(o.Tls);
        if (tlsProblem is not null)
        {
            yield return tlsProblem;
        }
        if (o.Worker.RevocationPollInterval <= TimeSpan.Zero)
        {
            yield return $"{S}:Worker:RevocationPollInterval: must be positive";
        }
        foreach (var problem in Engine.OperationsValidation.Validate(o))
        {
            yield return problem;
        }
    }

    private static string? TlsRootsProblem(Probes.TlsOptions tls)
    {
        try
        {
            Probes.TlsTrust.Load(tls);
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }
    }
}
