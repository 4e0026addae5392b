using System.Net;
using System.Text.Json.Nodes;
using ARSoft.Tools.Net.Dns;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>NAPTR, PTR, SOA, CAA, TLSA, DS and DNSKEY rendered one stable line per record, and the RFC 3263 SIP tree.</summary>
public sealed class DnsRecordTypesTests : IAsyncLifetime
{
    private static readonly byte[] Association = [0xAB, 0xCD, 0x01, 0x23];
    private static readonly byte[] Key = [1, 2, 3, 4, 5, 6];
    private DnsTestServer _dns = null!;
    private ServiceHost _host = null!;

    public async Task InitializeAsync()
    {
        _dns = DnsTestServer.Start()
            .Soa("voip.test", 2026120201)
            .Naptr("voip.test", 20, 10, "S", "SIP+D2U", "_sip._udp.voip.test")
            .Naptr("voip.test", 10, 10, "S", "SIP+D2T", "_sip._tcp.voip.test")
            .Naptr("voip.test", 5, 10, "U", "E2U+sip", "ignored.voip.test")
            .Srv("_sip._tcp.voip.test", 10, 60, 5060, "sbc1.voip.test")
            .Srv("_sip._tcp.voip.test", 20, 40, 5070, "sbc2.voip.test")
            .Srv("_sip._udp.voip.test", 10, 60, 5060, "sbc1.voip.test")
            .A("sbc1.voip.test", "192.0.2.10")
            .A("sbc2.voip.test", "192.0.2.20")
            .Aaaa("sbc2.voip.test", "2001:db8::20")
            .Srv("_sip._tcp.srvonly.test", 10, 10, 5080, "sbc1.voip.test")
            .A("aonly.test", "192.0.2.30")
            .Ptr("192.0.2.10", "sbc1.voip.test")
            .Ptr("2001:db8::20", "sbc2.voip.test")
            .Record(new CAARecord(DnsTestServer.NameOf("voip.test"), 300, 0, "issue", "letsencrypt.org"))
            .Record(new TlsaRecord(DnsTestServer.NameOf("_5061._tcp.sbc1.voip.test"), 300, TlsaRecord.TlsaCertificateUsage.DaneEE,
                TlsaRecord.TlsaSelector.SubjectPublicKeyInfo, TlsaRecord.TlsaMatchingType.Sha256Hash, Association))
            .Record(new DsRecord(DnsTestServer.NameOf("voip.test"), RecordClass.INet, 300, 12345, DnsSecAlgorithm.EcDsaP256Sha256, DnsSecDigestType.Sha256, Association))
            .Record(new DnsKeyRecord(DnsTestServer.NameOf("voip.test"), RecordClass.INet, 300, DnsKeyFlags.Zone | DnsKeyFlags.SecureEntryPoint, 3,
                DnsSecAlgorithm.EcDsaP256Sha256, Key, null));
        _host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private async Task<JsonNode> OneAsync(string domain, string? recordType, params string[] expected)
    {
        var kwargs = new JsonObject();
        if (recordType is not null)
        {
            kwargs["record_type"] = recordType;
        }
        var result = await _host.RunAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { [domain] = new JsonObject { ["expected"] = new JsonArray([.. expected.Select(e => (JsonNode)e)]) } }),
                ["kwargs"] = kwargs,
            },
        });
        var r = result["results"]![domain]!;
        Assert.True(r["state"]!.GetValue<string>() == "expected", r.ToJsonString());
        Assert.Equal(expected.Order(StringComparer.Ordinal), r["retrieved"]!.AsArray().Select(n => n!.GetValue<string>()));
        return r;
    }

    [Theory]
    [InlineData("voip.test", "NAPTR", new[] { "5 10 \"U\" \"E2U+sip\" \"\" ignored.voip.test", "10 10 \"S\" \"SIP+D2T\" \"\" _sip._tcp.voip.test", "20 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.voip.test" })]
    [InlineData("voip.test", "SOA", new[] { "ns1.voip.test hostmaster.voip.test 2026120201 3600 600 86400 300" })]
    [InlineData("voip.test", "CAA", new[] { "0 issue \"letsencrypt.org\"" })]
    [InlineData("_5061._tcp.sbc1.voip.test", "TLSA", new[] { "3 1 1 ABCD0123" })]
    [InlineData("voip.test", "DS", new[] { "12345 13 2 ABCD0123" })]
    [InlineData("voip.test", "DNSKEY", new[] { "257 3 13 AQIDBAUG" })]
    [InlineData("192.0.2.10", null, new[] { "sbc1.voip.test" })]
    [InlineData("2001:db8::20", null, new[] { "sbc2.voip.test" })]
    public async Task Each_type_is_one_stable_line_per_record_matched_against_states(string domain, string? type, string[] expected)
    {
        var r = await OneAsync(domain, type, expected);
        Assert.Equal(type ?? "PTR", r["record_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sip_resolution_follows_naptr_then_srv_then_addresses_as_a_tree()
    {
        var r = await OneAsync("voip.test", "SIP", "tcp 192.0.2.10:5060", "tcp 192.0.2.20:5070", "tcp [2001:db8::20]:5070", "udp 192.0.2.10:5060");
        Assert.Equal("SIP", r["record_type"]!.GetValue<string>());
        Assert.Equal("voip.test: is in state expected", r["text"]!.GetValue<string>());
        var sip = r["sip"]!;
        Assert.Equal("naptr", sip["source"]!.GetValue<string>());
        var naptr = sip["naptr"]!.AsArray();
        // The "U" (ENUM) record is not SIP server location; the rest in NAPTR order.
        Assert.Equal(["tcp", "udp"], naptr.Select(n => n!["transport"]!.GetValue<string>()));
        Assert.Equal("10 10 \"S\" \"SIP+D2T\" \"\" _sip._tcp.voip.test", naptr[0]!["record"]!.GetValue<string>());
        var srv = naptr[0]!["srv"]!.AsArray();
        Assert.Equal(["sbc1.voip.test", "sbc2.voip.test"], srv.Select(s => s!["target"]!.GetValue<string>()));
        Assert.Equal(["192.0.2.20", "2001:db8::20"], srv[1]!["addresses"]!.AsArray().Select(a => a!.GetValue<string>()));
        // Targets in the order a client tries them: NAPTR order, then SRV priority.
        Assert.Equal(["tcp 192.0.2.10:5060", "tcp 192.0.2.20:5070", "tcp [2001:db8::20]:5070", "udp 192.0.2.10:5060"],
            sip["targets"]!.AsArray().Select(t => $"{t!["transport"]} {(t["address"]!.GetValue<string>().Contains(':') ? $"[{t["address"]}]" : t["address"]!.ToString())}:{t["port"]}"));

        var srvOnly = await OneAsync("srvonly.test", "SIP", "tcp 192.0.2.10:5080");
        Assert.Equal("srv", srvOnly["sip"]!["source"]!.GetValue<string>());
        var aOnly = await OneAsync("aonly.test", "SIP", "udp 192.0.2.30:5060");
        Assert.Equal("a", aOnly["sip"]!["source"]!.GetValue<string>());
    }
}
