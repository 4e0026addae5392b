using Microsoft.Extensions.Options;

namespace RemoteTest;

/// <summary>An options section that checks its own values: each problem one line naming the setting.</summary>
public interface IValidatedOptions
{
    IEnumerable<string> Validate();
}

/// <summary>A section's own checks run by the host at start (<c>ValidateOnStart</c>), the same lines
/// <see cref="StartupValidation"/> prints before anything is built.</summary>
public sealed class ValidatedOptions<T> : IValidateOptions<T> where T : class, IValidatedOptions
{
    public ValidateOptionsResult Validate(string? name, T options) =>
        options.Validate().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}

/// <summary>
/// Every section of <c>RemoteTest</c> bound on its own (<c>AddOptions&lt;T&gt;().BindConfiguration</c>), so a component
/// takes the section it needs (<c>IOptions&lt;WorkerOptions&gt;</c>), never the whole tree. The root
/// <see cref="RemoteTestOptions"/> is bound once, by <c>Program</c>, for start-up decisions (roles, storage) and the
/// cross-section checks; it is not in the container.
/// </summary>
public static class OptionsSections
{
    public static IServiceCollection AddOptionSections(this IServiceCollection services)
    {
        services.AddSection<StorageOptions>("Storage");
        services.AddSection<QueueOptions>("Queue");
        services.AddSection<WorkerOptions>("Worker").PostConfigure(WorkerOptions.DefaultQueues);
        services.AddSection<LimitsOptions>("Limits");
        services.AddSection<RetentionOptions>("Retention");
        services.AddSection<ClusterOptions>("Cluster");
        services.AddSection<Tasks.DnsCheckOptions>("Dns");
        services.AddSection<Probes.TlsOptions>("Tls");
        services.AddSection<Tasks.PortTestOptions>("PortTest");
        services.AddSection<Tasks.PathTraceOptions>("PathTrace");
        services.AddSection<Tasks.AppTestOptions>("AppTest");
        services.AddSection<Security.AuthOptions>("Auth");
        services.AddSection<Security.TargetsOptions>("Targets");
        services.AddSection<Security.CorsOptions>("Cors");
        services.AddSection<Security.KeyRingOptions>("KeyRing");
        services.AddSection<WebhookOptions>("Webhooks");
        services.AddSection<ScheduleOptions>("Schedules");
        services.AddSection<ObservabilityOptions>("Observability");
        return services;
    }

    /// <summary>Binds <c>RemoteTest:{key}</c> to <typeparamref name="T"/>; a section with its own checks is validated at start.</summary>
    public static OptionsBuilder<T> AddSection<T>(this IServiceCollection services, string key) where T : class
    {
        var builder = services.AddOptions<T>().BindConfiguration($"{RemoteTestOptions.Section}:{key}");
        if (typeof(IValidatedOptions).IsAssignableFrom(typeof(T)))
        {
            services.AddSingleton(typeof(IValidateOptions<T>), typeof(ValidatedOptions<>).MakeGenericType(typeof(T)));
            builder.ValidateOnStart();
        }
        return builder;
    }
}
