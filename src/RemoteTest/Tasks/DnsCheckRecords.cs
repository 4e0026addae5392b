using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using DnsClient;
using Microsoft.Extensions.Options;
using RemoteTest.Probes;
using RemoteTest.Security;

namespace RemoteTest.Tasks;

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

/// <summary>The result: the original's <c>{"summary", "results"}</c> with fields added, none renamed.</summary>
public sealed record DnsCheckResult(DnsCheckSummary Summary, IReadOnlyDictionary<string, DnsDomainResult> Results);

/// <param name="State">The state every domain agrees on, else null.</param>
/// <param name="Ok">Every domain is ok by <see cref="DnsVerdict"/>: every resolver answered, all agree, on a named state.</param>
public sealed record DnsCheckSummary(int Domains, double DurationSec, string? State, bool Ok, IReadOnlyList<string> Nameservers)
{
    /// <summary>The named resolver set asked (<c>nameservers: "public"</c>), else absent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ResolverSet { get; init; }

    /// <summary>True when every domain's authoritative servers were asked too.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Authoritative { get; init; }
}

/// <summary>One domain's live records and the state they match.</summary>
public sealed record DnsDomainResult(
    string RecordType,
    IReadOnlyList<string> Retrieved,
    string State,
    string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Text,
    string? Rcode,
    string? ErrorKind,
    IReadOnlyList<DnsAnswer> Answers,
    IReadOnlyList<string> CnameChain,
    int? Ttl,
    double DurationSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClosestState,
    bool Mixed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? MixedStates,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, DnsServerAnswer>? ByNameserver,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Consistent,
    bool Ok)
{
    /// <summary>With <c>record_type: "SIP"</c>: the RFC 3263 tree (NAPTR → SRV → addresses) and its targets.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SipResolutionResult? Sip { get; init; }

    /// <summary>With <c>authoritative: true</c>: the zone, its NS set and every authoritative server's answer.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DnsAuthoritativeResult? Authoritative { get; init; }
}

/// <summary>
/// "Has my change reached every authoritative server?": the zone found through the resolver, its NS names, and
/// per server address (<c>ip:port</c>) its answer, rcode and the zone's SOA serial. Consistent only when every
/// server answered, with the same rcode, the same records and the same serial.
/// </summary>
public sealed record DnsAuthoritativeResult(
    string? Zone,
    IReadOnlyList<string> Nameservers,
    IReadOnlyDictionary<string, DnsAuthoritativeAnswer> Servers,
    IReadOnlyList<long> Serials,
    bool Consistent,
    string? Error,
    string? ErrorKind);

/// <summary>One authoritative server's answer, asked directly with recursion off.</summary>
public sealed record DnsAuthoritativeAnswer(
    string Name,
    string Address,
    IReadOnlyList<string> Retrieved,
    string State,
    string? Rcode,
    long? SoaSerial,
    string? Error,
    string? ErrorKind,
    double DurationSeconds);

/// <summary>One resolver's answer when several were asked.</summary>
public sealed record DnsServerAnswer(IReadOnlyList<string> Retrieved, string State, string? Rcode, string? Error, string? ErrorKind, int? Ttl, double DurationSeconds);

