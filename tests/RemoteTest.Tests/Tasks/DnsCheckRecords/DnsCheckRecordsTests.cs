using System.Diagnostics;
using System.Text.Json.Nodes;
using ARSoft.Tools.Net.Dns;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tasks;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>dns.check_records through the real API against an in-process DNS server on loopback.</summary>
public sealed class DnsCheckRecordsTests : IAsyncLifetime
{
    private DnsTestServer _dns = null!;
    private ServiceHost _host = null!;

    public async Task InitializeAsync()
    {
        _dns = DnsTestServer.Start()
            .A("akixi.altvoip.com", "208.67.15.19", "208.67.15.18")
            .A("akixi.mymtm.us", "208.67.14.41", "208.67.15.41", "208.67.15.42")
            .A("order.test", "10.0.0.9", "10.0.0.10")
            .A("mixed.test", "10.1.0.1", "10.1.0.2", "10.2.0.1")
            .A("target.test", "192.0.2.7")
            .Cname("alias.test", "middle.test")
            .Cname("middle.test", "target.test")
            .Srv("_sip._tcp.voip.test", 10, 60, 5060, "sbc1.voip.test")
            .Srv("_sip._tcp.voip.test", 20, 40, 5060, "sbc2.voip.test")
            .Mx("mail.test", 10, "mx1.mail.test")
            .Txt("mail.test", "v=spf1 -all")
            .Aaaa("v6.test", "2001:db8::1")
            .A("v6.test", "192.0.2.60")
            .Fail("servfail.test", ReturnCode.ServerFailure)
            .Fail("refused.test", ReturnCode.Refused)
            .Silent("silent.test");
        for (var i = 0; i < 10; i++)
        {
            _dns.Silent($"silent{i}.test");
        }
        _host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private JsonObject Payload(JsonObject dnsData, JsonObject? kwargs = null)
    {
        kwargs ??= [];
        kwargs["nameservers"] ??= new JsonArray(_dns.NameServer);
        return new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["args"] = new JsonArray(dnsData), ["kwargs"] = kwargs },
        };
    }

    [Fact]
    public async Task Original_readme_payload_classifies_each_domain()
    {
        // The original README's dns_data verbatim, with nameservers added.
        var dnsData = JsonNode.Parse("""
            {
              "akixi.altvoip.com": {
                "original": ["208.67.15.19"],
                "13056": ["208.67.15.19", "208.67.15.18"],
                "13057": ["208.67.15.18"]
              },
              "akixi.mymtm.us": {
                "original": ["208.67.14.41", "208.67.15.41", "208.67.15.42"],
                "13056": ["208.67.14.41", "208.67.15.41", "208.67.15.42", "208.67.14.42", "208.67.15.39", "208.67.15.38"],
                "13057": ["208.67.14.42", "208.67.15.39", "208.67.15.38"]
              }
            }
            """)!.AsObject();
        var result = await _host.RunAsync(Payload(dnsData, new JsonObject { ["timeout"] = 3.0, ["include_text"] = true }));

        var altvoip = result["results"]!["akixi.altvoip.com"]!;
        Assert.Equal("A", altvoip["record_type"]!.GetValue<string>());
        Assert.Equal("13056", altvoip["state"]!.GetValue<string>());
        Assert.Equal(["208.67.15.18", "208.67.15.19"], Strings(altvoip["retrieved"]));
        Assert.Null(altvoip["error"]);
        Assert.True(altvoip.AsObject().ContainsKey("error"));
        Assert.Equal("akixi.altvoip.com: is in state 13056 ['208.67.15.18', '208.67.15.19']", altvoip["text"]!.GetValue<string>());
        Assert.Equal("NOERROR", altvoip["rcode"]!.GetValue<string>());
        Assert.Equal(300, altvoip["ttl"]!.GetValue<int>());

        var mymtm = result["results"]!["akixi.mymtm.us"]!;
        Assert.Equal("original", mymtm["state"]!.GetValue<string>());
        Assert.Equal("akixi.mymtm.us: is in state original", mymtm["text"]!.GetValue<string>());

        var summary = result["summary"]!;
        Assert.Equal(2, summary["domains"]!.GetValue<int>());
        Assert.True(summary["duration_sec"]!.GetValue<double>() >= 0);
        Assert.Null(summary["state"]);
        Assert.True(summary["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Single_positional_data_form_binds_dns_data()
    {
        // {"task_name", "data": X}: X is dns_data itself; the resolver comes from RemoteTest:Dns:DefaultNameservers.
        var result = await _host.RunAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["akixi.altvoip.com"] = new JsonObject { ["13056"] = new JsonArray("208.67.15.18", "208.67.15.19") } },
        });
        Assert.Equal("13056", result["results"]!["akixi.altvoip.com"]!["state"]!.GetValue<string>());
        Assert.Equal("13056", result["summary"]!["state"]!.GetValue<string>());

        using var response = await _host.PostTaskAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["bad domain!"] = new JsonObject { ["original"] = new JsonArray("1.2.3.4") } },
        });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("dns_data[\"bad domain!\"]", body["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Retrieved_is_sorted_as_python_sorts_strings_and_unknown_text_lists_it()
    {
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["order.test"] = new JsonObject { ["original"] = new JsonArray("10.0.0.1") },
        }));
        var r = result["results"]!["order.test"]!;
        Assert.Equal(["10.0.0.10", "10.0.0.9"], Strings(r["retrieved"]));
        Assert.Equal("unknown", r["state"]!.GetValue<string>());
        Assert.Equal("order.test: is in state unknown ['10.0.0.10', '10.0.0.9']", r["text"]!.GetValue<string>());
        Assert.False(result["summary"]!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Srv_names_are_queried_for_srv_and_rendered_like_the_original()
    {
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["_sip._tcp.voip.test"] = new JsonObject
            {
                ["original"] = new JsonArray("IN SRV 10 60 5060 sbc1.voip.test"),
                ["13056"] = new JsonArray("IN SRV 20 40 5060 sbc2.voip.test", "IN SRV 10 60 5060 sbc1.voip.test"),
            },
        }));
        var r = result["results"]!["_sip._tcp.voip.test"]!;
        Assert.Equal("SRV", r["record_type"]!.GetValue<string>());
        Assert.Equal(["IN SRV 10 60 5060 sbc1.voip.test", "IN SRV 20 40 5060 sbc2.voip.test"], Strings(r["retrieved"]));
        Assert.Equal("13056", r["state"]!.GetValue<string>());
        Assert.Equal("_sip._tcp.voip.test: is in state 13056", r["text"]!.GetValue<string>());
        Assert.Equal("13056", result["summary"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cname_chain_is_followed_and_reported()
    {
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["alias.test"] = new JsonObject { ["new"] = new JsonArray("192.0.2.7") },
        }));
        var r = result["results"]!["alias.test"]!;
        Assert.Equal("new", r["state"]!.GetValue<string>());
        Assert.Equal(["middle.test", "target.test"], Strings(r["cname_chain"]));
        Assert.Equal(3, r["answers"]!.AsArray().Count);
        Assert.Equal("CNAME", r["answers"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("alias.test: is in state new ['192.0.2.7']", r["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("missing.test", "NXDOMAIN", "nxdomain", "NXDOMAIN: The DNS query name does not exist: missing.test.")]
    [InlineData("servfail.test", "SERVFAIL", "servfail", "NoNameservers: All nameservers failed to answer the query servfail.test. IN A: Server Do53:127.0.0.1@{port} answered SERVFAIL")]
    [InlineData("refused.test", "REFUSED", "refused", "NoNameservers: All nameservers failed to answer the query refused.test. IN A: Server Do53:127.0.0.1@{port} answered REFUSED")]
    [InlineData("mail.test", "NOERROR", "no_answer", "NoAnswer: The DNS response does not contain an answer to the question: mail.test. IN A")]
    public async Task Resolver_errors_are_results_with_rcode_kind_and_the_original_text(string domain, string rcode, string kind, string error)
    {
        error = error.Replace("{port}", _dns.Port.ToString());
        var result = await _host.RunAsync(Payload(new JsonObject { [domain] = new JsonObject { ["original"] = new JsonArray("1.2.3.4") } }));
        var r = result["results"]![domain]!;
        Assert.Equal(rcode, r["rcode"]!.GetValue<string>());
        Assert.Equal(kind, r["error_kind"]!.GetValue<string>());
        Assert.Equal(error, r["error"]!.GetValue<string>());
        Assert.Empty(r["retrieved"]!.AsArray());
        Assert.Equal("unknown", r["state"]!.GetValue<string>());
        Assert.Equal($"Error querying A records for {domain}: {error}", r["text"]!.GetValue<string>());
        Assert.False(result["summary"]!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Silent_resolver_times_out_within_the_timeout_and_domains_resolve_concurrently()
    {
        // Ten silent names at 1 s each: one after another they would take 10 s.
        var data = new JsonObject();
        for (var i = 0; i < 10; i++)
        {
            data[$"silent{i}.test"] = new JsonObject { ["original"] = new JsonArray("1.2.3.4") };
        }
        data["akixi.mymtm.us"] = new JsonObject { ["original"] = new JsonArray("208.67.14.41", "208.67.15.41", "208.67.15.42") };
        var watch = Stopwatch.StartNew();
        var result = await _host.RunAsync(Payload(data, new JsonObject { ["timeout"] = 1.0 }));
        var r = result["results"]!["silent3.test"]!;
        Assert.Equal("timeout", r["error_kind"]!.GetValue<string>());
        Assert.StartsWith("LifetimeTimeout: The resolution lifetime expired after", r["error"]!.GetValue<string>());
        Assert.Null(r["rcode"]);
        Assert.Equal("original", result["results"]!["akixi.mymtm.us"]!["state"]!.GetValue<string>());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Without_include_text_there_is_no_text_member()
    {
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["target.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.7") },
        }, new JsonObject { ["include_text"] = false }));
        Assert.False(result["results"]!["target.test"]!.AsObject().ContainsKey("text"));
    }

    [Fact]
    public async Task Unknown_state_reports_closest_and_mixed_states()
    {
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["mixed.test"] = new JsonObject
            {
                ["original"] = new JsonArray("10.1.0.1", "10.1.0.2"),
                ["13056"] = new JsonArray("10.2.0.1"),
                ["13057"] = new JsonArray("10.2.0.1", "10.9.9.9"),
            },
        }));
        var r = result["results"]!["mixed.test"]!;
        Assert.Equal("unknown", r["state"]!.GetValue<string>());
        Assert.Equal("original", r["closest_state"]!.GetValue<string>());
        Assert.True(r["mixed"]!.GetValue<bool>());
        Assert.Equal(["13056", "original"], Strings(r["mixed_states"]));
    }

    [Fact]
    public async Task Record_type_override_queries_other_types()
    {
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["v6.test"] = new JsonObject { ["original"] = new JsonArray("2001:db8::1") },
        }, new JsonObject { ["record_type"] = "AAAA" }));
        var r = result["results"]!["v6.test"]!;
        Assert.Equal("AAAA", r["record_type"]!.GetValue<string>());
        Assert.Equal("original", r["state"]!.GetValue<string>());

        var mx = await _host.RunAsync(Payload(new JsonObject
        {
            ["mail.test"] = new JsonObject { ["original"] = new JsonArray("10 mx1.mail.test") },
        }, new JsonObject { ["record_type"] = "mx" }));
        Assert.Equal("original", mx["results"]!["mail.test"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Several_nameservers_that_disagree_make_the_domain_inconsistent_and_not_ok()
    {
        // A stale resolver (127.0.0.2) still answers the old address: a cutover check must not pass.
        await using var other = DnsTestServer.Start(System.Net.IPAddress.Parse("127.0.0.2"));
        other.A("akixi.altvoip.com", "208.67.15.19");
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["akixi.altvoip.com"] = new JsonObject
            {
                ["original"] = new JsonArray("208.67.15.19"),
                ["13056"] = new JsonArray("208.67.15.19", "208.67.15.18"),
            },
        }, new JsonObject { ["nameservers"] = new JsonArray(_dns.NameServer, other.NameServer) }));
        var r = result["results"]!["akixi.altvoip.com"]!;
        Assert.Equal("inconsistent", r["state"]!.GetValue<string>());
        Assert.False(r["ok"]!.GetValue<bool>());
        Assert.False(r["consistent"]!.GetValue<bool>());
        Assert.Equal("13056", r["by_nameserver"]![_dns.NameServer]!["state"]!.GetValue<string>());
        Assert.Equal("original", r["by_nameserver"]![other.NameServer]!["state"]!.GetValue<string>());
        Assert.Equal($"akixi.altvoip.com: is in state inconsistent ({_dns.NameServer}: 13056, {other.NameServer}: original)", r["text"]!.GetValue<string>());
        Assert.Equal(2, result["summary"]!["nameservers"]!.AsArray().Count);
        Assert.False(result["summary"]!["ok"]!.GetValue<bool>());
        Assert.Null(result["summary"]!["state"]);
    }

    [Fact]
    public async Task Several_nameservers_that_agree_give_their_state_and_ok()
    {
        await using var other = DnsTestServer.Start(System.Net.IPAddress.Parse("127.0.0.2"));
        other.A("akixi.altvoip.com", "208.67.15.18", "208.67.15.19");
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["akixi.altvoip.com"] = new JsonObject { ["13056"] = new JsonArray("208.67.15.19", "208.67.15.18") },
        }, new JsonObject { ["nameservers"] = new JsonArray(_dns.NameServer, other.NameServer) }));
        var r = result["results"]!["akixi.altvoip.com"]!;
        Assert.Equal("13056", r["state"]!.GetValue<string>());
        Assert.True(r["ok"]!.GetValue<bool>());
        Assert.True(r["consistent"]!.GetValue<bool>());
        Assert.True(result["summary"]!["ok"]!.GetValue<bool>());
        Assert.Equal("13056", result["summary"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_resolver_timing_out_while_others_answer_makes_the_domain_not_ok_with_its_error_kind()
    {
        await using var other = DnsTestServer.Start(System.Net.IPAddress.Parse("127.0.0.3"));
        other.Silent("akixi.altvoip.com");
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["akixi.altvoip.com"] = new JsonObject { ["13056"] = new JsonArray("208.67.15.19", "208.67.15.18") },
        }, new JsonObject { ["nameservers"] = new JsonArray(_dns.NameServer, other.NameServer), ["timeout"] = 0.5 }));
        var r = result["results"]!["akixi.altvoip.com"]!;
        // The answering resolver's state stands, but the domain is not ok: one resolver did not answer.
        Assert.Equal("13056", r["state"]!.GetValue<string>());
        Assert.False(r["ok"]!.GetValue<bool>());
        Assert.Null(r["by_nameserver"]![_dns.NameServer]!["error_kind"]);
        Assert.Equal("timeout", r["by_nameserver"]![other.NameServer]!["error_kind"]!.GetValue<string>());
        Assert.EndsWith($"; no answer from {other.NameServer} (timeout)", r["text"]!.GetValue<string>());
        Assert.False(result["summary"]!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task One_resolver_keeps_the_original_result_shape()
    {
        var result = await _host.RunAsync(Payload(new JsonObject
        {
            ["akixi.altvoip.com"] = new JsonObject { ["13056"] = new JsonArray("208.67.15.19", "208.67.15.18") },
        }));
        var r = result["results"]!["akixi.altvoip.com"]!.AsObject();
        Assert.False(r.ContainsKey("by_nameserver"));
        Assert.False(r.ContainsKey("consistent"));
        Assert.Equal("akixi.altvoip.com: is in state 13056 ['208.67.15.18', '208.67.15.19']", r["text"]!.GetValue<string>());
        Assert.True(r["ok"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("""{"dns_data": {}}""", "dns_data")]
    [InlineData("""{"dns_data": []}""", "dns_data")]
    [InlineData("""{"dns_data": {"a.test": {"original": "1.2.3.4"}}}""", "dns_data[\"a.test\"][\"original\"]")]
    [InlineData("""{"dns_data": {"a.test": {"original": [1]}}}""", "dns_data[\"a.test\"][\"original\"][0]")]
    [InlineData("""{"dns_data": {"a.test": {}}, "timeout": "3"}""", "timeout")]
    [InlineData("""{"dns_data": {"a.test": {}}, "timeout": -1}""", "timeout")]
    [InlineData("""{"dns_data": {"a.test": {}}, "timeout": 100000}""", "timeout")]
    [InlineData("""{"dns_data": {"a.test": {}}, "include_text": "yes"}""", "include_text")]
    [InlineData("""{"dns_data": {"a.test": {}}, "nameservers": ["resolver.example"]}""", "nameservers[0]")]
    [InlineData("""{"dns_data": {"a.test": {}}, "nameservers": "127.0.0.1"}""", "nameservers")]
    [InlineData("""{"dns_data": {"a.test": {}}, "record_type": "BOGUS"}""", "record_type")]
    [InlineData("""{"dns_data": {"a.test": {}}, "colour": "blue"}""", "data.kwargs.colour")]
    [InlineData("""{"timeout": 3}""", "dns_data")]
    public async Task Bad_arguments_are_400_naming_the_field(string kwargs, string field)
    {
        using var response = await _host.PostTaskAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["args"] = new JsonArray(), ["kwargs"] = JsonNode.Parse(kwargs) },
        });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, body["field"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(body["error"]!.GetValue<string>()));
    }

    [Fact]
    public void State_priority_is_numeric_descending_then_original_then_alphabetical()
    {
        Assert.Equal(["13057", "13056", "original", "alpha", "beta"], DnsStateMatch.Ordered(["beta", "original", "13056", "alpha", "13057"]));
        var states = new Dictionary<string, IReadOnlyList<string>>
        {
            ["original"] = ["1.1.1.1"],
            ["13056"] = ["1.1.1.1"],
            ["zeta"] = ["1.1.1.1"],
        };
        Assert.Equal("13056", DnsStateMatch.Match(["1.1.1.1"], states).State);
        states.Remove("13056");
        Assert.Equal("original", DnsStateMatch.Match(["1.1.1.1"], states).State);
    }

    [Fact]
    public void Text_lines_follow_the_original_exactly()
    {
        Assert.Equal("d: is in state 13056 ['1.1.1.1', '2.2.2.2']", DnsStateMatch.Render("d", "A", "13056", ["1.1.1.1", "2.2.2.2"], null));
        Assert.Equal("d: is in state 13056", DnsStateMatch.Render("d", "SRV", "13056", ["IN SRV 1 1 1 x"], null));
        Assert.Equal("d: is in state original", DnsStateMatch.Render("d", "A", "original", ["1.1.1.1"], null));
        Assert.Equal("d: is in state unknown []", DnsStateMatch.Render("d", "A", "unknown", [], null));
        Assert.Equal("Error querying SRV records for d: boom", DnsStateMatch.Render("d", "SRV", "unknown", [], "boom"));
    }

    private static string[] Strings(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
}
