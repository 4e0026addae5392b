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

    /// <summary>True when <paramref name="cron"/> is a cron expression of 5 or 6 fields.</summary>
    public static bool IsCron(string cron)
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
        if (o.Storage.Kind == StorageKind.Postgres && string.IsNullOrWhiteSpace(o.Queue.RabbitMq))
        {
            yield return $"{S}:Queue:RabbitMq: required when {S}:Storage:Kind is postgres (the AMQP URI of the RabbitMQ broker, e.g. amqp://user:password@host:5672/vhost)";
        }
        if (!string.IsNullOrWhiteSpace(o.Queue.RabbitMq) && o.Storage.Kind != StorageKind.Postgres)
        {
            yield return $"{S}:Queue:RabbitMq: needs {S}:Storage:Kind=postgres (RabbitMQ moves the tasks, PostgreSQL holds them)";
        }
        // Each section's own checks, kept beside its options class (and run again by the host at start).
        IValidatedOptions[] sections =
        [
            o.Worker, o.Queue, o.Retention, o.Cluster, o.Limits, o.Dns, o.PathTrace, o.PortTest, o.AppTest, o.Tls,
            o.Webhooks, o.Schedules, o.Observability,
        ];
        foreach (var problem in sections.SelectMany(s => s.Validate()))
        {
            yield return problem;
        }
    }
}
