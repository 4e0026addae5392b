using System.Diagnostics;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures.BroadWorks;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>The OCI-P, OCI-over-SOAP and SIP exchanges in detail, and their broken variants.</summary>
public sealed class AppTestProtocolTests(BroadWorksLab lab) : IClassFixture<BroadWorksLab>
{
    private static JsonObject Short => new() { ["timeout"] = 1.0, ["ca_pem"] = BroadWorksLab.CaPem };

    [Fact]
    public async Task OpenClientServer_logs_in_on_2208_and_2209_with_a_fresh_session_and_logs_out()
    {
        lab.Heal();
        var before = lab.Oci.Received.Count;
        var first = await lab.RunOneAsync("OpenClientServer");
        var second = await lab.RunOneAsync("OpenClientServer");
        foreach (var result in new[] { first, second })
        {
            Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
            // 2208: the signed two-step login; 2209 (real-like: 22V5 only on TLS): LoginRequest22V5 inside TLS.
            foreach (var (transport, requests, responses) in new[]
            {
                ("oci", new[] { "AuthenticationRequest", "LoginRequest14sp4", "LogoutRequest" }, new[] { "AuthenticationResponse", "LoginResponse14sp4", "SuccessResponse" }),
                ("oci_tls", ["LoginRequest22V5", "LogoutRequest"], ["LoginResponse22V5", "SuccessResponse"]),
            })
            {
                var d = result["details"]![transport]!;
                Assert.True(d["ok"]!.GetValue<bool>(), d.ToJsonString());
                Assert.True(d["logged_out"]!.GetValue<bool>());
                Assert.Equal(requests.Single(r => r.StartsWith("LoginRequest", StringComparison.Ordinal)), d["login"]!.GetValue<string>());
                Assert.Equal(requests, d["requests"]!.AsArray().Select(r => r!["request"]!.GetValue<string>()));
                Assert.Equal(responses, d["requests"]!.AsArray().Select(r => r!["response"]!.GetValue<string>()));
            }
            Assert.Equal("MD5", result["details"]!["oci"]!["password_algorithm"]!.GetValue<string>());
            Assert.Equal("tls", result["details"]!["oci_tls"]!["transport"]!.GetValue<string>());
            Assert.Equal("commonName=adp.fixture.test", result["details"]!["oci_tls"]!["tls"]!["certificate"]!["subject"]!.GetValue<string>());
        }
        var commands = lab.Oci.Received.Skip(before).Select(r => r.Split(' ')).ToList();
        Assert.Equal(6, commands.Count);
        var sessions = commands.Select(c => c[0]).Distinct().ToList();
        Assert.Equal(2, sessions.Count);
        Assert.All(sessions, s => Assert.Matches("^remotetest-[0-9a-f]{32}$", s));
        Assert.Equal(2, commands.Count(c => c[1] == "LogoutRequest"));
        // The password itself never goes over OCI-P, only the signed hash.
        Assert.DoesNotContain(lab.Oci.RawRequests, r => r.Contains(BroadWorksLab.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenClientServer_with_sha_algorithm_signs_with_sha1()
    {
        await using var sha = FakeOciServer.Start(BroadWorksLab.Users, algorithm: "SHA");
        var data = lab.TestData();
        data["ports"]!["oci"] = sha.Port;
        var result = await lab.RunOneAsync("OpenClientServer", data);
        Assert.True(result["details"]!["oci"]!["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal("SHA", result["details"]!["oci"]!["password_algorithm"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenClientServer_reports_an_untrusted_2209_beside_a_good_2208()
    {
        lab.Heal();
        var result = await lab.RunOneAsync("OpenClientServer", null, new JsonObject { ["verify_ssl"] = true });
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal(["oci_tls"], result["failed_checks"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("tls_verify", result["details"]!["oci_tls"]!["error_kind"]!.GetValue<string>());
        Assert.Equal("commonName=adp.fixture.test", result["details"]!["oci_tls"]!["tls"]!["certificate"]!["subject"]!.GetValue<string>());
    }

    public static TheoryData<FaultMode, string, string> OciFaults => new()
    {
        { FaultMode.Garbage, "protocol_error", "invalid XML" },
        { FaultMode.CloseMidDocument, "protocol_error", "in the middle of a response document" },
        { FaultMode.NeverAnswer, "timeout", "timed out after 1.0 s" },
    };

    [Theory]
    [MemberData(nameof(OciFaults))]
    public async Task OpenClientServer_broken_server_variants(FaultMode fault, string kind, string words)
    {
        lab.Heal();
        lab.Oci.Fault = lab.OciTls.Fault = fault;
        try
        {
            var result = await lab.RunOneAsync("OpenClientServer", null, Short);
            BroadWorksLab.AssertFailed(result, kind, words);
            Assert.StartsWith("OpenClientServer login failed: ", result["error"]!.GetValue<string>());
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task OpenClientServer_refused_port_is_refused()
    {
        var data = lab.TestData();
        data["ports"]!["oci"] = AppTestApplicationTests.ClosedPort();
        data["ports"]!["oci_tls"] = AppTestApplicationTests.ClosedPort();
        var result = await lab.RunOneAsync("OpenClientServer", data, Short);
        Assert.Equal("refused", result["error_kind"]!.GetValue<string>());
        Assert.Contains("connection refused", result["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task OCIOverSoap_logs_in_reads_the_user_keeps_the_session_and_logs_out()
    {
        lab.Heal();
        var result = await lab.RunOneAsync("OCIOverSoap");
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        var d = result["details"]!;
        Assert.Equal(BroadWorksLab.User, d["userId"]!.GetValue<string>());
        Assert.Equal("2059784479", d["phoneNumber"]!.GetValue<string>());
        Assert.True(d["logged_out"]!.GetValue<bool>());
        Assert.Equal(["LoginResponse22V5", "UserGetResponse23", "SuccessResponse"], d["requests"]!.AsArray().Select(r => r!["response"]!.GetValue<string>()));
        Assert.All(d["requests"]!.AsArray(), r => Assert.Equal(200, r!["status"]!.GetValue<int>()));
        Assert.Equal(0, lab.Web.OpenSoapSessions);
    }

    public static TheoryData<FaultMode, string, string> SoapFaults => new()
    {
        { FaultMode.Status500, "http_status", "SOAP fault (HTTP 500): Internal server error" },
        { FaultMode.Garbage, "protocol_error", "invalid XML" },
        { FaultMode.CloseMidDocument, "protocol_error", "Login error: connection" },
        { FaultMode.NeverAnswer, "timeout", "timed out after 1.0 s" },
    };

    [Theory]
    [MemberData(nameof(SoapFaults))]
    public async Task OCIOverSoap_broken_server_variants(FaultMode fault, string kind, string words)
    {
        lab.Heal();
        lab.Web.Fault = fault;
        try
        {
            var result = await lab.RunOneAsync("OCIOverSoap", null, Short);
            BroadWorksLab.AssertFailed(result, kind, words);
            Assert.StartsWith("Login error: ", result["error"]!.GetValue<string>());
        }
        finally
        {
            lab.Heal();
        }
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    [InlineData("tls")]
    public async Task SipOptions_answers_on_each_transport(string transport)
    {
        lab.Heal();
        var data = lab.TestData();
        data["sip_transports"] = new JsonArray(transport);
        var result = await lab.RunOneAsync("SipOptions", data);
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        var d = result["details"]![transport]!.AsObject();
        Assert.Single(result["details"]!.AsObject());
        Assert.Equal(200, d["status"]!.GetValue<int>());
        Assert.Equal("SIP/2.0 200 OK", d["status_line"]!.GetValue<string>());
        Assert.Equal(Fixtures.Sip.SipResponder.ServerHeader, d["server"]!.GetValue<string>());
        Assert.True(d["rtt_ms"]!.GetValue<double>() >= 0);
        Assert.Equal(transport == "tls", d["tls"] is JsonObject);
        if (transport == "tls")
        {
            Assert.Equal("commonName=adp.fixture.test", d["tls"]!["certificate"]!["subject"]!.GetValue<string>());
            Assert.Contains("127.0.0.1", d["tls"]!["certificate"]!["sans"]!.AsArray().Select(n => n!.GetValue<string>()));
        }
    }

    public static TheoryData<string, FaultMode, string, string> SipFaults => new()
    {
        { "udp", FaultMode.NeverAnswer, "timeout", "timed out after 1.0 s" },
        { "tcp", FaultMode.Garbage, "protocol_error", "not a SIP response" },
        { "tls", FaultMode.Status500, "sip_status", "SIP 503 Service Unavailable" },
        { "udp", FaultMode.Status500, "sip_status", "SIP 503 Service Unavailable" },
    };

    [Theory]
    [MemberData(nameof(SipFaults))]
    public async Task SipOptions_failures_on_each_transport(string transport, FaultMode fault, string kind, string words)
    {
        lab.Heal();
        lab.Sip.Fault = fault;
        try
        {
            var data = lab.TestData();
            data["sip_transports"] = new JsonArray(transport);
            var result = await lab.RunOneAsync("SipOptions", data, Short);
            BroadWorksLab.AssertFailed(result, kind, words);
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task SipOptions_udp_retransmits_while_waiting()
    {
        lab.Heal();
        lab.Sip.Fault = FaultMode.NeverAnswer;
        try
        {
            var data = lab.TestData();
            data["sip_transports"] = new JsonArray("udp");
            var result = await lab.RunOneAsync("SipOptions", data, new JsonObject { ["timeout"] = 2.0 });
            // T1 = 0.5 s doubling: sends at 0, 0.5 and 1.5 s within a 2 s timeout.
            Assert.True(result["details"]!["udp"]!["sent"]!.GetValue<int>() >= 3, result.ToJsonString());
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task SipOptions_with_nothing_listening_on_udp_is_refused_or_times_out()
    {
        var data = lab.TestData();
        data["sip_transports"] = new JsonArray("udp", "tcp");
        data["ports"]!["sip"] = AppTestApplicationTests.ClosedPort();
        var result = await lab.RunOneAsync("SipOptions", data, Short);
        Assert.False(result["ok"]!.GetValue<bool>());
        Assert.Equal("refused", result["details"]!["tcp"]!["error_kind"]!.GetValue<string>());
        Assert.Contains(result["details"]!["udp"]!["error_kind"]!.GetValue<string>(), new[] { "refused", "timeout" });
    }

    [Fact]
    public async Task All_checks_of_all_hosts_run_at_once_under_one_deadline()
    {
        lab.Heal();
        lab.Web.Fault = FaultMode.NeverAnswer;
        lab.Oci.Fault = lab.OciTls.Fault = FaultMode.NeverAnswer;
        try
        {
            var apps = new[] { "OCIOverSoap", "Xsi-Actions", "Xsi-Events", "BWCallCenter", "BWReceptionist", "PublicReporting", "OCIFiles", "CommPilot", "ModeratorClientApp", "OpenClientServer" };
            var hosts = new JsonObject();
            foreach (var host in new[] { "127.0.0.1", "localhost" })
            {
                hosts[host] = new JsonObject { ["applications"] = new JsonArray([.. apps.Select(a => (JsonNode)a)]), ["test_data"] = lab.TestData() };
            }
            var payload = new JsonObject
            {
                ["task_name"] = "apptest.run",
                ["data"] = new JsonObject { ["args"] = new JsonArray(hosts), ["kwargs"] = new JsonObject { ["timeout"] = 1.0, ["ca_pem"] = BroadWorksLab.CaPem } },
            };
            var clock = Stopwatch.StartNew();
            var result = await lab.Service.RunAsync(payload, TimeSpan.FromSeconds(60));
            clock.Stop();
            // 2 hosts × 10 applications, about 36 hanging requests of 1 s each: one after another they would take well over 30 s.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"took {clock.Elapsed}");
            Assert.Equal(20, result["summary"]!["apps_attempted"]!.GetValue<int>());
            Assert.All(result["results"]!.AsObject().SelectMany(h => h.Value!.AsObject()),
                app => Assert.Equal("timeout", app.Value!["error_kind"]!.GetValue<string>()));
        }
        finally
        {
            lab.Heal();
        }
    }
}
