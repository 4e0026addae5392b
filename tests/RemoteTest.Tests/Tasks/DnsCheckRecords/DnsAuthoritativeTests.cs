using System.Net;
using System.Text.Json.Nodes;
using ARSoft.Tools.Net.Dns;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>
/// authoritative: true against a zone served by three in-process authoritative servers on 127.0.0.2-4 (one of them
/// stale: older serial, old answer), found through a loopback resolver that holds the zone's SOA, NS and glue;
/// and named resolver sets (loopback sets only: no packet ever goes to a public address).
/// </summary>
public sealed class DnsAuthoritativeTests : IAsyncLifetime
{
    private const string Zone = "cut.test";
    private DnsTestServer _resolver = null!;
    private IReadOnlyList<DnsTestServer> _authorities = null!;
    private ServiceHost _host = null!;

    public async Task InitializeAsync()
    {
        _authorities = DnsTestServer.StartMany(IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4"));
        _resolver = DnsTestServer.Start()
            .Soa(Zone, 2026120202)
            .Ns(Zone, "ns1.cut.test").Ns(Zone, "ns2.cut.test").Ns(Zone, "ns3.cut.test")
            .A("ns1.cut.test", "127.0.0.2").A("ns2.cut.test", "127.0.0.3").A("ns3.cut.test", "127.0.0.4")
            .A("sip.cut.test", "192.0.2.11")
            .A("same.cut.test", "192.0.2.30");
        for (var i = 0; i < _authorities.Count; i++)
        {
            var stale = i == 2;
            _authorities[i].Soa(Zone, stale ? 2026120201u : 2026120202u)
                .A("sip.cut.test", stale ? "192.0.2.10" : "192.0.2.11")
                .A("same.cut.test", "192.0.2.30");
        }
        _host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Dns:DefaultNameservers:0"] = _resolver.NameServer,
            ["RemoteTest:Dns:AuthoritativePort"] = _authorities[0].Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RemoteTest:Dns:ResolverSets:lab:0"] = _resolver.NameServer,
            ["RemoteTest:Dns:ResolverSets:lab:1"] = _authorities[0].NameServer,
            // "public" replaced by a loopback set: the built-in one must never be asked from a test.
            ["RemoteTest:Dns:ResolverSets:public:0"] = _resolver.NameServer,
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _resolver.DisposeAsync();
        foreach (var a in _authorities)
        {
            await a.DisposeAsync();
        }
    }

    private static JsonObject Payload(string domain, JsonObject kwargs) => new()
    {
        ["task_name"] = "dns.check_records",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject { [domain] = new JsonObject { ["original"] = new JsonArray("192.0.2.10"), ["13056"] = new JsonArray("192.0.2.11"), ["stable"] = new JsonArray("192.0.2.30") } }),
            ["kwargs"] = kwargs,
        },
    };

    [Fact]
    public async Task A_stale_authoritative_server_shows_its_old_answer_and_serial_and_the_domain_is_not_ok()
    {
        var result = await _host.RunAsync(Payload("sip.cut.test", new JsonObject { ["authoritative"] = true, ["timeout"] = 2.0 }));
        var r = result["results"]!["sip.cut.test"]!;
        var auth = r["authoritative"]!;
        Assert.Equal(Zone, auth["zone"]!.GetValue<string>());
        Assert.Equal(["ns1.cut.test", "ns2.cut.test", "ns3.cut.test"], auth["nameservers"]!.AsArray().Select(n => n!.GetValue<string>()));
        var servers = auth["servers"]!.AsObject();
        Assert.Equal(3, servers.Count);
        var stale = servers[_authorities[2].NameServer]!;
        Assert.Equal("ns3.cut.test", stale["name"]!.GetValue<string>());
        Assert.Equal("original", stale["state"]!.GetValue<string>());
        Assert.Equal(2026120201, stale["soa_serial"]!.GetValue<long>());
        Assert.Equal("NOERROR", stale["rcode"]!.GetValue<string>());
        Assert.Equal(["192.0.2.10"], stale["retrieved"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("13056", servers[_authorities[0].NameServer]!["state"]!.GetValue<string>());
        Assert.Equal(2026120202, servers[_authorities[1].NameServer]!["soa_serial"]!.GetValue<long>());
        Assert.Equal([2026120201L, 2026120202L], auth["serials"]!.AsArray().Select(n => n!.GetValue<long>()));
        Assert.False(auth["consistent"]!.GetValue<bool>());
        Assert.Equal("inconsistent", r["state"]!.GetValue<string>());
        Assert.False(r["ok"]!.GetValue<bool>());
        Assert.False(result["summary"]!["ok"]!.GetValue<bool>());
        Assert.True(result["summary"]!["authoritative"]!.GetValue<bool>());

        // Asked directly with recursion off; the resolver with it on.
        Assert.Contains(_authorities[2].Queries, q => q.Name == "sip.cut.test" && q.Type == RecordType.A && !q.RecursionDesired);
        Assert.Contains(_authorities[2].Queries, q => q.Name == Zone && q.Type == RecordType.Soa && !q.RecursionDesired);
        Assert.All(_authorities.SelectMany(a => a.Queries), q => Assert.False(q.RecursionDesired));
    }

    [Fact]
    public async Task When_every_authoritative_server_agrees_the_domain_is_consistent_and_ok()
    {
        foreach (var a in _authorities)
        {
            a.Clear(Zone);
            a.Soa(Zone, 2026120203);
        }
        var result = await _host.RunAsync(Payload("same.cut.test", new JsonObject { ["authoritative"] = true, ["timeout"] = 2.0 }));
        var r = result["results"]!["same.cut.test"]!;
        Assert.True(r["authoritative"]!["consistent"]!.GetValue<bool>(), r.ToJsonString());
        Assert.Equal([2026120203L], r["authoritative"]!["serials"]!.AsArray().Select(n => n!.GetValue<long>()));
        Assert.Equal("stable", r["state"]!.GetValue<string>());
        Assert.True(r["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_named_resolver_set_is_asked_like_a_list_and_an_unknown_one_is_400()
    {
        var result = await _host.RunAsync(Payload("sip.cut.test", new JsonObject { ["nameservers"] = "lab" }));
        Assert.Equal("lab", result["summary"]!["resolver_set"]!.GetValue<string>());
        Assert.Equal([_resolver.NameServer, _authorities[0].NameServer], result["summary"]!["nameservers"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(2, result["results"]!["sip.cut.test"]!["by_nameserver"]!.AsObject().Count);
        Assert.Equal("13056", result["results"]!["sip.cut.test"]!["state"]!.GetValue<string>());

        var configuredPublic = await _host.RunAsync(Payload("sip.cut.test", new JsonObject { ["nameservers"] = "public" }));
        Assert.Equal([_resolver.NameServer], configuredPublic["summary"]!["nameservers"]!.AsArray().Select(n => n!.GetValue<string>()));

        using var response = await _host.PostTaskAsync(Payload("sip.cut.test", new JsonObject { ["nameservers"] = "nosuchset" }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("nameservers", body["field"]!.GetValue<string>());
        Assert.Contains("lab", body["error"]!.GetValue<string>());
        using var bad = await _host.PostTaskAsync(Payload("sip.cut.test", new JsonObject { ["authoritative"] = "yes" }));
        Assert.Equal("authoritative", JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["field"]!.GetValue<string>());
    }

    [Fact]
    public void The_built_in_public_set_is_documented_and_only_public_addresses()
    {
        var set = RemoteTest.Tasks.DnsCheckOptions.BuiltInResolverSets["public"];
        Assert.Contains("1.1.1.1", set);
        Assert.Contains("8.8.8.8", set);
        Assert.Contains("9.9.9.9", set);
        Assert.All(set, a => Assert.False(IPAddress.IsLoopback(IPAddress.Parse(a))));
    }
}
