using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RemoteTest;
using RemoteTest.Api;
using RemoteTest.Engine;
using RemoteTest.Security;
using RemoteTest.Store;
using RemoteTest.Tasks;
using RemoteTest.Web;

if (TokenCommand.Matches(args))
{
    return TokenCommand.Run(args, Console.Out, Console.Error);
}

WebApplication app;
try
{
    if (args is ["migrate", ..])
    {
        return await MigrateCommand.RunAsync(args[1..], Console.Out);
    }
    app = Program.Build(args);
}
catch (StartupException ex)
{
    Console.Error.WriteLine($"remotetest: configuration error: {ex.Message}");
    return 2;
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
{
    // A bad --contentRoot, an unwritable DataDirectory, a malformed setting: one line, not a stack trace.
    var reason = ex.GetBaseException() is DirectoryNotFoundException missing ? $"directory not found: {missing.Message}" : ex.GetBaseException().Message;
    Console.Error.WriteLine($"remotetest: cannot start: {reason}");
    return 2;
}

try
{
    await app.StartAsync();
}
catch (OptionsValidationException ex)
{
    // A section's own checks at start (ValidateOnStart); StartupValidation normally says it before the build.
    Console.Error.WriteLine($"remotetest: configuration error: {string.Join("; ", ex.Failures)}");
    await app.DisposeAsync();
    return 2;
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or StartupException)
{
    // The port taken, a certificate file missing: the host has logged the details; the reason in one line.
    Console.Error.WriteLine($"remotetest: cannot start: {ex.Message}");
    await app.DisposeAsync();
    return 1;
}
await app.WaitForShutdownAsync();
await app.DisposeAsync();
return 0;

/// <summary>The composition root: reads configuration, wires the parts, maps the endpoints.</summary>
public partial class Program
{
    /// <summary>The listen address when none is configured: loopback only, so nothing is exposed by accident.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>The listen address of a worker-only node when none is configured.</summary>
    public const string WorkerOnlyUrl = "http://127.0.0.1:0";

    /// <summary>Builds the service; <paramref name="configure"/> lets tests add configuration and services.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(WithoutConfigurationWatch(args));
        configure?.Invoke(builder);
        var options = BindOptions(builder.Configuration);
        var roles = ServiceRoles.Parse(options.Roles, options.Worker.Queues)!;
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            // A worker-only node serves no API: a free loopback port, so several workers share a host.
            builder.WebHost.UseUrls(roles.Api ? DefaultUrl : WorkerOnlyUrl);
        }

        if (options.Storage.Kind == StorageKind.Postgres && options.Cluster.MinThreads > 0)
        {
            // See ClusterOptions.MinThreads (0 by default: the task path is async).
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers, options.Cluster.MinThreads), io);
        }

        var services = builder.Services;
        services.AddOptionSections();
        services.AddSingleton(roles);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(WorkerIdentity.From(options.Worker));

        var keyRingCertificate = builder.AddSecurity(options, roles, DefaultUrl);
        services.AddTaskStore(options);
        SecuritySetup.AddKeyRing(services, options, keyRingCertificate);
        services.AddEngine(options, roles);
        services.AddProbes();
        services.AddTasks();
        builder.AddOperations(options, roles);

        var app = builder.Build();
        // Resolve the data-directory lock now so the container owns it and releases it when the host is disposed.
        app.Services.GetService<DataDirectoryLock>();
        app.UseSecurity(options);
        if (roles.Api)
        {
            app.MapServiceEndpoints();
            app.MapTaskEndpoints();
            app.MapWebUi();
            app.MapWorkerEndpoints();
        }
        app.MapOperations(options, roles);
        return app;
    }

    /// <summary>The host setting that makes the JSON settings files reload when they change.</summary>
    internal const string ReloadOnChangeKey = "hostBuilder:reloadConfigOnChange";

    /// <summary>
    /// Settings are read once, at start, unless the operator asks for reloading (<c>--hostBuilder:reloadConfigOnChange=true</c>).
    /// Reloading watches the whole content root with inotify, and the default data directory (<c>./data</c>) lies
    /// inside it: every SQLite write woke the watcher thread, which read and stat'ed the event — about 20 wake-ups
    /// per task (bench/README.md). No setting of ours takes effect without a restart anyway (IOptions, not IOptionsMonitor).
    /// </summary>
    internal static string[] WithoutConfigurationWatch(string[] args)
    {
        var variable = ReloadOnChangeKey.Replace(":", "__", StringComparison.Ordinal);
        var chosen = args.Any(a => a.Contains(ReloadOnChangeKey, StringComparison.OrdinalIgnoreCase))
            || new[] { "DOTNET_", "ASPNETCORE_" }.Any(prefix => Environment.GetEnvironmentVariable(prefix + variable) is not null);
        return chosen ? args : [.. args, $"--{ReloadOnChangeKey}=false"];
    }

    private static RemoteTestOptions BindOptions(IConfiguration configuration)
    {
        var removed = StartupValidation.Removed(configuration).ToList();
        if (removed.Count > 0)
        {
            throw new StartupException(string.Join("; ", removed));
        }
        var options = new RemoteTestOptions();
        try
        {
            configuration.GetSection(RemoteTestOptions.Section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert.
            throw new StartupException(ex.InnerException is null ? ex.Message : $"{ex.Message} ({ex.InnerException.Message})");
        }
        WorkerOptions.DefaultQueues(options.Worker);
        var problems = StartupValidation.Validate(options).ToList();
        if (problems.Count > 0)
        {
            throw new StartupException(string.Join("; ", problems));
        }
        return options;
    }

}

/// <summary>A configuration problem that stops start-up: printed as one line, exit code 2.</summary>
public sealed class StartupException(string message) : Exception(message);
