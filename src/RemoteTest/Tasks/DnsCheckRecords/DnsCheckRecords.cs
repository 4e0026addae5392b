using System.Diagnostics;
using DnsClient;
using Microsoft.Extensions.Options;
using RemoteTest.Probes;
using RemoteTest.Security;

namespace RemoteTest.Tasks;

/// <summary>
/// <c>dns.check_records</c>: which named state of a migration ("original", "13056", ...) each domain's live
/// records match, per resolver. Every domain (and every resolver) is asked at once, so a task takes about one
/// timeout however many domains it holds.
/// </summary>
public sealed partial class DnsCheckRecords(IOptions<Tasks.DnsCheckOptions> dnsOptions, IOptions<LimitsOptions> limitsOptions, TargetGuard guard) : RemoteTask<DnsCheckArgs>
{
    public override string Name => "dns.check_records";

    public override string Description =>
        "Classifies each domain's live DNS records (A, or SRV for names starting with '_') into one of the named states given for it, or 'unknown'.";
    public override async Task<object> RunAsync(DnsCheckArgs args, TaskContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var timeout = TimeSpan.FromSeconds(args.Timeout);
        var client = DnsQuery.Client(args.Nameservers, timeout);

        var asked = args.Nameservers.Count > 0 ? args.Nameservers.Select(s => new[] { s }).ToArray() : [Array.Empty<NameServer>()];
        context.Plan(args.DnsData.Count * (asked.Length + (args.Authoritative ? 1 : 0)));
        var authoritativeClient = args.Authoritative ? DnsAuthority.AuthoritativeClient(timeout) : null;
        using var gate = new SemaphoreSlim(dnsOptions.Value.MaxConcurrentQueries);

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
        var dns = dnsOptions.Value;
        var zone = await DnsAuthority.FindAsync(resolver, args.Nameservers, domain, dns.MaxAuthoritativeServers, timeout, cancellationToken);
        var answers = await Task.WhenAll(zone.Servers.Select(async server =>
        {
            var at = new NameServer(server.Address, dns.AuthoritativePort);
            var key = DnsQuery.Describe(at);
            // Addresses come from DNS, not from the operator: the target policy judges them like any target.
            if (guard.Check(server.Address) is { } refusal)
            {
                return (key, new DnsAuthoritativeAnswer
                {
                    Name = server.Name, Address = server.Address.ToString(), Retrieved = [], State = DnsStateMatch.Unknown,
                    Error = refusal, ErrorKind = ErrorKind.NotAllowed, DurationSeconds = 0,
                });
            }
            await gate.WaitAsync(cancellationToken);
            try
            {
                var serial = DnsAuthority.SerialAsync(authoritative, at, zone.Zone!, timeout, cancellationToken);
                var lookup = await DnsQuery.QueryAsync(authoritative, [at], domain, type, timeout, cancellationToken);
                var values = lookup.Values.Order(StringComparer.Ordinal).ToList();
                var state = lookup.Error is null ? DnsStateMatch.Match(values, states, cancellationToken).State : DnsStateMatch.Unknown;
                return (key, new DnsAuthoritativeAnswer
                {
                    Name = server.Name, Address = server.Address.ToString(), Retrieved = values, State = state, Rcode = lookup.Rcode,
                    SoaSerial = await serial, Error = lookup.Error, ErrorKind = lookup.ErrorKind, DurationSeconds = Math.Round(lookup.DurationSeconds, 4),
                });
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
        return new DnsAuthoritativeResult
        {
            Zone = zone.Zone, Nameservers = zone.NameServers, Servers = servers, Serials = serials, Consistent = consistent,
            Error = zone.Error, ErrorKind = zone.ErrorKind,
        };
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

        // The original's single-resolver result, unchanged; several resolvers add their answers and one verdict over them.
        var single = new DnsDomainResult
        {
            RecordType = typeName,
            Retrieved = retrieved,
            State = match.State,
            Error = primary.Error,
            Text = includeText ? DnsStateMatch.Render(domain, typeName, match.State, retrieved, primary.Error) : null,
            Rcode = primary.Rcode,
            ErrorKind = primary.ErrorKind,
            Answers = primary.Answers,
            CnameChain = primary.CnameChain,
            Ttl = primary.Ttl,
            DurationSeconds = Math.Round(primary.DurationSeconds, 4),
            ClosestState = match.ClosestState,
            Mixed = match.MixedStates is not null,
            MixedStates = match.MixedStates,
            Ok = DnsVerdict.DomainOk(match.State, primary.Error, []),
        };
        if (lookups.Count <= 1)
        {
            return single;
        }

        var byServer = new Dictionary<string, DnsServerAnswer>(StringComparer.Ordinal);
        var views = new List<DnsVerdict.ResolverView>();
        foreach (var l in lookups)
        {
            var values = l.Values.Order(StringComparer.Ordinal).ToList();
            var state = l.Error is null ? DnsStateMatch.Match(values, states, cancellationToken).State : DnsStateMatch.Unknown;
            byServer[l.Server] = new DnsServerAnswer
            {
                Retrieved = values, State = state, Rcode = l.Rcode, Error = l.Error, ErrorKind = l.ErrorKind, Ttl = l.Ttl,
                DurationSeconds = Math.Round(l.DurationSeconds, 4),
            };
            views.Add(new DnsVerdict.ResolverView(state, l.Error, l.Rcode is not null));
        }
        var consistent = byServer.Values.Select(a => (a.Rcode, string.Join('\n', a.Retrieved))).Distinct().Count() == 1;
        // One verdict over every resolver: the state the answering ones agree on, else "inconsistent".
        var domainState = DnsVerdict.DomainState(views);
        var ok = DnsVerdict.DomainOk(domainState, primary.Error, views);
        return single with
        {
            State = domainState,
            Text = includeText ? RenderSeveral(domain, typeName, domainState, retrieved, primary.Error, byServer) : null,
            ClosestState = domainState == DnsStateMatch.Unknown ? match.ClosestState : null,
            ByNameserver = byServer,
            Consistent = consistent,
            Ok = ok,
        };
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
