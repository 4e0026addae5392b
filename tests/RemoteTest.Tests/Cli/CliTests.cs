using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using RemoteTest.Cli;

namespace RemoteTest.Tests.Cli;

/// <summary>The remotetest CLI against a real in-process service and a loopback DNS server.</summary>
public sealed class CliTests : CliServiceTest
{
    private const string DnsData = """
        {
          "sip.example.test": { "original": ["192.0.2.10"], "13056": ["192.0.2.10", "192.0.2.11"], "13057": ["192.0.2.11"] },
          "xsp.example.test": { "original": ["192.0.2.20"], "13057": ["192.0.2.21"] }
        }
        """;

    [Fact]
    public async Task Dns_check_prints_a_table_and_exits_0_when_every_domain_is_in_a_known_state()
    {
        var file = Runner.File("dns_data.json", DnsData);
        var run = await Runner.RunAsync("dns", "check", file, "--nameserver", Dns.NameServer);

        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        Assert.Contains("sip.example.test", run.Out);
        Assert.Contains("13056", run.Out);
        Assert.Contains("xsp.example.test", run.Out);
        Assert.Contains("original", run.Out);
        Assert.Contains("PASSED", run.Out);
        // Without a terminal, progress is a line per state change on stderr, never mixed into stdout.
        Assert.Contains("SUCCESS", run.Err);
    }

    [Fact]
    public async Task A_lone_dash_reads_the_data_from_standard_input()
    {
        // Spectre.Console.Cli takes "-" for an option without a name; the entry point hands it over as standard input.
        var run = await Runner.RunWithAsync(DnsData, null, "dns", "check", "-", "--nameserver", Dns.NameServer);
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        Assert.Contains("sip.example.test", run.Out);

        var broken = await Runner.RunWithAsync("{not json", null, "dns", "check", "-");
        Assert.Equal(ExitCodes.Usage, broken.ExitCode);
        Assert.Contains("standard input is not valid JSON", broken.Err);
    }

    [Fact]
    public async Task Dns_check_exits_1_when_a_domain_is_in_no_known_state_or_not_in_the_expected_one()
    {
        Dns.A("moved.example.test", "198.51.100.1");
        var unknown = Runner.File("unknown.json", """{"moved.example.test": {"original": ["192.0.2.30"]}}""");
        var run = await Runner.RunAsync("dns", "check", unknown);
        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString());
        Assert.Contains("unknown", run.Out);
        Assert.Contains("FAILED", run.Out);
        // The list's line for the domain: its state and, in words, why that fails.
        Assert.Matches(@"(?m)^moved\.example\.test\s+A\s+unknown\s+the records match no named state\s+198\.51\.100\.1", run.Out);

