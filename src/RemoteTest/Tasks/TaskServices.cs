using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RemoteTest.Tasks;

/// <summary>Registers the tasks and the probes they share.</summary>
public static class TaskServices
{
    /// <summary>The probes' shared parts; TryAdd so a test's replacement (e.g. a fixed resolver) stays.</summary>
    public static void AddProbes(this IServiceCollection services)
    {
        services.TryAddSingleton<RemoteTest.Probes.IHostResolver, RemoteTest.Probes.SystemHostResolver>();
        services.TryAddSingleton<RemoteTest.Probes.TcpConnector>();
        services.TryAddSingleton<RemoteTest.Probes.TlsTrust>();
        services.TryAddSingleton<RemoteTest.Probes.TraceSockets>();
        services.TryAddSingleton<RemoteTest.Probes.TargetConnector>();
        services.TryAddSingleton(_ => RemoteTest.Catalog.ApplicationCatalog.LoadEmbedded());
    }

    /// <summary>Registers every <see cref="IRemoteTask"/> in this assembly: a new task is a new class, nothing else.</summary>
    public static void AddTasks(this IServiceCollection services)
    {
        foreach (var type in typeof(IRemoteTask).Assembly.GetTypes()
                     .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IRemoteTask).IsAssignableFrom(t)))
        {
            services.AddSingleton(typeof(IRemoteTask), type);
        }
        services.TryAddSingleton<PathTrace>(); // porttest.run's trace_failed traces with it
        services.AddSingleton<TaskRegistry>();
    }
}
