using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Fixtures;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>porttest.run through the real service: the original's payload, validation, and a task of many hanging ports.</summary>
public sealed class PortTestApiTests
{
    private static JsonArray Ports(params int[] ports) => new([.. ports.Select(p => (JsonNode)p)]);

    [Fact]
    public async Task The_original_README_payload_with_loopback_hosts_returns_the_original_shapes()
    {
        using var pki = TestPki.Create();
        await using var http = OpenPortListener.Start();                                                      // "80"
        await using var https = TlsTestServer.Start(pki.IssueServer("localhost", ["localhost", "127.0.0.1"]), [pki.Intermediate]); // "443"
        using var closed = new ClosedPort();                                                                  // "2208"
        await using var oci = TlsTestServer.Start(pki.IssueServer("localhost", ["localhost", "127.0.0.1"]), [pki.Intermediate]);   // "2209"
        await using var xsi = OpenPortListener.Start();                                                       // "8011"
        await using var selfSigned = TlsTestServer.Start(TestPki.SelfSigned("adp.test", ["localhost", "127.0.0.1"]));             // "8012"
        int[] ports = [http.Port, https.Port, closed.Port, oci.Port, xsi.Port, selfSigned.Port];
        JsonObject HostEntry() => new()
        {
            ["ports"] = Ports(ports),
            ["applications"] = new JsonArray("OpenClientServer", "BWCallCenter", "BWReceptionist", "OCIOverSoap", "Xsi-Actions", "Xsi-Events", "PublicReporting"),
            ["test_data"] = new JsonObject { ["user_id"] = "2059784479@mymtm.us", ["password"] = "s3cret-pw" },
        };
        var payload = new JsonObject
        {
            ["task_name"] = "porttest.run",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = HostEntry(), ["localhost"] = HostEntry() }),
                // The README's kwargs, plus where this test's TLS ports are and the test CA.
                ["kwargs"] = new JsonObject
                {
                    ["timeout"] = 5.0,
                    ["verify_ssl"] = true,
                    ["tls_ports"] = Ports(https.Port, oci.Port, selfSigned.Port),
                    ["ca_pem"] = pki.RootPem,
                },
            },
        };

        await using var host = await ServiceHost.StartAsync();
        var id = await host.SubmitAsync(payload);
        var status = await host.WaitAsync(id);
        Assert.Equal("SUCCESS", status["state"]!.GetValue<string>());
        Assert.DoesNotContain("s3cret-pw", status.ToJsonString());
        var result = status["result"]!;

        var summary = result["summary"]!.AsObject();
        Assert.Equal(2, summary["hosts"]!.GetValue<int>());
        Assert.Equal(12, summary["ports_checked"]!.GetValue<int>());
        Assert.True(summary["duration_sec"]!.GetValue<double>() >= 0);
        Assert.Equal([https.Port, oci.Port, selfSigned.Port], summary["tls_ports"]!.AsArray().Select(p => p!.GetValue<int>()));
        Assert.True(summary["verify_ssl"]!.GetValue<bool>());
        Assert.False(summary["ok"]!.GetValue<bool>());

        Assert.Equal(["127.0.0.1", "localhost"], result["results"]!.AsObject().Select(h => h.Key));
        foreach (var name in new[] { "127.0.0.1", "localhost" })
        {
            var entry = result["results"]![name]!;
            Assert.Equal(ports.Select(p => p.ToString()), entry["ports"]!.AsObject().Select(p => p.Key));
            Assert.Equal([closed.Port, selfSigned.Port], entry["failed_ports"]!.AsArray().Select(p => p!.GetValue<int>()));
            JsonObject Port(int p) => entry["ports"]![p.ToString()]!.AsObject();

            foreach (var plain in new[] { http.Port, xsi.Port })
            {
                Assert.True(Port(plain)["open"]!.GetValue<bool>());
                Assert.Null(Port(plain)["error"]);
                Assert.False(Port(plain).ContainsKey("tls"));
            }
            Assert.False(Port(closed.Port)["open"]!.GetValue<bool>());
            Assert.Equal("connection refused", Port(closed.Port)["error"]!.GetValue<string>());

            foreach (var tlsPort in new[] { https.Port, oci.Port })
            {
                var tls = Port(tlsPort)["tls"]!.AsObject();
                Assert.Equal(["loaded", "cn", "not_after", "expires_utc", "issuer", "serial_number", "error"], tls.Select(f => f.Key).Take(7));
                Assert.True(tls["loaded"]!.GetValue<bool>(), tls.ToJsonString());
                Assert.Equal("localhost", tls["cn"]!.GetValue<string>());
                Assert.Null(tls["error"]);
            }
            var refused = Port(selfSigned.Port)["tls"]!;
            Assert.False(refused["loaded"]!.GetValue<bool>());
            Assert.Equal("adp.test", refused["cn"]!.GetValue<string>());
            Assert.StartsWith("self-signed certificate", refused["error"]!.GetValue<string>());
        }
        Assert.Equal("localhost", result["results"]!["localhost"]!["ports"]![https.Port.ToString()]!["tls"]!["server_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_task_of_200_hanging_ports_with_timeout_1_ends_in_well_under_200_seconds()
    {
        var hanging = await HangingPort.OpenManyAsync(200);
        try
        {
            await using var host = await ServiceHost.StartAsync();
            var payload = new JsonObject
            {
                ["task_name"] = "porttest.run",
                ["data"] = new JsonObject
                {
                    ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = Ports([.. hanging.Select(h => h.Port)]) } }),
                    ["kwargs"] = new JsonObject { ["timeout"] = 1 },
                },
            };
            var clock = Stopwatch.StartNew();
            var result = await host.RunAsync(payload, TimeSpan.FromSeconds(60));
            clock.Stop();

            // Loose bound, as the issue asks (one after another would take 200 s); the real figure belongs in bench/.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"200 hanging ports took {clock.Elapsed}");
            var ports = result["results"]!["127.0.0.1"]!["ports"]!.AsObject();
            Assert.Equal(200, ports.Count);
            Assert.All(ports, p => Assert.Equal("timed out after 1.0 s", p.Value!["error"]!.GetValue<string>()));
            Assert.All(ports, p => Assert.Equal("timeout", p.Value!["error_kind"]!.GetValue<string>()));
            Assert.Equal(200, result["results"]!["127.0.0.1"]!["failed_ports"]!.AsArray().Count);
            Assert.Equal(200, result["summary"]!["ports_checked"]!.GetValue<int>());
        }
        finally
        {
            foreach (var port in hanging)
            {
                port.Dispose();
            }
        }
    }

    [Fact]
    public async Task Ports_given_as_numeric_strings_are_accepted_as_the_original_socket_call_did()
    {
        await using var open = OpenPortListener.Start();
        await using var host = await ServiceHost.StartAsync();
        var result = await host.RunAsync(new JsonObject
        {
            ["task_name"] = "porttest.run",
            ["data"] = new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray(open.Port.ToString()) } },
        });
        Assert.True(result["results"]!["127.0.0.1"]!["ports"]![open.Port.ToString()]!["open"]!.GetValue<bool>());
    }

    public static TheoryData<string, string> BadArguments => new()
    {
        { """{"h1.test": {"ports": [1, 2]}, "h2.test": {"ports": [1, 2, 3, 4]}}""", "data" },
        { """{"bad host!": {"ports": [80]}}""", "data[\"bad host!\"]" },
        { """{"ok.test": {"ports": [80, 0]}}""", "data[\"ok.test\"].ports[1]" },
        { """{"ok.test": {"ports": [70000]}}""", "data[\"ok.test\"].ports[0]" },
        { """{"ok.test": {"ports": "80"}}""", "data[\"ok.test\"].ports" },
        { """{"ok.test": [80]}""", "data[\"ok.test\"]" },
        { """{"ok.test": {"ports": [80], "expect_open": [80], "expect_closed": [80]}}""", "data[\"ok.test\"].expect_closed" },
        { """{"ok.test": {"ports": [80], "sni": "10.0.0.1"}}""", "data[\"ok.test\"].sni" },
        { """["ok.test"]""", "data" },
    };

    public static TheoryData<string, string> BadKeywords => new()
    {
        { """{"timeout": 0}""", "timeout" },
        { """{"timeout": 100000}""", "timeout" },
        { """{"verify_ssl": "no"}""", "verify_ssl" },
        { """{"tls_ports": 443}""", "tls_ports" },
        { """{"tls_ports": [443, 0]}""", "tls_ports[1]" },
        { """{"max_workers": 0}""", "max_workers" },
        { """{"sni": "not a name"}""", "sni" },
        { """{"ca_pem": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"}""", "ca_pem" },
        { """{"ca_pem": "no pem here"}""", "ca_pem" },
        { """{"all_addresses": 1}""", "all_addresses" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task Bad_data_is_400_naming_the_field_and_nothing_is_stored(string data, string field) =>
        await AssertRejectedAsync("{\"task_name\": \"porttest.run\", \"data\": {\"args\": [" + data + "]}}", field);

    [Theory]
    [MemberData(nameof(BadKeywords))]
    public async Task Bad_keywords_are_400_naming_the_field(string kwargs, string field) =>
        await AssertRejectedAsync("{\"task_name\": \"porttest.run\", \"data\": {\"args\": [{\"ok.test\": {\"ports\": [80]}}], \"kwargs\": " + kwargs + "}}", field);

    private static async Task AssertRejectedAsync(string body, string field)
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Limits:MaxChecksPerTask"] = "5" });
        using var response = await host.Http.PostAsync("/task", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(400 == (int)response.StatusCode, json.ToJsonString());
        Assert.Equal(field, json["field"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(json["error"]!.GetValue<string>()));
        var page = await host.Services.GetRequiredService<ITaskStore>().ListAsync(new TaskQuery(), CancellationToken.None);
        Assert.Empty(page.Tasks);
    }

    [Fact]
    public async Task A_bad_configured_CA_stops_start_up_naming_the_setting()
    {
        var ex = await Assert.ThrowsAsync<StartupException>(() => ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Tls:CaPem"] = "garbage" }));
        Assert.Contains("RemoteTest:Tls:CaPem", ex.Message);
    }
}
