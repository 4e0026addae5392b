using System.Runtime.CompilerServices;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Redis.StackExchange;
using Npgsql;
using RemoteTest.Store;
using StackExchange.Redis;

namespace RemoteTest.Engine;

/// <summary>Picks Hangfire's job storage from <c>RemoteTest:Storage</c>: in memory, PostgreSQL, or Redis.</summary>
public static class EngineStorage
{
    /// <remarks>
    /// The embedded default never touches a PostgreSQL or Redis type, so their assemblies stay unloaded
    /// (about 1 MB of resident memory; the idle-memory goal of bench/README.md).
    /// </remarks>
    public static JobStorage Create(RemoteTestOptions options, IServiceProvider services) =>
        options.Storage.Kind == StorageKind.Postgres ? CreateShared(options, services) : CreateInMemory();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static JobStorage CreateShared(RemoteTestOptions options, IServiceProvider services) =>
        CreateShared(options, services.GetService<NpgsqlDataSource>(), services.GetRequiredService<ILoggerFactory>().CreateLogger("RemoteTest.Engine"));

    // A finished Hangfire job is a copy of the task store's row, which holds the result for the retention
    // period. Hangfire.InMemory keeps it in memory for 3 hours by default: at a sustained 100 tasks/s that
    // is a million jobs. Half a minute still lets the dashboard show what just ran.
    private static InMemoryStorage CreateInMemory() => new(new InMemoryStorageOptions { MaxExpirationTime = FinishedJobsKept });

    /// <summary>How jobs are serialized: the same in the service and in <c>migrate</c>, which enqueues jobs too.</summary>
    public static IGlobalConfiguration UseRemoteTestSerialization(this IGlobalConfiguration configuration) =>
        configuration.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings();

    /// <summary>How long Hangfire.InMemory keeps a finished job (and any other expiring entry).</summary>
    public static readonly TimeSpan FinishedJobsKept = TimeSpan.FromSeconds(30);

    /// <summary>The job storage of a shared backend (<c>Storage:Kind=postgres</c>): Hangfire.Redis when <c>Storage:Redis</c> is set, else Hangfire.PostgreSql.</summary>
    /// <param name="dataSource">The task store's data source (PostgreSQL only): Hangfire's tables go in the same database.</param>
    public static JobStorage CreateShared(RemoteTestOptions options, NpgsqlDataSource? dataSource, ILogger log)
    {
        if (!string.IsNullOrWhiteSpace(options.Storage.Redis))
        {
            return CreateRedis(options);
        }

        // Hangfire's schema next to ours, prepared under the same advisory lock (several nodes may start at once).
        PostgresSchema.EnsureAsync(dataSource!, includeHangfire: true, log, CancellationToken.None).GetAwaiter().GetResult();
        var storageOptions = PostgresOptions(options);
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(options.Storage.ConnectionString!, storageOptions), storageOptions);
    }

    /// <summary>Hangfire.PostgreSql's settings; see the comments for what was measured.</summary>
    public static PostgreSqlStorageOptions PostgresOptions(RemoteTestOptions options) => new()
    {
        SchemaName = PostgresSchema.HangfireName,
        PrepareSchemaIfNecessary = false,   // done by PostgresSchema under an advisory lock
        // Long polling (LISTEN/NOTIFY) is off unless asked for: the project's first measurements with 1.21.1
        // left jobs stuck with it, a later one saw no gain over the short poll (README, scale-out section),
        // and a poll does not depend on one listener connection surviving database restarts.
        EnableLongPolling = options.Storage.EnableLongPolling,
        QueuePollInterval = options.Storage.QueuePollInterval,
        // The running worker renews its claim on the job, so a long task is never handed to a second
        // worker while the first is alive, yet a dead worker's job becomes visible again.
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = options.Storage.InvisibilityTimeout,
    };

    private static RedisStorage CreateRedis(RemoteTestOptions options)
    {
        var config = ConfigurationOptions.Parse(options.Storage.Redis!);
        // Hangfire.Redis.StackExchange fetches through pub/sub, which StackExchange.Redis 3.x only offers
        // on RESP2 connections; setting it here spares every deployment the "protocol=resp2" pitfall.
        config.Protocol = RedisProtocol.Resp2;
        // Start (and keep retrying) while Redis is down or restarting instead of failing the process.
        config.AbortOnConnectFail = false;
        var multiplexer = ConnectionMultiplexer.Connect(config);
        return new RedisStorage(multiplexer, new RedisStorageOptions
        {
            Prefix = options.Storage.RedisPrefix,
            // The default (3 min) left a job waiting that long when its notification was missed.
            FetchTimeout = options.Storage.RedisFetchTimeout,
            // Redis re-queues a fetched job after this even while its worker lives: it must exceed the
            // longest task. A dead worker's task is re-queued by the worker registry much sooner.
            InvisibilityTimeout = options.Worker.TaskTimeLimit + options.Worker.ShutdownGrace + TimeSpan.FromMinutes(5),
        });
    }
}
