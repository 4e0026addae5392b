using Microsoft.Extensions.Options;

namespace RemoteTest.Engine;

/// <summary>
/// Runs after <see cref="EngineStartup"/> has created the store's schema: creates the metrics and warns about
/// unsigned webhooks. (Schedules need nothing at start: <see cref="EngineTimers"/> reads them from the store.)
/// </summary>
public sealed class OperationsStartup(RemoteTestMetrics metrics, IOptions<RemoteTestOptions> options, ILogger<OperationsStartup> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The metrics object registers its instruments when created: create it now, so /metrics shows them before the first task.
        _ = metrics;
        if (string.IsNullOrEmpty(options.Value.Webhooks.Secret))
        {
            log.LogWarning("{Setting} is not set: webhook deliveries are sent without the X-RemoteTest-Signature header",
                $"{RemoteTestOptions.Section}:Webhooks:Secret");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Configuration checks of the operations settings, run with the others before start.</summary>
public static class OperationsValidation
{
    public static IEnumerable<string> Validate(RemoteTestOptions o)
    {
        const string S = RemoteTestOptions.Section;
        if (o.Webhooks.MaxAttempts is < 1 or > 20)
        {
            yield return $"{S}:Webhooks:MaxAttempts: {o.Webhooks.MaxAttempts} is outside 1-20";
        }
        if (o.Webhooks.FirstRetryDelay < TimeSpan.Zero || o.Webhooks.AttemptTimeout <= TimeSpan.Zero)
        {
            yield return $"{S}:Webhooks: FirstRetryDelay must not be negative and AttemptTimeout must be positive";
        }
        if (o.Schedules.DefaultCertThresholds?.Any(t => t is < 0 or > 3650) == true)
        {
            yield return $"{S}:Schedules:DefaultCertThresholds: days must be within 0-3650";
        }
        if (o.Schedules.PollInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"{S}:Schedules:PollInterval: must be at least 1 second";
        }
        if (o.Observability.LogFormat is not ("text" or "json"))
        {
            yield return $"{S}:Observability:LogFormat: '{o.Observability.LogFormat}' is not text or json";
        }
    }
}
