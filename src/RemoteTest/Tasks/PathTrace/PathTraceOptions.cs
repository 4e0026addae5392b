namespace RemoteTest.Tasks;

/// <summary>The <c>RemoteTest:PathTrace</c> section: bounds and pacing of <c>path.trace</c>.</summary>
public sealed class PathTraceOptions : IValidatedOptions
{
    /// <summary>The largest <c>max_hops</c> a task may ask for (IP's TTL is 8 bits; real paths are under 40).</summary>
    public int MaxHops { get; set; } = 64;

    /// <summary>The largest <c>count</c> (MTR rounds) a task may ask for.</summary>
    public int MaxRounds { get; set; } = 100;

    /// <summary>Host × port traces one task may hold.</summary>
    public int MaxTracesPerTask { get; set; } = 64;

    /// <summary>Probes one task may send at most (traces × max_hops × count): a bound on the packets a task makes.</summary>
    public int MaxProbesPerTask { get; set; } = 20_000;

    /// <summary>Between two sends of a round: an answer from the target in that time stops higher TTLs being sent.</summary>
    public TimeSpan ProbeSpacing { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>From one MTR round's start to the next one's (mtr's default is 1 s).</summary>
    public TimeSpan RoundInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one hop's reverse-name lookup may take; a slow PTR shows as no name, not a slow trace.</summary>
    public TimeSpan NameTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Problems with these settings, one line each naming the setting.</summary>
    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":PathTrace";
        if (MaxHops is < 1 or > 255)
        {
            yield return $"{S}:MaxHops: {MaxHops} is outside 1-255";
        }
        if (MaxRounds is < 1 or > 1000)
        {
            yield return $"{S}:MaxRounds: {MaxRounds} is outside 1-1000";
        }
        if (MaxHops * MaxRounds > 65_535)
        {
            yield return $"{S}: MaxHops × MaxRounds must stay below 65536 (probe numbers are 16 bits)";
        }
        if (MaxTracesPerTask < 1 || MaxProbesPerTask < 1)
        {
            yield return $"{S}:MaxTracesPerTask and MaxProbesPerTask must be positive";
        }
        if (ProbeSpacing < TimeSpan.Zero || RoundInterval < TimeSpan.Zero || NameTimeout <= TimeSpan.Zero)
        {
            yield return $"{S}: ProbeSpacing and RoundInterval must not be negative, NameTimeout must be positive";
        }
    }
}
