using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Fixtures;
using RemoteTest.Probes;
using RemoteTest.Tasks;

namespace RemoteTest.Tests;

/// <summary>porttest.run as a task: every check's fields, verify_ssl both ways, expectations, names and addresses.</summary>
public sealed class PortTestTaskTests : IDisposable
{
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose() => _pki.Dispose();

    /// <summary>Runs the task the way the worker does (bind, parse, run, serialise) and returns the wire JSON.</summary>
    internal static async Task<JsonObject> RunAsync(JsonObject data, JsonObject? kwargs = null, IHostResolver? resolver = null,
        Action<RemoteTestOptions>? configure = null, TaskContext? context = null)
    {
        var options = new RemoteTestOptions();
        configure?.Invoke(options);
        var task = new PortTest(Options.Create(options.Limits), Options.Create(options.PathTrace), Options.Create(options.PortTest),
            resolver ?? new SystemHostResolver(), new TcpConnector(TimeProvider.System), new TlsTrust(Options.Create(options.Tls)), TimeProvider.System);
        var arguments = TaskArguments.Bind(task.Parameters, [data.DeepClone()], (JsonObject?)kwargs?.DeepClone() ?? []);
        var result = await task.RunAsync(task.ParseArguments(arguments), context ?? new TaskContext(Guid.NewGuid()), CancellationToken.None);
        return JsonSerializer.SerializeToNode(result, result.GetType(), RemoteTestJson.Options)!.AsObject();
    }