/// <summary>
/// <c>dns.check_records</c>: which named state of a migration ("original", "13056", ...) each domain's live
/// records match, per resolver. Every domain (and every resolver) is asked at once, so a task takes about one
/// timeout however many domains it holds.
/// </summary>
public sealed class DnsCheckRecords(IOptions<RemoteTestOptions> options, TargetGuard guard) : RemoteTask<DnsCheckArgs>
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

    public override string Name => "dns.check_records";

    public override string Description =>
        "Classifies each domain's live DNS records (A, or SRV for names starting with '_') into one of the named states given for it, or 'unknown'.";

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
        var limits = options.Value.Limits;
        var dns = options.Value.Dns;
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

        var nameservers = options.Value.Dns.DefaultNameservers.Select(ns => DnsQuery.ParseNameServer(ns)!).ToList();
        var requested = false;
        string? resolverSet = null;
        if (arguments.Has("nameservers") && arguments["nameservers"] is JsonValue setName && setName.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            // A named set the operator configured (or the built-in "public"): trusted like the default resolvers.
            resolverSet = setName.GetValue<string>();
            var set = options.Value.Dns.ResolverSet(resolverSet)
                ?? throw new TaskArgumentException("nameservers", $"nameservers: '{(resolverSet.Length > 64 ? resolverSet[..64] : resolverSet)}' is neither a list of resolvers nor a resolver set; sets: {string.Join(", ", options.Value.Dns.ResolverSets.Keys.Concat(DnsCheckOptions.BuiltInResolverSets.Keys).Distinct(StringComparer.OrdinalIgnoreCase).Order())}");
            nameservers = set.Select(ns => DnsQuery.ParseNameServer(ns)!).ToList();
        }
        else if (arguments.Has("nameservers") && arguments["nameservers"] is not null)
        {
            requested = true;
            var list = ArgumentReader.Array(arguments["nameservers"], "nameservers");
            if (list.Count > options.Value.Dns.MaxNameservers)
            {
                throw new TaskArgumentException("nameservers", $"at most {options.Value.Dns.MaxNameservers} nameservers per task");
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

    public override async Task<object> RunAsync(DnsCheckArgs args, TaskContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var timeout = TimeSpan.FromSeconds(args.Timeout);
        var client = DnsQuery.Client(args.Nameservers, timeout);

        var asked = args.Nameservers.Count > 0 ? args.Nameservers.Select(s => new[] { s }).ToArray() : [Array.Empty<NameServer>()];
        context.Plan(args.DnsData.Count * (asked.Length + (args.Authoritative ? 1 : 0)));
        var authoritativeClient = args.Authoritative ? DnsAuthority.AuthoritativeClient(timeout) : null;
        using var gate = new SemaphoreSlim(options.Value.Dns.MaxConcurrentQueries);

        var checks = args.DnsData.Select(async entry =>
        {
            var isIp = IsIpLiteral(entry.Key, out var ip);
            var type = args.RecordType ?? (isIp ? QueryType.PTR : entry.Key.StartsWith('_') ? QueryType.SRV : QueryType.A);
            // An address is looked up by its reverse name (PTR); the result stays keyed by the address as given.
            var name = isIp && type == QueryType.PTR ? DnsQuery.ReverseName(ip) : entry.Key;
            if (args.Sip)
            {
                return (entry.Key, Result: await ResolveSipAsync(client, args, entry.Key, entry.Value, gate, asked.Length, context, cancellationToken));
            }
            var lookups = await Task.WhenAll(asked.Select(async servers =>
            {
                // Checked here, on the worker, too: its policy (and its own addresses) may differ from the API's.
                if (args.NameserversRequested && servers.Length == 1 && guard.Check(System.Net.IPAddress.Parse(servers[0].Address)) is { } refusal)
                {
                    context.Complete();
                    return new DnsLookup(DnsQuery.Describe(servers[0]), null, [], [], [], null, refusal, ErrorKind.NotAllowed, 0);
                }
                await gate.WaitAsync(cancellationToken);
                try
                {
                    return await DnsQuery.QueryAsync(client, servers, name, type, timeout, cancellationToken);
                }
                finally
                {
                    gate.Release();
                    context.Complete();
                }
            }));
            DnsAuthoritativeResult? authority = null;
            if (authoritativeClient is not null)
            {
                try
                {
                    authority = await AskAuthoritativeAsync(client, authoritativeClient, args, entry.Key, type, entry.Value, gate, cancellationToken);
                }
                finally
                {
                    context.Complete();
                }
            }
            return (entry.Key, Result: Classify(entry.Key, type, entry.Value, lookups, args.IncludeText, cancellationToken, authority));
        }).ToList();
        var finished = await Task.WhenAll(checks);

        // Keep the caller's domain order, as the original's dict did.
        var results = finished.ToDictionary(r => r.Key, r => r.Result, StringComparer.Ordinal);
        var distinct = results.Values.Select(r => r.State).Distinct().ToList();
        var ok = results.Values.All(r => r.Ok);
        var summary = new DnsCheckSummary(
            args.DnsData.Count,
            Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 2),
            distinct.Count == 1 && DnsVerdict.IsNamed(distinct[0]) ? distinct[0] : null,
            ok,
            args.Nameservers.Select(DnsQuery.Describe).ToList())
        {
            ResolverSet = args.ResolverSet,
            Authoritative = args.Authoritative ? true : null,
        };
        return new DnsCheckResult(summary, results);
    }

    /// <summary>A domain resolved as RFC 3263 does; its targets (<c>tcp 192.0.2.10:5060</c>) are what states list.</summary>
    private static async Task<DnsDomainResult> ResolveSipAsync(LookupClient client, DnsCheckArgs args, string domain,
        IReadOnlyDictionary<string, IReadOnlyList<string>> states, SemaphoreSlim gate, int planned, TaskContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        SipResolutionResult sip;
        await gate.WaitAsync(cancellationToken);
        try
        {
            sip = await SipResolution.ResolveAsync(client, args.Nameservers, domain, TimeSpan.FromSeconds(args.Timeout), MaxSipTargets, cancellationToken);
        }
        finally
        {
            gate.Release();
            for (var i = 0; i < planned; i++)
            {
                context.Complete();
            }
        }
        var server = args.Nameservers.Count == 0 ? "system" : DnsQuery.Describe(args.Nameservers[0]);
        var lookup = new DnsLookup(server, sip.Error is null ? "NOERROR" : null, sip.Targets.Select(t => t.Line).ToList(), [], [], null, sip.Error, sip.ErrorKind,
            Stopwatch.GetElapsedTime(started).TotalSeconds);
        var result = Classify(domain, QueryType.NAPTR, states, [lookup], args.IncludeText, cancellationToken);
        var text = args.IncludeText ? DnsStateMatch.Render(domain, SipRecordType, result.State, result.Retrieved, result.Error) : null;
        return result with { RecordType = SipRecordType, Text = text, Sip = sip };
    }

    /// <summary>The zone and every address of every authoritative server, each asked the domain and the zone's SOA directly.</summary>
    private async Task<DnsAuthoritativeResult> AskAuthoritativeAsync(LookupClient resolver, LookupClient authoritative, DnsCheckArgs args, string domain,
        QueryType type, IReadOnlyDictionary<string, IReadOnlyList<string>> states, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(args.Timeout);
        var dns = options.Value.Dns;
        var zone = await DnsAuthority.FindAsync(resolver, args.Nameservers, domain, dns.MaxAuthoritativeServers, timeout, cancellationToken);
        var answers = await Task.WhenAll(zone.Servers.Select(async server =>
        {
            var at = new NameServer(server.Address, dns.AuthoritativePort);
            var key = DnsQuery.Describe(at);
            // Addresses come from DNS, not from the operator: the target policy judges them like any target.
            if (guard.Check(server.Address) is { } refusal)
            {
                return (key, new DnsAuthoritativeAnswer(server.Name, server.Address.ToString(), [], DnsStateMatch.Unknown, null, null, refusal, ErrorKind.NotAllowed, 0));
            }
            await gate.WaitAsync(cancellationToken);
            try
            {
                var serial = DnsAuthority.SerialAsync(authoritative, at, zone.Zone!, timeout, cancellationToken);
                var lookup = await DnsQuery.QueryAsync(authoritative, [at], domain, type, timeout, cancellationToken);
                var values = lookup.Values.Order(StringComparer.Ordinal).ToList();
                var state = lookup.Error is null ? DnsStateMatch.Match(values, states, cancellationToken).State : DnsStateMatch.Unknown;
                return (key, new DnsAuthoritativeAnswer(server.Name, server.Address.ToString(), values, state, lookup.Rcode, await serial,
                    lookup.Error, lookup.ErrorKind, Math.Round(lookup.DurationSeconds, 4)));
            }
            finally
            {
                gate.Release();
            }
        }));
        var servers = answers.ToDictionary(a => a.key, a => a.Item2, StringComparer.Ordinal);
        var serials = servers.Values.Where(a => a.SoaSerial is not null).Select(a => a.SoaSerial!.Value).Distinct().Order().ToList();
        var consistent = zone.Error is null && servers.Count > 0
            && servers.Values.All(a => a.Error is null && a.SoaSerial is not null)
            && servers.Values.Select(a => (a.Rcode, string.Join('\n', a.Retrieved), a.SoaSerial)).Distinct().Count() == 1;
        return new DnsAuthoritativeResult(zone.Zone, zone.NameServers, servers, serials, consistent, zone.Error, zone.ErrorKind);
    }

    private static DnsDomainResult Classify(string domain, QueryType type, IReadOnlyDictionary<string, IReadOnlyList<string>> states,
        IReadOnlyList<DnsLookup> lookups, bool includeText, CancellationToken cancellationToken, DnsAuthoritativeResult? authority = null)
    {
        var result = ClassifyResolvers(domain, type, states, lookups, includeText, cancellationToken);
        if (authority is null)
        {
            return result;
        }
        // One verdict over the resolvers and every authoritative server: a stale server makes the domain inconsistent,
        // and the domain is ok only when the authoritative servers agree (answer, rcode, SOA serial) as well.
        var views = lookups.Select(l => new DnsVerdict.ResolverView(
                l.Error is null ? DnsStateMatch.Match(l.Values.Order(StringComparer.Ordinal).ToList(), states, cancellationToken).State : DnsStateMatch.Unknown,
                l.Error, l.Rcode is not null))
            .Concat(authority.Servers.Values.Select(a => new DnsVerdict.ResolverView(a.State, a.Error, a.Rcode is not null)))
            .ToList();
        var state = DnsVerdict.DomainState(views);
        var ok = DnsVerdict.DomainOk(state, result.Error, views) && authority.Consistent;
        var text = result.Text is null ? null
            : state == result.State ? result.Text + (authority.Consistent ? "" : $"; authoritative servers disagree (serials {string.Join(", ", authority.Serials)})")
            : $"{domain}: is in state {state} (authoritative: " + string.Join(", ", authority.Servers.Select(kv => $"{kv.Key}: {(kv.Value.Rcode is null ? kv.Value.ErrorKind ?? "error" : kv.Value.State)}")) + ")";
        return result with { State = state, Ok = ok, Text = text, Authoritative = authority };
    }

    private static DnsDomainResult ClassifyResolvers(string domain, QueryType type, IReadOnlyDictionary<string, IReadOnlyList<string>> states,
        IReadOnlyList<DnsLookup> lookups, bool includeText, CancellationToken cancellationToken)
    {
        // The first resolver that gave an answer (any rcode) supplies the domain's records; a timeout defers to the next.
        var primary = lookups.FirstOrDefault(l => l.Rcode is not null) ?? lookups[0];
        var typeName = type.ToString();
        var retrieved = primary.Values.Order(StringComparer.Ordinal).ToList();
        var match = primary.Error is null ? DnsStateMatch.Match(retrieved, states, cancellationToken) : DnsStateMatch.NoMatch;

        if (lookups.Count <= 1)
        {
            // The original's single-resolver result, unchanged.
            var single = DnsVerdict.DomainOk(match.State, primary.Error, []);
            var text1 = includeText ? DnsStateMatch.Render(domain, typeName, match.State, retrieved, primary.Error) : null;
            return new DnsDomainResult(typeName, retrieved, match.State, primary.Error, text1, primary.Rcode, primary.ErrorKind,
                primary.Answers, primary.CnameChain, primary.Ttl, Math.Round(primary.DurationSeconds, 4),
                match.ClosestState, match.MixedStates is not null, match.MixedStates, null, null, single);
        }

        var byServer = new Dictionary<string, DnsServerAnswer>(StringComparer.Ordinal);
        var views = new List<DnsVerdict.ResolverView>();
        foreach (var l in lookups)
        {
            var values = l.Values.Order(StringComparer.Ordinal).ToList();
            var state = l.Error is null ? DnsStateMatch.Match(values, states, cancellationToken).State : DnsStateMatch.Unknown;
            byServer[l.Server] = new DnsServerAnswer(values, state, l.Rcode, l.Error, l.ErrorKind, l.Ttl, Math.Round(l.DurationSeconds, 4));
            views.Add(new DnsVerdict.ResolverView(state, l.Error, l.Rcode is not null));
        }
        var consistent = byServer.Values.Select(a => (a.Rcode, string.Join('\n', a.Retrieved))).Distinct().Count() == 1;
        // One verdict over every resolver: the state the answering ones agree on, else "inconsistent".
        var domainState = DnsVerdict.DomainState(views);
        var ok = DnsVerdict.DomainOk(domainState, primary.Error, views);
        var text = includeText ? RenderSeveral(domain, typeName, domainState, retrieved, primary.Error, byServer) : null;
        return new DnsDomainResult(typeName, retrieved, domainState, primary.Error, text, primary.Rcode, primary.ErrorKind,
            primary.Answers, primary.CnameChain, primary.Ttl, Math.Round(primary.DurationSeconds, 4),
            domainState == DnsStateMatch.Unknown ? match.ClosestState : null, match.MixedStates is not null, match.MixedStates, byServer, consistent, ok);
    }

    /// <summary>The text line over several resolvers: the original's line, then who disagreed or did not answer.</summary>
    private static string RenderSeveral(string domain, string typeName, string state, IReadOnlyList<string> retrieved, string? error,
        IReadOnlyDictionary<string, DnsServerAnswer> byServer)
    {
        if (state == DnsVerdict.Inconsistent)
        {
            return $"{domain}: is in state inconsistent (" +
                string.Join(", ", byServer.Select(kv => $"{kv.Key}: {(kv.Value.Rcode is null ? kv.Value.ErrorKind ?? "error" : kv.Value.State)}")) + ")";
        }
        var line = DnsStateMatch.Render(domain, typeName, state, retrieved, error);
        var silent = byServer.Where(kv => kv.Value.Error is not null && kv.Value.Rcode is null).Select(kv => $"{kv.Key} ({kv.Value.ErrorKind ?? "error"})").ToList();
        return silent.Count == 0 || error is not null ? line : $"{line}; no answer from {string.Join(", ", silent)}";
    }
}

