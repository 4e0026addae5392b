using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RemoteTest.Engine;
using RemoteTest.Store;

namespace RemoteTest.Api;

/// <summary>
/// <c>/healthz</c>: the process answers (liveness). <c>/readyz</c>: the task store answers and, on a node
/// with the worker role, it takes tasks from its queues (readiness). 200 when healthy, 503 otherwise,
/// with one line per check in the body.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddRemoteTestHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage", tags: [ReadyTag])
            .AddCheck<WorkerHealthCheck>("worker", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithTags("Operations").WithDisplayName("Liveness")
            .AllowAnonymous(); // load balancers and systemd probe without a token; the answer names no target

        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .WithTags("Operations").WithDisplayName("Readiness")
            .AllowAnonymous();
        return app;
    }

    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        http.Response.Headers.CacheControl = "no-store";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString().ToLowerInvariant(),
                description = e.Value.Description,
                duration_ms = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
            }),
        }));
    }

    /// <summary>The task store answers a read.</summary>
    private sealed class StorageHealthCheck(ITaskStore store) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
        {
            try
            {
                await store.ListAsync(new TaskQuery(Limit: 1), cancellationToken);
                return HealthCheckResult.Healthy("task store reachable");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy($"task store unreachable: {ex.Message}");
            }
        }
    }

    /// <summary>On a worker: its queue consumer runs (embedded: the in-process worker; scaled out: the broker connection and consumers).</summary>
    private sealed class WorkerHealthCheck(ServiceRoles roles, ITaskQueue queue, WorkerIdentity identity) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
        {
            if (!roles.Worker)
            {
                return Task.FromResult(HealthCheckResult.Healthy("no worker role on this node"));
            }
            var (consuming, description) = queue.WorkerState;
            return Task.FromResult(consuming
                ? HealthCheckResult.Healthy($"worker {identity.Name} {description} (queues {string.Join(", ", roles.Queues)})")
                : HealthCheckResult.Unhealthy($"worker {identity.Name}: {description}"));
        }
    }
}
