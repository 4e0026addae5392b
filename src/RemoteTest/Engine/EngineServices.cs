using RemoteTest.Api;
using RemoteTest.Tasks;

namespace RemoteTest.Engine;

/// <summary>Registers the engine: the queue (in-process or RabbitMQ), the runner, the workers of a worker node and the timers.</summary>
public static class EngineServices
{
    public static void AddEngine(this IServiceCollection services, RemoteTestOptions options, ServiceRoles roles)
    {
        services.AddSingleton<TaskRunner>();
        services.AddSingleton<RetentionJob>();
        services.AddSingleton<LiveWorkers>();
        services.AddHostedService<EngineStartup>();
        if (options.Storage.Kind == StorageKind.Postgres)
        {
            RabbitMqQueue.Add(services, roles);
        }
        else
        {
            services.AddSingleton<InProcessQueue>();
            services.AddSingleton<ITaskQueue>(sp => sp.GetRequiredService<InProcessQueue>());
        }
        if (roles.Worker)
        {
            services.AddHostedService<PathTraceStartupCheck>(); // says whether path.trace has CAP_NET_RAW here
            // Before the queue's worker, so it stops after it (hosted services stop in reverse order): the worker
            // stays visible in the registry while its running tasks finish within the grace period.
            services.AddHostedService<WorkerHeartbeat>();
            if (options.Storage.Kind == StorageKind.Postgres)
            {
                services.AddHostedService<RabbitMqWorker>();
            }
            else
            {
                services.AddHostedService<InProcessWorker>();
            }
            services.Configure<HostOptions>(o => o.ShutdownTimeout = options.Worker.ShutdownGrace + TimeSpan.FromSeconds(10));
        }
        services.AddHostedService<EngineTimers>();
    }
}