    private static JsonObject Host(params int[] ports) => new() { ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)p)]) };

    private static JsonArray Ports(params int[] ports) => new([.. ports.Select(p => (JsonNode)p)]);

    private static JsonObject Port(JsonObject result, string host, int port) => result["results"]![host]!["ports"]![port.ToString()]!.AsObject();

    private static int[] Failed(JsonObject result, string host) => result["results"]![host]!["failed_ports"]!.AsArray().Select(p => p!.GetValue<int>()).ToArray();

    [Fact]
    public async Task Open_closed_hanging_and_non_TLS_ports_have_the_original_shape_plus_timings()
    {
        await using var open = OpenPortListener.Start();
        using var closed = new ClosedPort();
        using var hanging = await HangingPort.OpenAsync();

        var result = await RunAsync(new JsonObject { ["127.0.0.1"] = Host(open.Port, closed.Port, hanging.Port) },
            new JsonObject { ["timeout"] = 1.0, ["tls_ports"] = new JsonArray() });

        var o = Port(result, "127.0.0.1", open.Port);
        Assert.True(o["open"]!.GetValue<bool>());
        Assert.Null(o["error"]);
        Assert.True(o.ContainsKey("error"));
        Assert.Null(o["error_kind"]);
        Assert.False(o.ContainsKey("tls"));
        Assert.Equal("127.0.0.1", o["address"]!.GetValue<string>());
        Assert.True(o["connect_ms"]!.GetValue<double>() >= 0);
        Assert.Equal(o["connect_ms"]!.GetValue<double>() / 1000, o["connect_seconds"]!.GetValue<double>(), 3);
        Assert.Null(o["tls_seconds"]);
        Assert.Equal("open", o["expected"]!.GetValue<string>());
        Assert.True(o["ok"]!.GetValue<bool>());

        var c = Port(result, "127.0.0.1", closed.Port);
        Assert.False(c["open"]!.GetValue<bool>());
        Assert.Equal("connection refused", c["error"]!.GetValue<string>());
        Assert.Equal("refused", c["error_kind"]!.GetValue<string>());
        Assert.False(c.ContainsKey("tls"));

        var h = Port(result, "127.0.0.1", hanging.Port);
        Assert.False(h["open"]!.GetValue<bool>());
        Assert.Equal("timed out after 1.0 s", h["error"]!.GetValue<string>());
        Assert.Equal("timeout", h["error_kind"]!.GetValue<string>());

        Assert.Equal([closed.Port, hanging.Port], Failed(result, "127.0.0.1"));
        Assert.Equal(["127.0.0.1"], result["results"]!["127.0.0.1"]!["addresses"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Null(result["results"]!["127.0.0.1"]!["error"]);
        Assert.False(result["results"]!["127.0.0.1"]!.AsObject().ContainsKey("by_address"));

        var summary = result["summary"]!;
        Assert.Equal(1, summary["hosts"]!.GetValue<int>());
        Assert.Equal(3, summary["ports_checked"]!.GetValue<int>());
        Assert.Empty(summary["tls_ports"]!.AsArray());
        Assert.True(summary["verify_ssl"]!.GetValue<bool>());
        Assert.False(summary["ok"]!.GetValue<bool>());
        Assert.Equal(1, summary["ports_open"]!.GetValue<int>());
        Assert.Equal(2, summary["ports_failed"]!.GetValue<int>());
        Assert.True(summary["duration_sec"]!.GetValue<double>() >= 0.9);
    }

    /// <summary>The certificate cases a TLS port can present, each on its own loopback server.</summary>
    private sealed class TlsZoo : IAsyncDisposable
    {
        public required TlsTestServer Valid, SelfSigned, Expired, NotYetValid, WrongName, Incomplete;
        public required PlainTextListener PlainText;

        public int[] Ports => [Valid.Port, SelfSigned.Port, Expired.Port, NotYetValid.Port, WrongName.Port, Incomplete.Port, PlainText.Port];

        public static TlsZoo Start(TestPki pki)
        {
            var now = DateTimeOffset.UtcNow;
            return new TlsZoo
            {
                Valid = TlsTestServer.Start(pki.IssueServer("localhost", ["localhost", "127.0.0.1"]), [pki.Intermediate]),
                SelfSigned = TlsTestServer.Start(TestPki.SelfSigned("self.test", ["localhost", "127.0.0.1"])),
                Expired = TlsTestServer.Start(pki.IssueServer("localhost", ["localhost", "127.0.0.1"], now.AddDays(-60), now.AddDays(-1)), [pki.Intermediate]),
                NotYetValid = TlsTestServer.Start(pki.IssueServer("localhost", ["localhost", "127.0.0.1"], now.AddDays(2), now.AddDays(60)), [pki.Intermediate]),
                WrongName = TlsTestServer.Start(pki.IssueServer("other.example", ["other.example"]), [pki.Intermediate]),
                Incomplete = TlsTestServer.Start(pki.IssueServer("localhost", ["localhost", "127.0.0.1"]), []),
                PlainText = PlainTextListener.Start(),
            };
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var server in new LoopbackListener[] { Valid, SelfSigned, Expired, NotYetValid, WrongName, Incomplete, PlainText })
            {
                await server.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Every_certificate_case_with_verify_ssl(bool verify)
    {
        await using var zoo = TlsZoo.Start(_pki);
        var result = await RunAsync(new JsonObject { ["127.0.0.1"] = Host(zoo.Ports) },
            new JsonObject { ["timeout"] = 10.0, ["verify_ssl"] = verify, ["tls_ports"] = Ports(zoo.Ports), ["ca_pem"] = _pki.RootPem });
        const string H = "127.0.0.1";
        JsonObject Tls(int port) => Port(result, H, port)["tls"]!.AsObject();

        // Every open TLS port: the port is open and its error is null, whatever the certificate.
        foreach (var port in zoo.Ports)
        {
            Assert.True(Port(result, H, port)["open"]!.GetValue<bool>());
            Assert.Null(Port(result, H, port)["error"]);
            Assert.True(Port(result, H, port)["tls_seconds"]!.GetValue<double>() > 0);
        }

        // Valid chain from the private CA (trusted through ca_pem): loaded both ways, every field filled.
        var valid = Tls(zoo.Valid.Port);
        Assert.True(valid["loaded"]!.GetValue<bool>());
        Assert.Null(valid["error"]);
        Assert.Null(valid["error_kind"]);
        Assert.Equal("localhost", valid["cn"]!.GetValue<string>());
        Assert.Matches(@"^[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d \d{4} GMT$", valid["not_after"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", valid["expires_utc"]!.GetValue<string>());
        Assert.Equal("countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Intermediate", valid["issuer"]!.GetValue<string>());
        Assert.Matches("^[0-9A-F]+$", valid["serial_number"]!.GetValue<string>());
        Assert.Equal("TLS 1.3", valid["protocol"]!.GetValue<string>());
        Assert.StartsWith("TLS_AES_", valid["cipher"]!.GetValue<string>());
        Assert.Equal("commonName=localhost", valid["subject"]!.GetValue<string>());
        Assert.Equal(["localhost", "127.0.0.1"], valid["sans"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Matches(@"^[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d \d{4} GMT$", valid["not_before"]!.GetValue<string>());
        Assert.InRange(valid["days_left"]!.GetValue<int>(), 88, 90);
        Assert.True(valid["name_match"]!.GetValue<bool>());
        Assert.True(valid["chain_valid"]!.GetValue<bool>());
        Assert.Empty(valid["chain_errors"]!.AsArray());
        Assert.Matches("^[0-9a-f]{64}$", valid["fingerprint_sha256"]!.GetValue<string>());
        Assert.Equal(2, valid["chain"]!.AsArray().Count);
        Assert.Equal("commonName=localhost", valid["chain"]![0]!["subject"]!.GetValue<string>());
        Assert.Equal(valid["issuer"]!.GetValue<string>(), valid["chain"]![0]!["issuer"]!.GetValue<string>());
        Assert.Equal(valid["not_after"]!.GetValue<string>(), valid["chain"]![0]!["not_after"]!.GetValue<string>());
        Assert.Equal(valid["not_after"]!.GetValue<string>(), valid["earliest_not_after"]!.GetValue<string>());
        Assert.True(valid["chain_order_valid"]!.GetValue<bool>());
        Assert.True(valid["chain_complete"]!.GetValue<bool>());
        Assert.Null(valid["server_name"]); // an IP target sends no SNI

        // Certificate problems: refused when verifying (error in words, tls_verify), accepted when not; facts filled either way.
        var problems = new Dictionary<int, string>
        {
            [zoo.SelfSigned.Port] = "self-signed certificate",
            [zoo.Expired.Port] = "certificate expired on ",
            [zoo.NotYetValid.Port] = "certificate is not valid before ",
            [zoo.WrongName.Port] = "name mismatch: certificate is for other.example, not 127.0.0.1",
            [zoo.Incomplete.Port] = "incomplete chain: the server did not send the certificate of its issuer",
        };
        foreach (var (port, text) in problems)
        {
            var tls = Tls(port);
            Assert.Equal(!verify, tls["loaded"]!.GetValue<bool>());
            Assert.False(string.IsNullOrEmpty(tls["cn"]?.GetValue<string>()), $"port {port}: cn missing");
            Assert.NotNull(tls["not_after"]);
            Assert.NotNull(tls["expires_utc"]);
            Assert.NotNull(tls["issuer"]);
            Assert.NotNull(tls["serial_number"]);
            Assert.NotNull(tls["fingerprint_sha256"]);
            Assert.Equal("TLS 1.3", tls["protocol"]!.GetValue<string>());
            if (verify)
            {
                Assert.StartsWith(text, tls["error"]!.GetValue<string>());
                Assert.Equal("tls_verify", tls["error_kind"]!.GetValue<string>());
            }
            else
            {
                Assert.Null(tls["error"]);
                Assert.True(port == zoo.WrongName.Port ? !tls["name_match"]!.GetValue<bool>() : !tls["chain_valid"]!.GetValue<bool>());
            }
        }
        Assert.StartsWith(problems[zoo.Incomplete.Port], Tls(zoo.Incomplete.Port)["chain_errors"]![0]!.GetValue<string>());
        Assert.False(Tls(zoo.Incomplete.Port)["chain_complete"]!.GetValue<bool>());
        Assert.True(Tls(zoo.Expired.Port)["days_left"]!.GetValue<int>() < 0);
        Assert.False(Tls(zoo.WrongName.Port)["name_match"]!.GetValue<bool>());
        Assert.True(Tls(zoo.WrongName.Port)["chain_valid"]!.GetValue<bool>());

        // No TLS at all: plain text on the port.
        var plain = Tls(zoo.PlainText.Port);
        Assert.False(plain["loaded"]!.GetValue<bool>());
        Assert.StartsWith("TLS handshake failed: the server answered in plain text, not TLS: 'HTTP/1.1 400 Bad Request", plain["error"]!.GetValue<string>());
        Assert.Equal("tls_handshake", plain["error_kind"]!.GetValue<string>());
        Assert.Null(plain["cn"]);
        Assert.Null(plain["not_after"]);
        Assert.Null(plain["protocol"]);

        var expectedFailed = verify
            ? new[] { zoo.SelfSigned.Port, zoo.Expired.Port, zoo.NotYetValid.Port, zoo.WrongName.Port, zoo.Incomplete.Port, zoo.PlainText.Port }
            : [zoo.PlainText.Port];
        Assert.Equal(expectedFailed, Failed(result, H));
        Assert.Equal(verify, result["summary"]!["verify_ssl"]!.GetValue<bool>());
        Assert.Equal(zoo.Ports, result["summary"]!["tls_ports"]!.AsArray().Select(p => p!.GetValue<int>()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_TLS_port_that_accepts_but_never_handshakes_times_out_and_fails(bool verify)
    {
        await using var silent = SilentListener.Start();
        var result = await RunAsync(new JsonObject { ["127.0.0.1"] = Host(silent.Port) },
            new JsonObject { ["timeout"] = 0.5, ["verify_ssl"] = verify, ["tls_ports"] = Ports(silent.Port) });
        var port = Port(result, "127.0.0.1", silent.Port);
        Assert.True(port["open"]!.GetValue<bool>());
        Assert.Null(port["error"]);
        Assert.False(port["ok"]!.GetValue<bool>());
        var tls = port["tls"]!;
        Assert.False(tls["loaded"]!.GetValue<bool>());
        Assert.Equal("TLS handshake timed out after 0.5 s (the server accepted the connection but sent nothing)", tls["error"]!.GetValue<string>());
        Assert.Equal("timeout", tls["error_kind"]!.GetValue<string>());
        Assert.Null(tls["cn"]);
        Assert.True(port["tls_seconds"]!.GetValue<double>() >= 0.45);
        Assert.Equal([silent.Port], Failed(result, "127.0.0.1"));
    }

    [Fact]
    public async Task A_name_target_sends_SNI_and_the_sni_kwarg_overrides_it()
    {
        using var leaf = _pki.IssueServer("portal.example", ["portal.example"]);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate]);
        var kwargs = new JsonObject { ["tls_ports"] = Ports(server.Port), ["ca_pem"] = _pki.RootPem };

        var byName = await RunAsync(new JsonObject { ["localhost"] = Host(server.Port) }, kwargs);
        var tls = Port(byName, "localhost", server.Port)["tls"]!;
        Assert.False(tls["loaded"]!.GetValue<bool>());
        Assert.Equal("name mismatch: certificate is for portal.example, not localhost", tls["error"]!.GetValue<string>());
        Assert.Equal("localhost", tls["server_name"]!.GetValue<string>());

        kwargs = new JsonObject { ["tls_ports"] = Ports(server.Port), ["ca_pem"] = _pki.RootPem, ["sni"] = "portal.example" };
        var withSni = await RunAsync(new JsonObject { ["localhost"] = Host(server.Port), ["127.0.0.1"] = Host(server.Port) }, kwargs);
        Assert.True(Port(withSni, "localhost", server.Port)["tls"]!["loaded"]!.GetValue<bool>());
        Assert.True(Port(withSni, "127.0.0.1", server.Port)["tls"]!["loaded"]!.GetValue<bool>());
        Assert.Equal("portal.example", Port(withSni, "127.0.0.1", server.Port)["tls"]!["server_name"]!.GetValue<string>());

        var perHost = new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = Ports(server.Port), ["sni"] = "portal.example" } };
        var hostSni = await RunAsync(perHost, new JsonObject { ["tls_ports"] = Ports(server.Port), ["ca_pem"] = _pki.RootPem, ["sni"] = "wrong.example" });
        Assert.True(Port(hostSni, "127.0.0.1", server.Port)["tls"]!["loaded"]!.GetValue<bool>());

        Assert.Equal(["localhost", "portal.example", "portal.example", "portal.example"], server.ServerNames);
    }

    [Fact]
    public async Task Private_CA_roots_can_come_from_configuration()
    {
        using var leaf = _pki.IssueServer("localhost", ["localhost"]);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate]);
        var data = new JsonObject { ["localhost"] = Host(server.Port) };
        var kwargs = new JsonObject { ["tls_ports"] = Ports(server.Port) };

        var untrusted = await RunAsync(data, kwargs);
        Assert.False(Port(untrusted, "localhost", server.Port)["tls"]!["loaded"]!.GetValue<bool>());

        var configured = await RunAsync(new JsonObject { ["localhost"] = Host(server.Port) }, new JsonObject { ["tls_ports"] = Ports(server.Port) },
            configure: o => o.Tls.CaPem = _pki.RootPem);
        Assert.True(Port(configured, "localhost", server.Port)["tls"]!["loaded"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Expectations_decide_failed_ports_and_summary_ok()
    {
        await using var open = OpenPortListener.Start();
        await using var shouldBeClosed = OpenPortListener.Start();
        using var closed = new ClosedPort();
        using var filtered = await HangingPort.OpenAsync();
        using var extra = new ClosedPort();

        var data = new JsonObject
        {
            ["127.0.0.1"] = new JsonObject
            {
                ["ports"] = Ports(open.Port, extra.Port),
                ["expect_open"] = Ports(open.Port),
                ["expect_closed"] = Ports(closed.Port, filtered.Port, shouldBeClosed.Port),
            },
        };
        var result = await RunAsync(data, new JsonObject { ["timeout"] = 1.0, ["tls_ports"] = new JsonArray() });

        Assert.Equal("open", Port(result, "127.0.0.1", open.Port)["expected"]!.GetValue<string>());
        Assert.True(Port(result, "127.0.0.1", open.Port)["ok"]!.GetValue<bool>());
        Assert.Equal("any", Port(result, "127.0.0.1", extra.Port)["expected"]!.GetValue<string>());
        Assert.True(Port(result, "127.0.0.1", extra.Port)["ok"]!.GetValue<bool>());
        var refused = Port(result, "127.0.0.1", closed.Port);
        Assert.Equal("closed", refused["expected"]!.GetValue<string>());
        Assert.True(refused["ok"]!.GetValue<bool>());
        Assert.Equal("refused", refused["error_kind"]!.GetValue<string>());
        Assert.True(Port(result, "127.0.0.1", filtered.Port)["ok"]!.GetValue<bool>());
        var wrong = Port(result, "127.0.0.1", shouldBeClosed.Port);
        Assert.True(wrong["open"]!.GetValue<bool>());
        Assert.False(wrong["ok"]!.GetValue<bool>());
        Assert.Equal("expected closed, is open", wrong["error"]!.GetValue<string>());
        Assert.Equal(ErrorKind.UnexpectedOpen, wrong["error_kind"]!.GetValue<string>());

        Assert.Equal([shouldBeClosed.Port], Failed(result, "127.0.0.1"));
        Assert.Equal(5, result["summary"]!["ports_checked"]!.GetValue<int>());
        Assert.False(result["summary"]!["ok"]!.GetValue<bool>());

        await shouldBeClosed.DisposeAsync();
        var after = await RunAsync(data, new JsonObject { ["timeout"] = 1.0, ["tls_ports"] = new JsonArray() });
        Assert.Empty(Failed(after, "127.0.0.1"));
        Assert.True(after["summary"]!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Without_expectations_every_listed_port_is_expected_open()
    {
        await using var open = OpenPortListener.Start();
        var result = await RunAsync(new JsonObject { ["127.0.0.1"] = Host(open.Port, open.Port) }, new JsonObject { ["tls_ports"] = new JsonArray() });
        Assert.True(result["summary"]!["ok"]!.GetValue<bool>());
        Assert.Equal(1, result["summary"]!["ports_checked"]!.GetValue<int>());
        Assert.Single(result["results"]!["127.0.0.1"]!["ports"]!.AsObject());
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("[::1]")]
    public async Task IPv6_literals_are_checked_with_TLS(string host)
    {
        using var leaf = _pki.IssueServer("v6", ["::1"]);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate], IPAddress.IPv6Loopback);
        var result = await RunAsync(new JsonObject { [host] = Host(server.Port) }, new JsonObject { ["tls_ports"] = Ports(server.Port), ["ca_pem"] = _pki.RootPem });
        var port = Port(result, host, server.Port);
        Assert.True(port["open"]!.GetValue<bool>(), port.ToJsonString());
        Assert.Equal("::1", port["address"]!.GetValue<string>());
        Assert.True(port["tls"]!["loaded"]!.GetValue<bool>(), port.ToJsonString());
        Assert.True(port["tls"]!["name_match"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_name_with_only_AAAA_records_is_checked_over_IPv6_and_resolved_once()
    {
        using var leaf = _pki.IssueServer("v6only.test", ["v6only.test"]);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate], IPAddress.IPv6Loopback);
        await using var plain = OpenPortListener.Start(IPAddress.IPv6Loopback);
        var resolver = new TableResolver { ["v6only.test"] = [IPAddress.IPv6Loopback] };

        var result = await RunAsync(
            new JsonObject { ["v6only.test"] = Host(server.Port, plain.Port), ["V6ONLY.test."] = Host(plain.Port) },
            new JsonObject { ["tls_ports"] = Ports(server.Port), ["ca_pem"] = _pki.RootPem }, resolver);

        Assert.Equal(1, resolver.Lookups);
        Assert.True(Port(result, "v6only.test", server.Port)["tls"]!["loaded"]!.GetValue<bool>());
        Assert.Equal("::1", Port(result, "v6only.test", plain.Port)["address"]!.GetValue<string>());
        Assert.True(Port(result, "V6ONLY.test.", plain.Port)["open"]!.GetValue<bool>());
        Assert.Equal(["::1"], result["results"]!["v6only.test"]!["addresses"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(["v6only.test"], server.ServerNames);
    }

    [Fact]
    public async Task A_refused_first_address_falls_back_to_the_next_within_one_timeout()
    {
        await using var v4 = OpenPortListener.Start();
        using var v6Closed = new ClosedPort(IPAddress.IPv6Loopback);
        var resolver = new TableResolver { ["dual.test"] = [IPAddress.IPv6Loopback, IPAddress.Loopback] };
        // The IPv6 socket is bound to another port; make sure v4's port is closed on ::1.
        using var probe = await new TcpConnector(TimeProvider.System).ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, v4.Port), TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.False(probe.Connected);

        var result = await RunAsync(new JsonObject { ["dual.test"] = Host(v4.Port) }, new JsonObject { ["tls_ports"] = new JsonArray() }, resolver);
        var port = Port(result, "dual.test", v4.Port);
        Assert.True(port["open"]!.GetValue<bool>());
        Assert.Equal("127.0.0.1", port["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task All_addresses_checks_every_node_behind_a_name_with_SNI_set_to_the_name()
    {
        using var leaf = _pki.IssueServer("lb.test", ["lb.test"]);
        await using var node4 = TlsTestServer.Start(leaf, [_pki.Intermediate]);
        await using var node6 = TlsTestServer.Start(leaf, [_pki.Intermediate], IPAddress.IPv6Loopback, node4.Port);
        await using var only4 = OpenPortListener.Start();
        var resolver = new TableResolver { ["lb.test"] = [IPAddress.Loopback, IPAddress.IPv6Loopback] };

        var result = await RunAsync(new JsonObject { ["lb.test"] = Host(node4.Port, only4.Port) },
            new JsonObject { ["tls_ports"] = Ports(node4.Port), ["ca_pem"] = _pki.RootPem, ["all_addresses"] = true }, resolver);

        var host = result["results"]!["lb.test"]!;
        var byAddress = host["by_address"]!.AsObject();
        Assert.Equal(["127.0.0.1", "::1"], byAddress.Select(a => a.Key));
        Assert.True(byAddress["127.0.0.1"]!["ports"]![node4.Port.ToString()]!["tls"]!["loaded"]!.GetValue<bool>());
        Assert.True(byAddress["::1"]!["ports"]![node4.Port.ToString()]!["tls"]!["loaded"]!.GetValue<bool>());
        Assert.Equal(["lb.test"], node4.ServerNames);
        Assert.Equal(["lb.test"], node6.ServerNames);

        Assert.True(byAddress["127.0.0.1"]!["ports"]![only4.Port.ToString()]!["open"]!.GetValue<bool>());
        Assert.Equal("connection refused", byAddress["::1"]!["ports"]![only4.Port.ToString()]!["error"]!.GetValue<string>());
        Assert.Empty(byAddress["127.0.0.1"]!["failed_ports"]!.AsArray());
        Assert.Equal([only4.Port], byAddress["::1"]!["failed_ports"]!.AsArray().Select(p => p!.GetValue<int>()));

        // The host's own view: each port as its worst address saw it.
        Assert.Equal("::1", Port(result, "lb.test", only4.Port)["address"]!.GetValue<string>());
        Assert.False(Port(result, "lb.test", only4.Port)["open"]!.GetValue<bool>());
        Assert.Equal([only4.Port], Failed(result, "lb.test"));
        Assert.Equal(2, result["summary"]!["ports_checked"]!.GetValue<int>());
        Assert.True(result["summary"]!["all_addresses"]!.GetValue<bool>());
    }

    [Fact]
    public async Task An_unknown_host_fails_every_port_with_a_dns_error()
    {
        var result = await RunAsync(new JsonObject { ["nowhere.test"] = Host(80, 443) }, resolver: new TableResolver());
        var host = result["results"]!["nowhere.test"]!;
        Assert.Equal("host not found: nowhere.test", host["error"]!.GetValue<string>());
        Assert.Equal("dns", host["error_kind"]!.GetValue<string>());
        Assert.Empty(host["addresses"]!.AsArray());
        foreach (var port in new[] { 80, 443 })
        {
            var p = Port(result, "nowhere.test", port);
            Assert.False(p["open"]!.GetValue<bool>());
            Assert.Equal("host not found: nowhere.test", p["error"]!.GetValue<string>());
            Assert.Equal("dns", p["error_kind"]!.GetValue<string>());
            Assert.False(p.ContainsKey("tls"));
        }
        Assert.Equal([80, 443], Failed(result, "nowhere.test"));
        Assert.False(result["summary"]!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Checks_run_at_once_up_to_the_configured_cap()
    {
        await using var silent = SilentListener.Start();
        // Six names of the same silent TLS port: each check holds a connection until its handshake times out.
        var resolver = new TableResolver();
        for (var i = 1; i <= 6; i++)
        {
            resolver[$"node{i}.test"] = [IPAddress.Loopback];
        }
        JsonObject Names(int port) => new(Enumerable.Range(1, 6).Select(i => KeyValuePair.Create($"node{i}.test", (JsonNode?)Host(port))));

        // max_workers (the original's pool size) is accepted and does not limit anything.
        var kwargs = new JsonObject { ["timeout"] = 1.0, ["tls_ports"] = Ports(silent.Port), ["max_workers"] = 1 };
        var context = new TaskContext(Guid.NewGuid());
        await RunAsync(Names(silent.Port), kwargs, resolver, context: context);
        Assert.Equal(6, silent.MaxConcurrent);
        Assert.Equal(6, context.Done);
        Assert.Equal(6, context.Total);

        await using var silent2 = SilentListener.Start();
        await RunAsync(Names(silent2.Port), new JsonObject { ["timeout"] = 0.5, ["tls_ports"] = Ports(silent2.Port) }, resolver, o => o.PortTest.MaxConcurrentChecks = 1);
        // With a cap of 1 the server sees one connection at a time, or two for the instant between the client's
        // close of one and the server noticing it (the next check has already connected); never six.
        Assert.InRange(silent2.MaxConcurrent, 1, 2);
    }

    [SkippableFact]
    public async Task A_chain_sent_out_of_order_is_reported_by_a_real_openssl_server()
    {
        using var leaf = _pki.IssueServer("localhost", ["localhost"], notAfter: DateTimeOffset.UtcNow.AddDays(200));
        // Root before intermediate: the wrong order, with the root's expiry later than the leaf's.
        using var server = await OpenSslTlsServer.TryStartAsync(leaf, [_pki.Root, _pki.Intermediate]);
        Skip.If(server is null, "no openssl binary on this machine");

        var result = await RunAsync(new JsonObject { ["localhost"] = Host(server.Port) },
            new JsonObject { ["tls_ports"] = Ports(server.Port), ["ca_pem"] = _pki.RootPem });
        var tls = Port(result, "localhost", server.Port)["tls"]!;
        Assert.True(tls["loaded"]!.GetValue<bool>(), tls.ToJsonString());
        Assert.False(tls["chain_order_valid"]!.GetValue<bool>());
        Assert.True(tls["chain_complete"]!.GetValue<bool>());
        Assert.Equal(["commonName=localhost",
                      "countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Root",
                      "countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Intermediate"],
            tls["chain"]!.AsArray().Select(c => c!["subject"]!.GetValue<string>()));
        Assert.Equal(tls["not_after"]!.GetValue<string>(), tls["earliest_not_after"]!.GetValue<string>());
    }
}
