using Microsoft.Extensions.Options;

namespace RemoteTest.Engine;

/// <summary>
/// Runs after <see cref="EngineStartup"/> has created the store's schema: creates the metrics and warns about
/// unsigned webhooks. (Schedules need nothing at start: <see cref="EngineTimers"/> reads them from the store.)
/// </summary>
public sealed class OperationsStartup(RemoteTestMetrics metrics, IOptions<WebhookOptions> webhooksOptions, ILogger<OperationsStartup> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The metrics object registers its instruments when created: create it now, so /metrics shows them before the first task.
        _ = metrics;
        if (string.IsNullOrEmpty(webhooksOptions.Value.Secret))
        {
            log.LogWarning("{Setting} is not set: webhook deliveries are sent without the X-RemoteTest-Signature header",
                $"{RemoteTestOptions.Section}:Webhooks:Secret");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
