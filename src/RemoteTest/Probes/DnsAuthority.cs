using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace RemoteTest.Probes;

/// <summary>One authoritative server of a zone: its NS name and one of its addresses.</summary>
public sealed record AuthoritativeServer(string Name, IPAddress Address);

/// <summary>A domain's zone as the resolver sees it: its apex, its NS names, and every address of every NS.</summary>
public sealed record ZoneAuthority(string? Zone, IReadOnlyList<string> NameServers, IReadOnlyList<AuthoritativeServer> Servers, string? Error, string? ErrorKind);

/// <summary>
/// Finding a domain's authoritative servers through a resolver (the zone from the SOA in the answer or the
/// authority section, its NS set, their addresses from the glue or from A/AAAA lookups), and asking one of them
/// directly. A client made by <see cref="AuthoritativeClient"/> sends queries with recursion off.
/// </summary>
public static class DnsAuthority
{
    /// <summary>A client for questions to authoritative servers: recursion desired off, no cache, no retries, TCP on truncation.</summary>
    public static LookupClient AuthoritativeClient(TimeSpan timeout) => DnsQuery.Client([], timeout, recursion: false);

    /// <summary>The zone of <paramref name="domain"/> and its authoritative servers, found through <paramref name="resolvers"/>.</summary>
    public static async Task<ZoneAuthority> FindAsync(ILookupClient client, IReadOnlyCollection<NameServer> resolvers, string domain, int maxServers,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var soa = await DnsQuery.AskAsync(client, resolvers, domain, QueryType.SOA, timeout, cancellationToken);
            var soaRecord = soa.Answers.OfType<SoaRecord>().FirstOrDefault() ?? soa.Authorities.OfType<SoaRecord>().FirstOrDefault();
            if (soaRecord is null)
            {
                return new ZoneAuthority(null, [], [], $"no SOA for {domain} from the resolver ({soa.Header.ResponseCode})", ErrorKind.NoAnswer);
            }
            var zone = Trim(soaRecord.DomainName.Value);
            var ns = await DnsQuery.AskAsync(client, resolvers, zone, QueryType.NS, timeout, cancellationToken);
            var names = ns.Answers.OfType<NsRecord>().Select(n => Trim(n.NSDName.Value)).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
            if (names.Count == 0)
            {
                return new ZoneAuthority(zone, [], [], $"no NS records for zone {zone}", ErrorKind.NoAnswer);
            }
            var servers = new List<AuthoritativeServer>();
            foreach (var name in names)
            {
                // Glue first (the additional section of the NS answer), else the resolver's A and AAAA for the name.
                var glue = ns.Additionals.Where(r => string.Equals(Trim(r.DomainName.Value), name, StringComparison.OrdinalIgnoreCase))
                    .Select(AddressOf).OfType<IPAddress>().ToList();
                if (glue.Count == 0)
                {
                    foreach (var type in new[] { QueryType.A, QueryType.AAAA })
                    {
                        var answer = await DnsQuery.AskAsync(client, resolvers, name, type, timeout, cancellationToken);
                        glue.AddRange(answer.Answers.Select(AddressOf).OfType<IPAddress>());
                    }
                }
                servers.AddRange(glue.Distinct().Select(a => new AuthoritativeServer(name, a)));
            }
            return new ZoneAuthority(zone, names, servers.Take(maxServers).ToList(), servers.Count == 0 ? $"no address for any NS of zone {zone}" : null,
                servers.Count == 0 ? ErrorKind.NoAnswer : null);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is DnsResponseException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return new ZoneAuthority(null, [], [], $"could not find the authoritative servers of {domain}: {ex.Message}", ErrorKind.Timeout);
        }
    }

    /// <summary>The zone's SOA serial as <paramref name="server"/> serves it; null when it did not answer with one.</summary>
    public static async Task<uint?> SerialAsync(ILookupClient authoritative, NameServer server, string zone, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var response = await DnsQuery.AskAsync(authoritative, [server], zone, QueryType.SOA, timeout, cancellationToken);
            return response.Answers.OfType<SoaRecord>().FirstOrDefault()?.Serial;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is DnsResponseException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }


    private static IPAddress? AddressOf(DnsResourceRecord r) => r switch
    {
        ARecord a => a.Address,
        AaaaRecord a => a.Address,
        _ => null,
    };

    private static string Trim(string name) => name.Length > 1 ? name.TrimEnd('.') : name;
}
