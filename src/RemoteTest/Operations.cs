using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Polly;
using RemoteTest.Api;
using RemoteTest.Engine;

namespace RemoteTest;

/// <summary>
/// Wiring of the operations features (history and revoke, schedules, webhooks, metrics, health, API
/// document, structured logs), kept out of Program.cs so that it stays a short list of parts.
/// </summary>
public static class Operations
{
    public static void AddOperations(this WebApplicationBuilder builder, RemoteTestOptions options, ServiceRoles roles)
    {
        if (options.Observability.LogFormat == "json")
        {
            // One JSON object per line with scopes: TaskId/TaskName/Queue from the runner, TraceId/SpanId from the request that queued the task.
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
            });
        }
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        var services = builder.Services;
        services.AddSingleton<RunningTasks>();
        services.AddSingleton<RemoteTestMetrics>();
        services.AddSingleton<TaskEvents>();
        services.AddSingleton<TaskCompletion>();
        services.AddSingleton<Schedules>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDeliveries>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDeliveries>());
        services.AddSingleton<WebhookConnector>();
        services.TryAddSingleton<IWebhookTargetGuard, PolicyWebhookTargets>();
        services.AddHostedService<OperationsStartup>();
        if (roles.Worker)
        {
            services.AddHostedService<RevocationWatcher>();
        }

        services.AddHttpClient(WebhookSender.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // Every webhook connection goes through the connector, where the target guard decides.
                ConnectCallback = sp.GetRequiredService<WebhookConnector>().ConnectAsync,
                AllowAutoRedirect = false,
                UseProxy = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                // No certificate downloads (AIA, CRL) from a webhook's TLS handshake: see TlsChainPolicy.
                SslOptions = new System.Net.Security.SslClientAuthenticationOptions { CertificateChainPolicy = Probes.TlsChainPolicy.NoDownloads() },
            })
            .AddResilienceHandler("webhook", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = Math.Max(0, o.MaxAttempts - 1),
                    Delay = o.FirstRetryDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    // Transient failures (connect errors, timeouts, 408, 429, 5xx) are retried; a refused target is not.
                    ShouldHandle = args => ValueTask.FromResult(
                        WebhookTargetRefusedException.Find(args.Outcome.Exception) is null
                        && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
                });
                pipeline.AddTimeout(o.AttemptTimeout);
            });
        services.AddHttpClient(WebhookSender.ClientName).AddHttpMessageHandler(() => new WebhookSender.AttemptCounter());

        if (options.Observability.Metrics)
        {
            // Off, nothing listens: the request and runtime instruments then cost nothing per request.
            services.AddOpenTelemetry().WithMetrics(m => m
                .AddMeter(RemoteTestMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        }
        services.AddRemoteTestHealthChecks();
        services.AddRemoteTestApiDocument();
    }

    public static void MapOperations(this WebApplication app, RemoteTestOptions options, ServiceRoles roles)
    {
        // Health and metrics on every node, whatever its roles: load balancers and Prometheus scrape workers too.
        app.MapHealthEndpoints();
        if (options.Observability.Metrics)
        {
            // Target-level series (hosts and ports of every tenant): admin when tokens exist, see MetricsPolicy.
            app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(Security.SecuritySetup.MetricsPolicy);
        }
        if (!roles.Api)
        {
            return;
        }
        app.MapHistoryEndpoints();
        app.MapDiffEndpoints();
        app.MapScheduleEndpoints();
        app.MapTokenEndpoints();
        app.MapRemoteTestApiDocument();
    }
}
