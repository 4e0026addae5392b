using System.Text.Json.Nodes;
using DnsClient;
using RemoteTest.Probes;
using RemoteTest.Security;

namespace RemoteTest.Tasks;

/// <summary>dns.check_records' arguments: the schema <c>GET /tasks</c> shows, and parsing into <see cref="DnsCheckArgs"/>.</summary>
public sealed partial class DnsCheckRecords
{
    private static readonly Dictionary<string, QueryType> RecordTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = QueryType.A,
        ["AAAA"] = QueryType.AAAA,
        ["CNAME"] = QueryType.CNAME,
        ["MX"] = QueryType.MX,
        ["TXT"] = QueryType.TXT,
        ["NS"] = QueryType.NS,
        ["SRV"] = QueryType.SRV,
        ["NAPTR"] = QueryType.NAPTR,
        ["PTR"] = QueryType.PTR,
        ["SOA"] = QueryType.SOA,
        ["CAA"] = QueryType.CAA,
        ["TLSA"] = QueryType.TLSA,
        ["DS"] = QueryType.DS,
        ["DNSKEY"] = QueryType.DNSKEY,
    };

    /// <summary><c>record_type: "SIP"</c>: the RFC 3263 resolution (NAPTR → SRV → A/AAAA) instead of one record type.</summary>
    public const string SipRecordType = "SIP";

    /// <summary>Most SIP targets (transport, address, port) one domain resolves to.</summary>
    public const int MaxSipTargets = 64;

    /// <summary>An IP address written as one (<c>192.0.2.1</c>, <c>2001:db8::1</c>): reverse-looked-up for PTR.</summary>
    public static bool IsIpLiteral(string text, out System.Net.IPAddress address) =>
        System.Net.IPAddress.TryParse(text, out address!) && (text.Contains(':') || text.Count(c => c == '.') == 3);
    public override IReadOnlyList<TaskParameter> Parameters { get; } =
    [
        new("dns_data", true, "{domain: {state_name: [values]}}; values are addresses, or 'IN SRV prio weight port target' for SRV.",
            new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } } } }),
        new("timeout", false, "Seconds to wait for each resolver's answer (default 3.0).", new JsonObject { ["type"] = "number", ["default"] = 3.0 }),
        new("include_text", false, "Add a human-readable 'text' line per domain (default true).", new JsonObject { ["type"] = "boolean", ["default"] = true }),
        new("nameservers", false, "Resolvers to ask, as 'ip' or 'ip:port' (default: the system's), or the name of a configured resolver set (\"public\"). With several, each is asked and compared.",
            new JsonObject { ["oneOf"] = new JsonArray(new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } }, new JsonObject { ["type"] = "string" }) }),
        new("authoritative", false, "Also find each domain's zone (SOA, NS) through the resolver and ask every address of every authoritative server directly, recursion off: per server answer, rcode and SOA serial (default false).",
            new JsonObject { ["type"] = "boolean", ["default"] = false }),
        new("record_type", false, "Query this type for every domain instead: A, AAAA, CNAME, MX, TXT, NS, SRV, NAPTR, PTR, SOA, CAA, TLSA, DS, DNSKEY; or SIP for the RFC 3263 resolution (NAPTR → SRV → A/AAAA). An IP address as the domain is a PTR (reverse) lookup.",
            new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "NAPTR", "PTR", "SOA", "CAA", "TLSA", "DS", "DNSKEY", "SIP") }),
    ];

    public override DnsCheckArgs ParseArguments(TaskArguments arguments)
    {
        var limits = limitsOptions.Value;
        var dns = dnsOptions.Value;
        var data = ArgumentReader.Object(arguments["dns_data"], "dns_data");
        if (data.Count == 0)
        {
            throw new TaskArgumentException("dns_data", "dns_data names no domain");
        }
        var maxDomains = Math.Min(limits.MaxChecksPerTask, limits.MaxDomainsPerTask);
        if (data.Count > maxDomains)
        {
            throw new TaskArgumentException("dns_data", $"dns_data names {data.Count} domains; at most {maxDomains} per task");
        }

        var domains = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>(StringComparer.Ordinal);
        foreach (var (domain, statesNode) in data)
        {
            var field = ArgumentReader.Member("dns_data", domain);
            if (!ArgumentReader.IsDnsName(domain) && !IsIpLiteral(domain, out _))
            {
                throw new TaskArgumentException(field, $"{field}: '{domain}' is not a valid domain name");
            }
            var states = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            var stateNodes = ArgumentReader.Object(statesNode, field);
            if (stateNodes.Count > dns.MaxStatesPerDomain)
            {
                throw new TaskArgumentException(field, $"{field} names {stateNodes.Count} states; at most {dns.MaxStatesPerDomain} per domain");
            }
            foreach (var (state, valuesNode) in stateNodes)
            {
                var stateField = ArgumentReader.Member(field, state);
                if (state.Length > dns.MaxStateNameLength)
                {
                    throw new TaskArgumentException(field, $"{field}: a state name is {state.Length} characters long; at most {dns.MaxStateNameLength}");
                }
                var values = ArgumentReader.Array(valuesNode, stateField);
                if (values.Count > dns.MaxValuesPerState)
                {
                    throw new TaskArgumentException(stateField, $"{stateField} lists {values.Count} values; at most {dns.MaxValuesPerState} per state");
                }
                states[state] = values.Select((v, i) => ArgumentReader.String(v, ArgumentReader.Element(stateField, i), 1024)).ToArray();
            }
            domains[domain] = states;
        }

        var timeout = arguments.Has("timeout") ? ArgumentReader.Number(arguments["timeout"], "timeout", 0.001, limits.MaxTimeoutSeconds) : 3.0;
        var includeText = !arguments.Has("include_text") || ArgumentReader.Boolean(arguments["include_text"], "include_text");

        var nameservers = dnsOptions.Value.DefaultNameservers.Select(ns => DnsQuery.ParseNameServer(ns)!).ToList();
        var requested = false;
        string? resolverSet = null;
        if (arguments.Has("nameservers") && arguments["nameservers"] is JsonValue setName && setName.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            // A named set the operator configured (or the built-in "public"): trusted like the default resolvers.
            resolverSet = setName.GetValue<string>();
            var set = dnsOptions.Value.ResolverSet(resolverSet)
                ?? throw new TaskArgumentException("nameservers", $"nameservers: '{(resolverSet.Length > 64 ? resolverSet[..64] : resolverSet)}' is neither a list of resolvers nor a resolver set; sets: {string.Join(", ", dnsOptions.Value.ResolverSets.Keys.Concat(DnsCheckOptions.BuiltInResolverSets.Keys).Distinct(StringComparer.OrdinalIgnoreCase).Order())}");
            nameservers = set.Select(ns => DnsQuery.ParseNameServer(ns)!).ToList();
        }
        else if (arguments.Has("nameservers") && arguments["nameservers"] is not null)
        {
            requested = true;
            var list = ArgumentReader.Array(arguments["nameservers"], "nameservers");
            if (list.Count > dnsOptions.Value.MaxNameservers)
            {
                throw new TaskArgumentException("nameservers", $"at most {dnsOptions.Value.MaxNameservers} nameservers per task");
            }
            nameservers.Clear();
            for (var i = 0; i < list.Count; i++)
            {
                var field = ArgumentReader.Element("nameservers", i);
                var text = ArgumentReader.String(list[i], field, 64);
                nameservers.Add(DnsQuery.ParseNameServer(text)
                    ?? throw new TaskArgumentException(field, $"{field}: '{text}' is not an IP address or ip:port"));
            }
        }

        QueryType? recordType = null;
        var sip = false;
        if (arguments.Has("record_type") && arguments["record_type"] is not null)
        {
            var text = ArgumentReader.String(arguments["record_type"], "record_type", 16);
            sip = text.Equals(SipRecordType, StringComparison.OrdinalIgnoreCase);
            recordType = sip ? null : RecordTypes.TryGetValue(text, out var t)
                ? t
                : throw new TaskArgumentException("record_type", $"record_type '{text}' is not one of {string.Join(", ", RecordTypes.Keys)}, {SipRecordType}");
        }
        var authoritative = arguments.Has("authoritative") && arguments["authoritative"] is not null && ArgumentReader.Boolean(arguments["authoritative"], "authoritative");
        return new DnsCheckArgs(domains, timeout, includeText, nameservers, recordType, requested && nameservers.Count > 0)
        {
            Authoritative = authoritative,
            ResolverSet = resolverSet,
            Sip = sip,
        };
    }
}

/// <summary>Validated arguments of <c>dns.check_records</c>.</summary>
/// <param name="DnsData">Domain → state name → the values that state expects.</param>
/// <param name="RecordType">Overrides the original's choice (SRV for names starting with '_', else A).</param>
public sealed record DnsCheckArgs(
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>> DnsData,
    double Timeout,
    bool IncludeText,
    IReadOnlyList<NameServer> Nameservers,
    QueryType? RecordType,
    bool NameserversRequested = false) : ITargetedArguments
{
    /// <summary>Ask every authoritative server of each domain's zone directly, too (<c>authoritative: true</c>).</summary>
    public bool Authoritative { get; init; }

    /// <summary><c>record_type: "SIP"</c>: resolve each domain as RFC 3263 does.</summary>
    public bool Sip { get; init; }

    /// <summary>The named resolver set <c>nameservers</c> gave (<c>"public"</c>), else null.</summary>
    public string? ResolverSet { get; init; }

    /// <summary>The client's own resolvers are targets the policy judges; the operator's defaults are trusted.</summary>
    public IReadOnlyList<string> Targets => NameserversRequested ? Nameservers.Select(n => n.Address.ToString()).ToList() : [];

    public string TargetField => "nameservers";
}
