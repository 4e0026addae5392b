using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace RemoteTest.Probes;

/// <summary>One resource record of an answer section.</summary>
public sealed record DnsAnswer(string Name, string Type, int Ttl, string Class, string Value);

/// <summary>What one resolver said about one name and type.</summary>
/// <param name="Server">The resolver that answered (or was asked), as <c>ip:port</c>.</param>
/// <param name="Rcode">The response code mnemonic (NOERROR, NXDOMAIN, SERVFAIL, REFUSED...), null when nothing came back.</param>
/// <param name="Values">The records of the asked type, rendered as the original rendered them, unsorted.</param>
/// <param name="Error">The error text in dnspython's words (the original's resolver), null on success.</param>
public sealed record DnsLookup(
    string Server,
    string? Rcode,
    IReadOnlyList<string> Values,
    IReadOnlyList<DnsAnswer> Answers,
    IReadOnlyList<string> CnameChain,
    int? Ttl,
    string? Error,
    string? ErrorKind,
    double DurationSeconds);

/// <summary>The DNS probe: one question to one resolver (or the system's resolvers), with one deadline.</summary>
public static class DnsQuery
{
    /// <summary>
    /// A client that asks exactly what it is told, once: no cache, no retries (one try within the timeout, like the
    /// original's resolver lifetime), errors as answers. <paramref name="servers"/> empty: the system's resolvers.
    /// <paramref name="recursion"/> off for questions to authoritative servers.
    /// </summary>
    public static LookupClient Client(IReadOnlyCollection<NameServer> servers, TimeSpan timeout, bool recursion = true)
    {
        var options = servers.Count > 0 ? new LookupClientOptions(servers.ToArray()) : new LookupClientOptions();
        options.Recursion = recursion;
        options.UseCache = false;
        options.Retries = 0;
        options.Timeout = timeout;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        options.ContinueOnEmptyResponse = false;
        return new LookupClient(options);
    }

    /// <summary>One raw question under its own deadline, to <paramref name="servers"/> or (none given) the client's own.</summary>
    public static async Task<IDnsQueryResponse> AskAsync(ILookupClient client, IReadOnlyCollection<NameServer> servers, string name, QueryType type,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        return servers.Count == 0
            ? await client.QueryAsync(name, type, QueryClass.IN, deadline.Token)
            : await client.QueryServerAsync(servers, name, type, QueryClass.IN, deadline.Token);
    }

