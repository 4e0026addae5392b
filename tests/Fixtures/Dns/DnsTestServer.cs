using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace RemoteTest.Fixtures.Dns;

/// <summary>
/// An authoritative DNS server on a free loopback port (UDP and TCP) for tests: serves the records it is
/// given, NXDOMAIN for names it does not know, NOERROR with no answer for a known name without records of the
/// asked type, a fixed error code for chosen names, and silence for names it must never answer.
/// </summary>
public sealed class DnsTestServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, List<DnsRecordBase>> _records = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ReturnCode> _codes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _silent = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _queries = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, uint> _zones = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<(string Name, RecordType Type, bool RecursionDesired)> _log = new();
    private readonly CancellationTokenSource _stopping = new();
    private DnsServer? _server;

    private DnsTestServer(IPAddress address) => Address = address;

    public IPAddress Address { get; }

    public int Port { get; private set; }

    public IPEndPoint EndPoint => new(Address, Port);

    /// <summary>The server as a <c>nameservers</c> entry: <c>"127.0.0.1:PORT"</c>.</summary>
    public string NameServer => $"{Address}:{Port}";

    public int TtlSeconds { get; set; } = 300;

    /// <summary>
    /// Starts on <paramref name="address"/> (default 127.0.0.1) on <paramref name="port"/>, or on a port free for
    /// both UDP and TCP when 0.
    /// </summary>
    public static DnsTestServer Start(IPAddress? address = null, int port = 0)
    {
        var server = new DnsTestServer(address ?? IPAddress.Loopback);
        if (port != 0)
        {
            server.Listen(port);
            return server;
        }
        for (var attempt = 0; ; attempt++)
        {
            port = FreePort(server.Address);
            try
            {
                server.Listen(port);
                return server;
            }
            catch (SocketException) when (attempt < 5)
            {
                // Another process took the port between probing and binding: try another.
            }
        }
    }

    /// <summary>
    /// Several authoritative servers of one zone, one per address (127.0.0.2, 127.0.0.3, ...), all on one port
    /// (authoritative servers are asked on a fixed port, 53 in the world): a port free on every address.
    /// </summary>
    public static IReadOnlyList<DnsTestServer> StartMany(params IPAddress[] addresses)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort(addresses[0]);
            var started = new List<DnsTestServer>();
            try
            {
                foreach (var address in addresses)
                {
                    started.Add(Start(address, port));
                }
                return started;
            }
            catch (SocketException) when (attempt < 10)
            {
                // Taken on one of the other addresses: stop those started and try another port.
                foreach (var s in started)
                {
                    s.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
            }
        }
    }

    private void Listen(int port)
    {
        var endpoint = new IPEndPoint(Address, port);
        var dns = new DnsServer(new UdpServerTransport(endpoint, 5000), new TcpServerTransport(endpoint, 5000, 5000));
        dns.QueryReceived += OnQueryAsync;
        dns.Start();
        _server = dns;
        Port = port;
    }

    /// <summary>The zone's SOA (its apex; answers NXDOMAIN and no-data under it with this SOA in the authority section).</summary>
    public DnsTestServer Soa(string zone, uint serial, string primary = "ns1", string mailbox = "hostmaster")
    {
        _zones[Key(zone)] = serial;
        return Add(zone, [new SoaRecord(Name(zone), TtlSeconds, Name($"{primary}.{zone}"), Name($"{mailbox}.{zone}"), serial, 3600, 600, 86400, 300)]);
    }

    /// <summary>An NS record of <paramref name="zone"/>; its A/AAAA records (added with <see cref="A"/>) go out as glue.</summary>
    public DnsTestServer Ns(string zone, string server) =>
        Add(zone, [new NsRecord(Name(zone), TtlSeconds, Name(server))]);

    /// <summary>Any record (NAPTR, PTR, CAA, TLSA, DS, DNSKEY, ...), built with ARSoft's record types.</summary>
    public DnsTestServer Record(DnsRecordBase record) => Add(record.Name.ToString(), [record]);

    /// <summary>A NAPTR record (RFC 3403) pointing at <paramref name="replacement"/>.</summary>
    public DnsTestServer Naptr(string name, ushort order, ushort preference, string flags, string services, string replacement) =>
        Add(name, [new NaptrRecord(Name(name), TtlSeconds, order, preference, flags, services, "", Name(replacement))]);

    /// <summary>The PTR record of an address (under in-addr.arpa or ip6.arpa).</summary>
    public DnsTestServer Ptr(string address, string target)
    {
        var reverse = IPAddress.Parse(address).GetReverseLookupDomain();
        return Add(reverse.ToString(), [new PtrRecord(reverse, TtlSeconds, Name(target))]);
    }

    public static DomainName NameOf(string name) => Name(name);

    public DnsTestServer A(string name, params string[] addresses) =>
        Add(name, addresses.Select(a => (DnsRecordBase)new ARecord(Name(name), TtlSeconds, IPAddress.Parse(a))));

    public DnsTestServer Aaaa(string name, params string[] addresses) =>
        Add(name, addresses.Select(a => (DnsRecordBase)new AaaaRecord(Name(name), TtlSeconds, IPAddress.Parse(a))));

    public DnsTestServer Srv(string name, ushort priority, ushort weight, ushort port, string target) =>
        Add(name, [new SrvRecord(Name(name), TtlSeconds, priority, weight, port, Name(target))]);

    public DnsTestServer Cname(string name, string target) =>
        Add(name, [new CNameRecord(Name(name), TtlSeconds, Name(target))]);

    public DnsTestServer Mx(string name, ushort preference, string exchange) =>
        Add(name, [new MxRecord(Name(name), TtlSeconds, preference, Name(exchange))]);

    public DnsTestServer Txt(string name, string text) =>
        Add(name, [new TxtRecord(Name(name), TtlSeconds, text)]);

    /// <summary>Answers queries for <paramref name="name"/> with <paramref name="code"/> (e.g. SERVFAIL, REFUSED).</summary>
    public DnsTestServer Fail(string name, ReturnCode code)
    {
        _codes[Key(name)] = code;
        return this;
    }

    /// <summary>Never answers queries for <paramref name="name"/>: the client times out.</summary>
    public DnsTestServer Silent(string name)
    {
        _silent[Key(name)] = true;
        return this;
    }

    /// <summary>Answers <paramref name="name"/> again after <see cref="Silent"/>.</summary>
    public DnsTestServer Unsilence(string name)
    {
        _silent.TryRemove(Key(name), out _);
        return this;
    }

    /// <summary>Replaces the records of <paramref name="name"/> (a DNS change during a migration).</summary>
    public void Clear(string name) => _records.TryRemove(Key(name), out _);

    /// <summary>Every question received: name, type, and whether it asked for recursion (RD).</summary>
    public IReadOnlyList<(string Name, RecordType Type, bool RecursionDesired)> Queries => [.. _log];

    /// <summary>The longest zone (added with <see cref="Soa"/>) that <paramref name="key"/> is in, else null.</summary>
    private string? ZoneOf(string key)
    {
        for (var name = key; name.Length > 0; name = name.Contains('.') ? name[(name.IndexOf('.') + 1)..] : "")
        {
            if (_zones.ContainsKey(name))
            {
                return name;
            }
        }
        return null;
    }

    /// <summary>How many queries arrived for <paramref name="name"/>, any type.</summary>
    public int QueriesFor(string name) => _queries.GetValueOrDefault(Key(name));

    private DnsTestServer Add(string name, IEnumerable<DnsRecordBase> records)
    {
        var list = _records.GetOrAdd(Key(name), _ => []);
        lock (list)
        {
            list.AddRange(records);
        }
        return this;
    }

    private async Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count != 1)
        {
            return;
        }
        var question = query.Questions[0];
        var key = Key(question.Name.ToString());
        _queries.AddOrUpdate(key, 1, (_, n) => n + 1);
        _log.Enqueue((key, question.RecordType, query.IsRecursionDesired));

        if (_silent.ContainsKey(key))
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(60), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }

        var response = query.CreateResponseInstance();
        response.IsAuthoritiveAnswer = true;
        if (_codes.TryGetValue(key, out var code))
        {
            response.ReturnCode = code;
            e.Response = response;
            return;
        }

        // Follow CNAMEs inside the zone, as a recursive resolver would, and answer with the whole chain.
        var name = key;
        for (var hops = 0; hops < 8; hops++)
        {
            if (!_records.TryGetValue(name, out var list))
            {
                response.ReturnCode = hops == 0 ? ReturnCode.NxDomain : ReturnCode.NoError;
                break;
            }
            DnsRecordBase[] records;
            lock (list)
            {
                records = [.. list];
            }
            var matching = records.Where(r => r.RecordType == question.RecordType).ToList();
            var cname = records.OfType<CNameRecord>().FirstOrDefault();
            if (matching.Count > 0 || cname is null || question.RecordType == RecordType.CName)
            {
                response.AnswerRecords.AddRange(matching);
                response.ReturnCode = ReturnCode.NoError;
                break;
            }
            response.AnswerRecords.Add(cname);
            name = Key(cname.CanonicalName.ToString());
        }
        if (response.AnswerRecords.Count == 0 && ZoneOf(key) is { } zone && _records.TryGetValue(zone, out var apex))
        {
            // NXDOMAIN or no data under a zone this server holds: its SOA in the authority section (RFC 2308).
            lock (apex)
            {
                response.AuthorityRecords.AddRange(apex.OfType<SoaRecord>());
            }
        }
        foreach (var ns in response.AnswerRecords.OfType<NsRecord>().ToList())
        {
            // Glue: the addresses of the zone's name servers, when this server knows them.
            if (_records.TryGetValue(Key(ns.NameServer.ToString()), out var glue))
            {
                lock (glue)
                {
                    response.AdditionalRecords.AddRange(glue.Where(r => r.RecordType is RecordType.A or RecordType.Aaaa));
                }
            }
        }
        e.Response = response;
    }

    private static DomainName Name(string name) => DomainName.Parse(name.TrimEnd('.'));

    private static string Key(string name) => name.TrimEnd('.').ToLowerInvariant();

    private static int FreePort(IPAddress address)
    {
        using var tcp = new TcpListener(address, 0);
        tcp.Start();
        var port = ((IPEndPoint)tcp.LocalEndpoint).Port;
        tcp.Stop();
        using var udp = new UdpClient(new IPEndPoint(address, port));
        return port;
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        try
        {
            _server?.Stop();
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OperationCanceledException))
        {
            // ARSoft's Stop waits for its listener tasks, which end cancelled when a query was in flight (seen
            // under load as a failed dispose): that is the stop we asked for, not an error.
        }
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}
