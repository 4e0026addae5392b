namespace RemoteTest.Tasks;

/// <summary>The <c>RemoteTest:PortTest</c> section.</summary>
public sealed class PortTestOptions : IValidatedOptions
{
    /// <summary>
    /// Connections one task holds open at once. All of a task's checks share one deadline; with more checks than
    /// this, the rest wait their turn (so 1,000 checks at the default take about one timeout).
    /// </summary>
    public int MaxConcurrentChecks { get; set; } = 1000;

    /// <summary>With <c>all_addresses</c>, the most addresses of one name that are checked (the first ones the resolver gives).</summary>
    public int MaxAddressesPerHost { get; set; } = 32;

    /// <summary>Problems with these settings, one line each naming the setting.</summary>
    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":PortTest";
        if (MaxConcurrentChecks is < 1 or > 100_000)
        {
            yield return $"{S}:MaxConcurrentChecks: {MaxConcurrentChecks} is outside 1-100000";
        }
        if (MaxAddressesPerHost is < 1 or > 1024)
        {
            yield return $"{S}:MaxAddressesPerHost: {MaxAddressesPerHost} is outside 1-1024";
        }
    }
}
