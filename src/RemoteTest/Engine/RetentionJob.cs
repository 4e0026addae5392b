using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>Deletes finished tasks older than <see cref="RetentionOptions.Results"/>; run by <see cref="EngineTimers"/> on <see cref="RetentionOptions.CleanupCron"/>.</summary>
public sealed class RetentionJob(ITaskStore store, IOptions<RetentionOptions> retentionOptions, TimeProvider time, ILogger<RetentionJob> log)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - retentionOptions.Value.Results;
        var deleted = await store.DeleteFinishedBeforeAsync(cutoff, cancellationToken);
        if (deleted > 0)
        {
            log.LogInformation("Retention: deleted {Count} tasks finished before {Cutoff:o}", deleted, cutoff);
        }
    }
}
