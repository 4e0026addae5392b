using System.Net;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures.BroadWorks;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Fixtures.Sip;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>apptest SipOptions with test_data.sip_domain: RFC 3263 resolution through a loopback DNS server, an OPTIONS to every target.</summary>
public sealed class AppTestSipDomainTests : IAsyncLifetime
{
    private const string Domain = "voip.lab.test";
    private SipResponder _a = null!;
    private SipResponder _b = null!;
    private DnsTestServer _dns = null!;
    private ServiceHost _host = null!;

    public async Task InitializeAsync()
    {
        _a = SipResponder.Start(FixtureCertificates.Instance.Context, IPAddress.Loopback);
        _b = SipResponder.Start(FixtureCertificates.Instance.Context, IPAddress.Parse("127.0.0.2"));
        _dns = DnsTestServer.Start()
            .Naptr(Domain, 10, 10, "S", "SIP+D2T", $"_sip._tcp.{Domain}")
            .Naptr(Domain, 20, 10, "S", "SIP+D2U", $"_sip._udp.{Domain}")
            .Srv($"_sip._tcp.{Domain}", 10, 10, (ushort)_a.Port, $"sbc-a.{Domain}")
            .Srv($"_sip._udp.{Domain}", 10, 10, (ushort)_a.Port, $"sbc-a.{Domain}")
            .Srv($"_sip._udp.{Domain}", 20, 10, (ushort)_b.Port, $"sbc-b.{Domain}")
            .A($"sbc-a.{Domain}", "127.0.0.1")
            .A($"sbc-b.{Domain}", "127.0.0.2");
        _host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _dns.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private static JsonObject Payload(string sipDomain) => new()
    {
        ["task_name"] = "apptest.run",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject
            {
                ["127.0.0.1"] = new JsonObject
                {
                    ["applications"] = new JsonArray("SipOptions"),
                    ["test_data"] = new JsonObject { ["sip_domain"] = sipDomain, ["sip_transports"] = new JsonArray("udp", "tcp") },
                },
            }),
            ["kwargs"] = new JsonObject { ["timeout"] = 2.0 },
        },
    };

    [Fact]
    public async Task Every_resolved_target_is_probed_and_one_silent_target_fails_the_application()
    {
        var result = await _host.RunAsync(Payload(Domain));
        var sip = result["results"]!["127.0.0.1"]!["SipOptions"]!;
        Assert.True(sip["ok"]!.GetValue<bool>(), sip.ToJsonString());
        var details = sip["details"]!;
        Assert.Equal([$"127.0.0.1:{_a.Port}", $"127.0.0.2:{_b.Port}"], details["udp"]!.AsObject().Select(kv => kv.Key).Order());
        Assert.Equal([$"127.0.0.1:{_a.Port}"], details["tcp"]!.AsObject().Select(kv => kv.Key));
        Assert.Equal($"sbc-b.{Domain}", details["udp"]![$"127.0.0.2:{_b.Port}"]!["target"]!.GetValue<string>());
        Assert.Equal(200, details["udp"]![$"127.0.0.2:{_b.Port}"]!["status"]!.GetValue<int>());
        Assert.Equal("naptr", details["resolution"]!["source"]!.GetValue<string>());
        Assert.Equal(3, details["resolution"]!["targets"]!.AsArray().Count);
        // The second SBC, found only through the SRV records, got its OPTIONS.
        Assert.Contains("UDP OPTIONS", _b.Received);

        _b.Fault = FaultMode.NeverAnswer;
        var failed = (await _host.RunAsync(Payload(Domain)))["results"]!["127.0.0.1"]!["SipOptions"]!;
        Assert.False(failed["ok"]!.GetValue<bool>());
        Assert.Equal("timeout", failed["error_kind"]!.GetValue<string>());
        Assert.Equal([$"udp 127.0.0.2:{_b.Port}"], failed["failed_checks"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task A_domain_that_resolves_to_nothing_fails_and_a_bad_one_is_400()
    {
        var nothing = (await _host.RunAsync(Payload("nothing.lab.test")))["results"]!["127.0.0.1"]!["SipOptions"]!;
        Assert.False(nothing["ok"]!.GetValue<bool>());
        Assert.Contains("no SIP server found for nothing.lab.test", nothing["error"]!.GetValue<string>());

        using var response = await _host.PostTaskAsync(Payload("not a domain!"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("data[\"127.0.0.1\"].test_data.sip_domain", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["field"]!.GetValue<string>());
    }
}