    /// <summary>
    /// Asks <paramref name="servers"/> (tried in order, as a stub resolver does) for <paramref name="type"/> records
    /// of <paramref name="domain"/>. A NOERROR answer without records of the type is an error, as it was for
    /// the original's resolver; so are NXDOMAIN, SERVFAIL, REFUSED and a timeout.
    /// </summary>
    public static async Task<DnsLookup> QueryAsync(ILookupClient client, IReadOnlyCollection<NameServer> servers, string domain, QueryType type,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var serverText = servers.Count == 0 ? "system" : Describe(servers.First());
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        IDnsQueryResponse response;
        try
        {
            response = servers.Count == 0
                ? await client.QueryAsync(domain, type, QueryClass.IN, deadline.Token)
                : await client.QueryServerAsync(servers, domain, type, QueryClass.IN, deadline.Token);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The task was revoked, hit its time limit, or the worker is stopping: not a DNS outcome.
            throw new OperationCanceledException(cancellationToken);
        }
        catch (Exception ex) when (IsTimeout(ex))
        {
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return Failure(serverText, null, ErrorKind.Timeout,
                $"LifetimeTimeout: The resolution lifetime expired after {seconds.ToString("0.000", CultureInfo.InvariantCulture)} seconds: Server Do53:{ServerAt(serverText)} answered The DNS operation timed out.",
                started);
        }
        catch (DnsResponseException ex)
        {
            return Failure(serverText, null, ErrorKind.Dns, $"NoNameservers: All nameservers failed to answer the query {domain}. IN {type}: {ex.Message}", started);
        }
        catch (SocketException ex)
        {
            return Failure(serverText, null, ErrorKind.Unreachable, $"NoNameservers: All nameservers failed to answer the query {domain}. IN {type}: {ex.Message}", started);
        }

        serverText = response.NameServer is { } ns ? Describe(ns) : serverText;
        var rcode = Mnemonic(response.Header.ResponseCode);
        var answers = response.Answers.Select(Render).ToList();
        var chain = response.Answers.OfType<CNameRecord>().Select(c => Trim(c.CanonicalName.Value)).ToList();
        var matching = response.Answers.Where(r => r.RecordType == (ResourceRecordType)type).ToList();
        var values = matching.Select(RenderValue).ToList();
        int? ttl = matching.Count > 0 ? matching.Min(r => r.InitialTimeToLive) : null;

        var (kind, error) = rcode switch
        {
            "NOERROR" when values.Count > 0 => ((string?)null, (string?)null),
            "NOERROR" => (ErrorKind.NoAnswer, $"NoAnswer: The DNS response does not contain an answer to the question: {domain}. IN {type}"),
            "NXDOMAIN" => (ErrorKind.NxDomain, $"NXDOMAIN: The DNS query name does not exist: {domain}."),
            "SERVFAIL" => (ErrorKind.ServFail, NoNameservers(domain, type, serverText, rcode)),
            "REFUSED" => (ErrorKind.DnsRefused, NoNameservers(domain, type, serverText, rcode)),
            _ => (ErrorKind.Dns, NoNameservers(domain, type, serverText, rcode)),
        };
        return new DnsLookup(serverText, rcode, error is null ? values : [], answers, chain, ttl, error, kind,
            Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>Parses <c>"ip"</c>, <c>"ip:port"</c> or <c>"[v6]:port"</c>; null when it is not an IP endpoint.</summary>
    public static NameServer? ParseNameServer(string text)
    {
        if (IPAddress.TryParse(text, out var bare) && (text.Contains(':') || text.Count(c => c == '.') == 3))
        {
            return new NameServer(bare, 53);
        }
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port > 0 &&
            (text.StartsWith('[') || endpoint.AddressFamily == AddressFamily.InterNetwork))
        {
            return new NameServer(endpoint);
        }
        return null;
    }

    public static string Describe(NameServer server) => server.AddressFamily == AddressFamily.InterNetworkV6
        ? $"[{server.Address}]:{server.Port}"
        : $"{server.Address}:{server.Port}";

    private static string ServerAt(string server)
    {
        var colon = server.LastIndexOf(':');
        return colon < 0 ? server : $"{server[..colon].Trim('[', ']')}@{server[(colon + 1)..]}";
    }

    private static string NoNameservers(string domain, QueryType type, string server, string rcode) =>
        $"NoNameservers: All nameservers failed to answer the query {domain}. IN {type}: Server Do53:{ServerAt(server)} answered {rcode}";

    private static bool IsTimeout(Exception ex) =>
        ex is OperationCanceledException or TimeoutException ||
        (ex is DnsResponseException d && d.Code == DnsResponseCode.ConnectionTimeout);

    private static DnsLookup Failure(string server, string? rcode, string kind, string error, long started) =>
        new(server, rcode, [], [], [], null, error, kind, Stopwatch.GetElapsedTime(started).TotalSeconds);

    private static string Mnemonic(DnsHeaderResponseCode code) => code switch
    {
        DnsHeaderResponseCode.NoError => "NOERROR",
        DnsHeaderResponseCode.FormatError => "FORMERR",
        DnsHeaderResponseCode.ServerFailure => "SERVFAIL",
        DnsHeaderResponseCode.NotExistentDomain => "NXDOMAIN",
        DnsHeaderResponseCode.NotImplemented => "NOTIMP",
        DnsHeaderResponseCode.Refused => "REFUSED",
        _ => code.ToString().ToUpperInvariant(),
    };

    private static DnsAnswer Render(DnsResourceRecord r) =>
        new(Trim(r.DomainName.Value), r.RecordType.ToString(), r.InitialTimeToLive, r.RecordClass.ToString(), RenderValue(r));

    /// <summary>A record's value as the original rendered it (SRV as <c>IN SRV prio weight port target</c>), names without the trailing dot.</summary>
    private static string RenderValue(DnsResourceRecord r) => r switch
    {
        ARecord a => a.Address.ToString(),
        AaaaRecord a => a.Address.ToString(),
        SrvRecord s => $"IN SRV {s.Priority} {s.Weight} {s.Port} {Trim(s.Target.Value)}",
        CNameRecord c => Trim(c.CanonicalName.Value),
        MxRecord m => $"{m.Preference} {Trim(m.Exchange.Value)}",
        NsRecord n => Trim(n.NSDName.Value),
        TxtRecord t => string.Concat(t.Text),
        // One stable line per record, as `dig +short` prints it (names without the trailing dot, hex upper case).
        NAPtrRecord n => $"{n.Order} {n.Preference} {Quoted(n.Flags)} {Quoted(n.Services)} {Quoted(n.RegularExpression)} {Trim(n.Replacement.Value)}",
        PtrRecord p => Trim(p.PtrDomainName.Value),
        SoaRecord o => $"{Trim(o.MName.Value)} {Trim(o.RName.Value)} {o.Serial} {o.Refresh} {o.Retry} {o.Expire} {o.Minimum}",
        CaaRecord c => $"{c.Flags} {c.Tag} {Quoted(c.Value)}",
        TlsaRecord t => $"{(int)t.CertificateUsage} {(int)t.Selector} {(int)t.MatchingType} {Convert.ToHexString(t.CertificateAssociationData.ToArray())}",
        DsRecord d => $"{d.KeyTag} {(int)d.Algorithm} {d.DigestType} {Convert.ToHexString(d.Digest.ToArray())}",
        DnsKeyRecord k => $"{k.Flags} {k.Protocol} {(int)k.Algorithm} {Convert.ToBase64String(k.PublicKey.ToArray())}",
        _ => r.ToString(),
    };

    private static string Quoted(string? text) => "\"" + (text ?? "").Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>The reverse-lookup name of an address: <c>4.3.2.1.in-addr.arpa</c>, or nibbles under <c>ip6.arpa</c>.</summary>
    public static string ReverseName(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return string.Join('.', bytes.Reverse().Select(b => b.ToString(CultureInfo.InvariantCulture))) + ".in-addr.arpa";
        }
        var hex = Convert.ToHexStringLower(bytes);
        return string.Join('.', hex.Reverse()) + ".ip6.arpa";
    }

    private static string Trim(string name) => name.Length > 1 ? name.TrimEnd('.') : name;
}
