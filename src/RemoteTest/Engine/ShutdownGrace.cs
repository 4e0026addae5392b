namespace RemoteTest.Engine;

/// <summary>
/// How a worker (embedded or RabbitMQ) stops: running tasks get <see cref="WorkerOptions.ShutdownGrace"/> to finish;
/// past it they are interrupted, which hands them back (PENDING) for another worker or the next start.
/// </summary>
internal static class ShutdownGrace
{
    /// <summary>How long interrupted tasks get to record their hand-back before the process goes on stopping.</summary>
    private static readonly TimeSpan HandBackWait = TimeSpan.FromSeconds(5);

    /// <param name="running">The tasks running now; asked again after the interrupt.</param>
    public static async Task DrainAsync(Func<Task[]> running, TimeSpan grace, CancellationTokenSource interrupt, ILogger log, CancellationToken cancellationToken)
    {
        var tasks = running();
        if (tasks.Length == 0)
        {
            return;
        }
        log.LogInformation("Waiting up to {Grace} for {Count} running tasks", grace, tasks.Length);
        try
        {
            await Task.WhenAll(tasks).WaitAsync(grace, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            await interrupt.CancelAsync();
            await Task.WhenAll(running()).WaitAsync(HandBackWait, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