        var file = Runner.File("dns_data.json", DnsData);
        var expect = await Runner.RunAsync("dns", "check", file, "--expect", "13057");
        Assert.True(expect.ExitCode == ExitCodes.Failed, expect.ToString());
        Assert.Contains("not every domain is in state 13057", expect.Out);
    }

    [Fact]
    public async Task Dns_check_over_a_stale_resolver_is_inconsistent_and_exits_1_even_with_expect()
    {
        await using var stale = RemoteTest.Fixtures.Dns.DnsTestServer.Start(IPAddress.Parse("127.0.0.2"));
        stale.A("sip.example.test", "192.0.2.10").A("xsp.example.test", "192.0.2.20");
        var file = Runner.File("dns_data.json", DnsData);
        var run = await Runner.RunAsync("dns", "check", file, "--nameserver", $"{Dns.NameServer},{stale.NameServer}", "--expect", "13056");
        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString());
        Assert.Contains("inconsistent", run.Out);
        Assert.Contains("some checks failed", run.Out);
        Assert.Contains("the nameservers disagree", run.Out);
    }

    [Fact]
    public async Task Dns_check_passes_record_type_resolver_set_and_authoritative_through()
    {
        Dns.Srv("_sip._udp.sipcli.example.test", 10, 10, 5060, "sbc.sipcli.example.test").A("sbc.sipcli.example.test", "192.0.2.40");
        var file = Runner.File("sip.json", """{"sipcli.example.test": {"new": ["udp 192.0.2.40:5060"]}}""");
        var run = await Runner.RunAsync("dns", "check", file, "--record-type", "SIP", "--json");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        var r = System.Text.Json.Nodes.JsonNode.Parse(run.Out)!["result"]!["results"]!["sipcli.example.test"]!;
        Assert.Equal("SIP", r["record_type"]!.GetValue<string>());
        Assert.Equal("srv", r["sip"]!["source"]!.GetValue<string>());

        var set = await Runner.RunAsync("dns", "check", file, "--resolver-set", "nosuch", "--authoritative");
        Assert.True(set.ExitCode == ExitCodes.Usage, set.ToString());
        Assert.Contains("nameservers", set.Err);
    }

    [Fact]
    public async Task Json_prints_the_raw_task_answer_for_scripts()
    {
        var file = Runner.File("dns_data.json", DnsData);
        var run = await Runner.RunAsync("dns", "check", file, "--json");

        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        var status = JsonNode.Parse(run.Out)!.AsObject();
        Assert.Equal("SUCCESS", status["state"]!.GetValue<string>());
        Assert.Equal("13056", status["result"]!["results"]!["sip.example.test"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Run_submits_a_payload_file_and_task_get_list_and_cancel_work_on_it()
    {
        var payload = new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["args"] = new JsonArray(JsonNode.Parse(DnsData)), ["kwargs"] = new JsonObject { ["timeout"] = 2.0 } },
        }.ToJsonString();
        var run = await Runner.RunAsync("run", Runner.File("task.json", payload), "--no-wait");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        var id = run.Out.Trim();
        Assert.True(Guid.TryParse(id, out _), run.ToString());

        var get = await Runner.RunAsync("task", "get", id, "--wait");
        Assert.True(get.ExitCode == ExitCodes.Passed, get.ToString());
        Assert.Contains("sip.example.test", get.Out);

        // Cancelling a finished task is refused (409): exit 1 with the state it ended in, never a pass.
        var cancel = await Runner.RunAsync("task", "cancel", id);
        Assert.True(cancel.ExitCode == ExitCodes.Failed, cancel.ToString());
        Assert.Contains("not cancelled: the task had already ended (SUCCESS)", cancel.Err);

        var list = await Runner.RunAsync("task", "list", "--task", "dns.check_records");
        Assert.True(list.ExitCode == ExitCodes.Passed, list.ToString());
        Assert.Contains(id, list.Out);
    }

    [Fact]
    public async Task Task_get_of_an_unfinished_task_does_not_pass()
    {
        Dns.Silent("slow.example.test");
        var file = Runner.File("slow.json", """{"slow.example.test": {"original": ["192.0.2.1"]}}""");
        var submit = await Runner.RunAsync("dns", "check", file, "--timeout", "3", "--no-wait");
        var id = submit.Out.Trim();
        var get = await Runner.RunAsync("task", "get", id);
        Assert.True(get.ExitCode == ExitCodes.Failed, get.ToString());
        Assert.Contains("not finished yet", get.Out);
        Assert.DoesNotContain("FAILED", get.Out);
    }

    [Fact]
    public async Task Usage_errors_bad_input_and_an_unreachable_server_exit_2()
    {
        var missing = await Runner.RunAsync("port");
        Assert.True(missing.ExitCode == ExitCodes.Usage, missing.ToString());

        var badTarget = await Runner.RunAsync("port", "host-without-port");
        Assert.True(badTarget.ExitCode == ExitCodes.Usage, badTarget.ToString());
        Assert.Contains("HOST:PORT", badTarget.Err);

        var unknownCommand = await Runner.RunAsync("frobnicate");
        Assert.Equal(ExitCodes.Usage, unknownCommand.ExitCode);

        // The server's 400 names the field at fault.
        var badDomain = await Runner.RunAsync("dns", "check", Runner.File("bad.json", """{"bad domain!": {"original": ["192.0.2.1"]}}"""));
        Assert.True(badDomain.ExitCode == ExitCodes.Usage, badDomain.ToString());
        Assert.Contains("dns_data[\"bad domain!\"]", badDomain.Err);

        var notJson = await Runner.RunAsync("dns", "check", Runner.File("broken.json", "{not json"));
        Assert.True(notJson.ExitCode == ExitCodes.Usage, notJson.ToString());

        var closedPort = ClosedLoopbackPort();
        var unreachable = await Runner.RunAsync("dns", "check", Runner.File("d.json", DnsData), "--server", $"http://127.0.0.1:{closedPort}");
        Assert.True(unreachable.ExitCode == ExitCodes.Usage, unreachable.ToString());
        Assert.Contains("cannot reach the server", unreachable.Err);
    }

    [Fact]
    public async Task Server_and_token_come_from_option_then_environment_then_config_file()
    {
        using var cli = new CliRunner();
        var seen = new RecordingHandler();
        cli.Variables["REMOTETEST_CONFIG"] = cli.File("config.json", """{"server": "http://127.0.0.1:1/", "token": "from-file"}""");

        await cli.RunWithAsync("", seen, "workers");
        Assert.Equal(("127.0.0.1:1", "Bearer from-file"), seen.Last);

        cli.Variables["REMOTETEST_SERVER"] = "http://127.0.0.2:2";
        cli.Variables["REMOTETEST_TOKEN"] = "from-env";
        await cli.RunWithAsync("", seen, "workers");
        Assert.Equal(("127.0.0.2:2", "Bearer from-env"), seen.Last);

        await cli.RunWithAsync("", seen, "workers", "--server", "127.0.0.3:3", "--token", "from-option");
        Assert.Equal(("127.0.0.3:3", "Bearer from-option"), seen.Last);
    }

    [Fact]
    public async Task Workers_lists_live_workers_or_says_the_server_has_no_such_route()
    {
        var run = await Runner.RunAsync("workers");
        if (run.ExitCode == ExitCodes.Usage)
        {
            Assert.Contains("GET /workers", run.Err);
        }
        else
        {
            Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
            Assert.Contains("Queues", run.Out);
        }
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("dns", "check", "--help")]
    [InlineData("port", "--help")]
    [InlineData("app", "--help")]
    [InlineData("run", "--help")]
    [InlineData("task", "get", "--help")]
    [InlineData("task", "list", "--help")]
    [InlineData("task", "cancel", "--help")]
    [InlineData("workers", "--help")]
    public async Task Every_command_prints_its_help(params string[] args)
    {
        var run = await Runner.RunAsync(args);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("USAGE", run.Out);
        Assert.Empty(run.Err);
    }

    [Theory]
    [InlineData("sbc.example.test:5060,5061", "sbc.example.test", new[] { 5060, 5061 })]
    [InlineData("[2001:db8::1]:443", "2001:db8::1", new[] { 443 })]
    [InlineData("192.0.2.1:8000-8002", "192.0.2.1", new[] { 8000, 8001, 8002 })]
    public void Port_targets_parse(string target, string host, int[] ports)
    {
        var (h, p) = RemoteTest.Cli.Commands.PortCommand.ParseTarget(target);
        Assert.Equal(host, h);
        Assert.Equal(ports, p);
    }

    [Theory]
    [InlineData("2001:db8::1:443")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("host:http")]
    [InlineData(":80")]
    public void Bad_port_targets_are_usage_errors(string target) =>
        Assert.Throws<CliException>(() => RemoteTest.Cli.Commands.PortCommand.ParseTarget(target));

    [Fact]
    public async Task The_built_executable_runs_as_a_process_with_its_exit_code()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "RemoteTest.Cli.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "dns", "check", Runner.File("dns_data.json", DnsData), "--server", Host.BaseAddress.ToString() })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["HOME"] = Runner.Home;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await stdout}\n{await stderr}");
        Assert.Contains("PASSED", await stdout);
    }

    private static int ClosedLoopbackPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Answers 404 to everything and remembers where each request went and its Authorization header.</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        public (string Authority, string? Authorization) Last { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Last = (request.RequestUri!.Authority, request.Headers.Authorization?.ToString());
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("""{"error":"nope"}""") });
        }
    }
}
