namespace RemoteTest.Tasks;

/// <summary>Tunables of <c>dns.check_records</c>.</summary>
public sealed class DnsCheckOptions : IValidatedOptions
{
    /// <summary>Queries of one task in flight at once; a task of 1,000 names still takes about one timeout.</summary>
    public int MaxConcurrentQueries { get; set; } = 256;

    /// <summary>Most entries in the <c>nameservers</c> kwarg.</summary>
    public int MaxNameservers { get; set; } = 10;

    /// <summary>Most states per domain in <c>dns_data</c> (each live answer is compared with every state).</summary>
    public int MaxStatesPerDomain { get; set; } = 256;

    /// <summary>Most values per state in <c>dns_data</c>.</summary>
    public int MaxValuesPerState { get; set; } = 256;

    /// <summary>Longest state name in <c>dns_data</c> (numeric names are parsed to sort them).</summary>
    public int MaxStateNameLength { get; set; } = 256;

    /// <summary>Resolvers asked when a task names none (<c>ip</c> or <c>ip:port</c>); empty means the system's.</summary>
    public string[] DefaultNameservers { get; set; } = [];

    /// <summary>
    /// Named resolver sets a task may give as <c>nameservers: "NAME"</c> (e.g. <c>internal</c> = an operator's
    /// resolvers). A configured set replaces a built-in one of the same name; see <see cref="BuiltInResolverSets"/>.
    /// </summary>
    public Dictionary<string, string[]> ResolverSets { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The sets the product ships: <c>public</c> = the large public resolvers (Cloudflare, Google, Quad9,
    /// OpenDNS), each operator's primary and secondary address — "has my change reached the world?".
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> BuiltInResolverSets = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["public"] = ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9", "149.112.112.112", "208.67.222.222", "208.67.220.220"],
    };

    /// <summary>The set named <paramref name="name"/>: configured first, else built in; null when none.</summary>
    public string[]? ResolverSet(string name) =>
        ResolverSets.TryGetValue(name, out var configured) ? configured : BuiltInResolverSets.GetValueOrDefault(name);

    /// <summary>
    /// Port the authoritative servers of a zone are asked on (<c>authoritative: true</c>). 53 in the world; tests
    /// serve several authoritative servers on 127.0.0.x at one free port.
    /// </summary>
    public int AuthoritativePort { get; set; } = 53;

    /// <summary>Most authoritative server addresses asked per domain (every address of every NS of its zone).</summary>
    public int MaxAuthoritativeServers { get; set; } = 16;

    public IEnumerable<string> Validate()
    {
        const string S = RemoteTestOptions.Section + ":Dns";
        foreach (var ns in DefaultNameservers.Where(ns => Probes.DnsQuery.ParseNameServer(ns) is null))
        {
            yield return $"{S}:DefaultNameservers: '{ns}' is not an IP address or ip:port";
        }
        foreach (var (set, list) in ResolverSets)
        {
            foreach (var ns in (list ?? []).Where(ns => Probes.DnsQuery.ParseNameServer(ns) is null))
            {
                yield return $"{S}:ResolverSets:{set}: '{ns}' is not an IP address or ip:port";
            }
        }
        if (AuthoritativePort is < 1 or > 65535)
        {
            yield return $"{S}:AuthoritativePort: must be 1-65535";
        }
    }
}
