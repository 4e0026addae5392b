using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace RemoteTest.Probes;

/// <summary>One place a SIP request for the domain may go: transport, SRV target (or the domain), port and one address.</summary>
public sealed record SipTarget(string Transport, string Host, int Port, string Address)
{
    /// <summary>The line a state lists: <c>tcp 192.0.2.10:5060</c>, <c>tls [2001:db8::1]:5061</c>.</summary>
    public string Line => $"{Transport} {(Address.Contains(':') ? $"[{Address}]" : Address)}:{Port.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>An SRV record of the tree with the addresses of its target.</summary>
public sealed record SipSrvNode(string Name, string Record, string Target, int Port, int Priority, int Weight, IReadOnlyList<string> Addresses);

/// <summary>A NAPTR record of the tree (or a fallback SRV name, Record null) with the SRV records it leads to.</summary>
public sealed record SipNaptrNode(string? Record, string Transport, string SrvName, IReadOnlyList<SipSrvNode> Srv);

/// <summary>
/// The RFC 3263 resolution of a SIP domain as a tree: NAPTR → SRV → A/AAAA (<c>source: "naptr"</c>), the SRV
/// names of §4.1 when there is no NAPTR (<c>"srv"</c>), else the domain's own addresses on 5060 UDP (<c>"a"</c>);
/// <c>targets</c> flattens it in the order a client tries them.
/// </summary>
public sealed record SipResolutionResult(string Source, IReadOnlyList<SipNaptrNode> Naptr, IReadOnlyList<SipTarget> Targets, string? Error, string? ErrorKind);

/// <summary>RFC 3263 server location for a SIP domain, through the given resolvers.</summary>
public static class SipResolution
{
    /// <summary>NAPTR services a SIP client uses (RFC 3263 §4.1), and the transport each means.</summary>
    private static readonly Dictionary<string, string> Services = new(StringComparer.OrdinalIgnoreCase)
    {
        ["SIP+D2U"] = "udp",
        ["SIP+D2T"] = "tcp",
        ["SIPS+D2T"] = "tls",
        ["SIP+D2S"] = "sctp",
        ["SIPS+D2S"] = "sctp-tls",
    };

    /// <summary>The SRV names tried without NAPTR records (§4.1), in that order.</summary>
    private static readonly (string Prefix, string Transport)[] Fallback = [("_sips._tcp", "tls"), ("_sip._tcp", "tcp"), ("_sip._udp", "udp")];

    public const int DefaultPort = 5060;

    public static async Task<SipResolutionResult> ResolveAsync(ILookupClient client, IReadOnlyCollection<NameServer> servers, string domain,
        TimeSpan timeout, int maxTargets, CancellationToken cancellationToken)
    {
        try
        {
            var naptr = await DnsQuery.AskAsync(client, servers, domain, QueryType.NAPTR, timeout, cancellationToken);
            var records = naptr.Answers.OfType<NAPtrRecord>()
                .Where(n => n.Flags.Equals("S", StringComparison.OrdinalIgnoreCase) && Services.ContainsKey(n.Services))
                .OrderBy(n => n.Order).ThenBy(n => n.Preference).ToList();
            var nodes = new List<SipNaptrNode>();
            string source;
            if (records.Count > 0)
            {
                source = "naptr";
                foreach (var n in records)
                {
                    var srvName = Trim(n.Replacement.Value);
                    nodes.Add(new SipNaptrNode(Render(n), Services[n.Services], srvName, await SrvAsync(client, servers, srvName, timeout, cancellationToken)));
                }
            }
            else
            {
                source = "srv";
                foreach (var (prefix, transport) in Fallback)
                {
                    var srvName = $"{prefix}.{domain}";
                    var srv = await SrvAsync(client, servers, srvName, timeout, cancellationToken);
                    if (srv.Count > 0)
                    {
                        nodes.Add(new SipNaptrNode(null, transport, srvName, srv));
                    }
                }
            }

            var targets = nodes.SelectMany(n => n.Srv.SelectMany(s => s.Addresses.Select(a => new SipTarget(n.Transport, s.Target, s.Port, a)))).ToList();
            if (nodes.Count == 0)
            {
                // No NAPTR, no SRV: the domain itself, UDP on 5060 (§4.2).
                source = "a";
                var addresses = await AddressesAsync(client, servers, domain, timeout, cancellationToken);
                targets = addresses.Select(a => new SipTarget("udp", domain, DefaultPort, a)).ToList();
            }
            return targets.Count == 0
                ? new SipResolutionResult(source, nodes, [], $"no SIP server found for {domain}: no NAPTR, SRV or address records", ErrorKind.NoAnswer)
                : new SipResolutionResult(source, nodes, targets.DistinctBy(t => t.Line).Take(maxTargets).ToList(), null, null);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is DnsResponseException or OperationCanceledException or TimeoutException or SocketException)
        {
            return new SipResolutionResult("naptr", [], [], $"SIP resolution of {domain} failed: {ex.Message}", ErrorKind.Timeout);
        }
    }

    private static async Task<IReadOnlyList<SipSrvNode>> SrvAsync(ILookupClient client, IReadOnlyCollection<NameServer> servers, string name,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var response = await DnsQuery.AskAsync(client, servers, name, QueryType.SRV, timeout, cancellationToken);
        var list = new List<SipSrvNode>();
        // Lower priority first; within one, heavier weight first (a stable order instead of the weighted draw).
        foreach (var s in response.Answers.OfType<SrvRecord>().OrderBy(s => s.Priority).ThenByDescending(s => s.Weight).ThenBy(s => s.Target.Value, StringComparer.Ordinal))
        {
            var target = Trim(s.Target.Value);
            if (target == ".")
            {
                continue; // "service not available here" (RFC 2782)
            }
            // Addresses in the additional section when the server sent them, else asked.
            var glue = response.Additionals.Where(r => string.Equals(Trim(r.DomainName.Value), target, StringComparison.OrdinalIgnoreCase))
                .Select(AddressOf).OfType<string>().ToList();
            var addresses = glue.Count > 0 ? glue : await AddressesAsync(client, servers, target, timeout, cancellationToken);
            list.Add(new SipSrvNode(name, $"IN SRV {s.Priority} {s.Weight} {s.Port} {target}", target, s.Port, s.Priority, s.Weight, addresses));
        }
        return list;
    }

    private static async Task<IReadOnlyList<string>> AddressesAsync(ILookupClient client, IReadOnlyCollection<NameServer> servers, string name,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var list = new List<string>();
        foreach (var type in new[] { QueryType.A, QueryType.AAAA })
        {
            var response = await DnsQuery.AskAsync(client, servers, name, type, timeout, cancellationToken);
            list.AddRange(response.Answers.Select(AddressOf).OfType<string>());
        }
        return list.Distinct().ToList();
    }


    private static string? AddressOf(DnsResourceRecord r) => r switch
    {
        ARecord a => a.Address.ToString(),
        AaaaRecord a => a.Address.ToString(),
        _ => null,
    };

    private static string Render(NAPtrRecord n) =>
        $"{n.Order} {n.Preference} \"{n.Flags}\" \"{n.Services}\" \"{n.RegularExpression}\" {Trim(n.Replacement.Value)}";

    private static string Trim(string name) => name.Length > 1 ? name.TrimEnd('.') : name;
}