/// <summary>How live values compare to a domain's named states, with the original's tie-breaking order.</summary>
public sealed record DnsStateMatch(string State, string? ClosestState, IReadOnlyList<string>? MixedStates)
{
    public const string Unknown = DnsVerdict.Unknown;

    public static readonly DnsStateMatch NoMatch = new(Unknown, null, null);

    /// <summary>
    /// The first state, in the order numeric names descending, then "original", then the rest alphabetically,
    /// whose value set equals the live set; else unknown, with the closest state and whether the live set is
    /// two states at once (a migration half-way).
    /// </summary>
    /// <remarks>
    /// Linear in the states' values, plus pairs of distinct subsets of the live set for the mixed search (bounded by
    /// <c>Dns:MaxStatesPerDomain</c>); <paramref name="cancellationToken"/> is checked inside the pair loop, so a
    /// revoked or timed-out task stops here too.
    /// </remarks>
    public static DnsStateMatch Match(IReadOnlyList<string> retrieved, IReadOnlyDictionary<string, IReadOnlyList<string>> states,
        CancellationToken cancellationToken = default)
    {
        // Each live value gets a bit; a state is a bit set of the live values it holds, plus whether it holds others.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in retrieved)
        {
            index.TryAdd(value, index.Count);
        }
        var words = Math.Max(1, (index.Count + 63) / 64);
        var full = new ulong[words];
        for (var b = 0; b < index.Count; b++)
        {
            full[b / 64] |= 1UL << (b % 64);
        }

        var ordered = Ordered(states.Keys);
        string? closest = null;
        var best = 0;
        // Non-empty subsets of the live set, first state of each distinct subset only, in priority order.
        var subsets = new List<(string Name, ulong[] Bits)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in ordered)
        {
            var bits = new ulong[words];
            var outside = false;
            var common = 0;
            foreach (var value in states[name])
            {
                if (index.TryGetValue(value, out var b))
                {
                    ref var word = ref bits[b / 64];
                    var mask = 1UL << (b % 64);
                    if ((word & mask) == 0)
                    {
                        word |= mask;
                        common++;
                    }
                }
                else
                {
                    outside = true;
                }
            }
            if (!outside && common == index.Count)
            {
                return new DnsStateMatch(name, null, null);
            }
            if (common > best)
            {
                (closest, best) = (name, common);
            }
            if (!outside && common > 0 && seen.Add(Convert.ToHexString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()))))
            {
                subsets.Add((name, bits));
            }
        }

        IReadOnlyList<string>? mixed = null;
        for (var i = 0; i < subsets.Count && mixed is null; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var j = i + 1; j < subsets.Count; j++)
            {
                if (Covers(subsets[i].Bits, subsets[j].Bits, full))
                {
                    mixed = [subsets[i].Name, subsets[j].Name];
                    break;
                }
            }
        }
        return new DnsStateMatch(Unknown, closest, mixed);
    }

    private static bool Covers(ulong[] a, ulong[] b, ulong[] full)
    {
        for (var w = 0; w < full.Length; w++)
        {
            if ((a[w] | b[w]) != full[w])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>State names in the original's priority order.</summary>
    public static IReadOnlyList<string> Ordered(IEnumerable<string> names)
    {
        var list = names.ToList();
        var numeric = list.Where(n => IsPythonInt(n, out _)).OrderByDescending(n => { IsPythonInt(n, out var v); return v; });
        var others = list.Where(n => !IsPythonInt(n, out _) && n != "original").Order(StringComparer.Ordinal);
        return [.. numeric, .. list.Contains("original") ? ["original"] : Array.Empty<string>(), .. others];
    }

    /// <summary>The original's text line, character for character.</summary>
    public static string Render(string domain, string recordType, string state, IReadOnlyList<string> retrieved, string? error)
    {
        if (error is not null)
        {
            return $"Error querying {recordType} records for {domain}: {error}";
        }
        return state switch
        {
            Unknown => $"{domain}: is in state unknown {PythonList(retrieved)}",
            "original" => $"{domain}: is in state original",
            _ => $"{domain}: is in state {state}" + (recordType == "A" ? $" {PythonList(retrieved)}" : ""),
        };
    }

    /// <summary>A list of strings as Python's <c>str(list)</c> prints it.</summary>
    public static string PythonList(IEnumerable<string> values) =>
        "[" + string.Join(", ", values.Select(v => "'" + v.Replace("\\", "\\\\").Replace("'", "\\'") + "'")) + "]";

    // Python's int() accepts surrounding spaces, a sign and digit underscores; state names like "13056" are the case that matters.
    private static bool IsPythonInt(string s, out System.Numerics.BigInteger value) =>
        System.Numerics.BigInteger.TryParse(s.Trim().Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)
        && !s.StartsWith('_') && !s.EndsWith('_') && !s.Contains("__");
}
