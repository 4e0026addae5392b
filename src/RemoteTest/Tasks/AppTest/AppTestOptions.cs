namespace RemoteTest.Tasks;

/// <summary>Tunables of <c>apptest.run</c>.</summary>
public sealed class AppTestOptions : IValidatedOptions
{
    /// <summary>Probes of one task in flight at once (each host × application × transport is one).</summary>
    public int MaxConcurrentChecks { get; set; } = 256;

    /// <summary>
    /// The task's deadline in multiples of its <c>timeout</c>: the longest check is four sequential steps (connect,
    /// authenticate, login, logout), each bounded by the timeout, and everything runs at once.
    /// </summary>
    public double DeadlineTimeouts { get; set; } = 4;

    /// <summary>Largest response body read from one HTTP request; the rest is counted, not kept.</summary>
    public long MaxResponseBytes { get; set; } = 1024 * 1024;

    public IEnumerable<string> Validate()
    {
        if (MaxConcurrentChecks < 1 || !(DeadlineTimeouts >= 1) || MaxResponseBytes < 1024)
        {
            yield return $"{RemoteTestOptions.Section}:AppTest: MaxConcurrentChecks must be at least 1, DeadlineTimeouts at least 1, MaxResponseBytes at least 1024";
        }
    }
}
