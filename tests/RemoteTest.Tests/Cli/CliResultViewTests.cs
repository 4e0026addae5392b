using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RemoteTest.Cli;
using RemoteTest.Fixtures;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Cli;

/// <summary>
/// <c>remotetest port</c>'s reasons, list and formats, and its API options, against the in-process service and
/// loopback targets: closed ports, a TLS server with a private CA, a plain-text banner, a silent port.
/// </summary>
public sealed class CliResultViewTests : IAsyncLifetime
{
    private ServiceHost _host = null!;
    private CliRunner _cli = null!;

    public async Task InitializeAsync()
    {
        _host = await ServiceHost.StartAsync();
        _cli = new CliRunner(_host.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _cli.Dispose();
        await _host.DisposeAsync();
    }

    /// <summary>The list's line for host × port (columns split on runs of two or more spaces).</summary>
    private static string[] ListLine(string output, string host, int port)
    {
        var line = output.Split('\n').Select(l => l.TrimEnd('\r'))
            .SingleOrDefault(l => Regex.IsMatch(l, $@"^{Regex.Escape(host)}\s+{port}\s"));
        Assert.True(line is not null, $"no list line for {host}:{port} in\n{output}");
        return Regex.Split(line!, @"\s{2,}");
    }

    [Fact]
    public async Task Failed_ports_print_the_services_reason_and_a_refused_certificate_fails_never_warns()
    {
        var pki = TestPki.Create();
        using var leaf = pki.IssueServer("sbc.lab.test", ["sbc.lab.test"]);
        await using var tls = TlsTestServer.Start(leaf, [pki.Intermediate]);
        await using var plain = PlainTextListener.Start();
        await using var silent = SilentListener.Start();
        using var closed = new ClosedPort();
        var ca = _cli.File("ca.pem", pki.Root.ExportCertificatePem());
        var tlsPorts = $"{tls.Port},{plain.Port},{silent.Port}";

        var run = await _cli.RunAsync("port", $"127.0.0.1:{tls.Port},{plain.Port},{silent.Port},{closed.Port}",
            "--tls-ports", tlsPorts, "--ca-file", ca, "--timeout", "1", "--format", "list");
        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString());
        Assert.Contains("HOST", run.Out);
        Assert.Contains("REASON", run.Out);

        var mismatch = ListLine(run.Out, "127.0.0.1", tls.Port);
        Assert.Equal("fail", mismatch[2]);
        Assert.Contains("name mismatch: certificate is for sbc.lab.test, not 127.0.0.1", mismatch[3]);
        Assert.Equal("sbc.lab.test", mismatch[4]);

        var banner = ListLine(run.Out, "127.0.0.1", plain.Port);
        Assert.Equal("fail", banner[2]);
        Assert.Contains("plain text, not TLS", banner[3]);

        var timeout = ListLine(run.Out, "127.0.0.1", silent.Port);
        Assert.Equal("fail", timeout[2]);
        Assert.Contains("timed out", timeout[3]);

        var refused = ListLine(run.Out, "127.0.0.1", closed.Port);
        Assert.Equal("fail", refused[2]);
        Assert.Contains("refused", refused[3]);
        Assert.DoesNotContain("warn", run.Out);

        // The table carries the same reason (a column, not a hover), and still says fail.
        var table = await _cli.RunAsync("port", $"127.0.0.1:{tls.Port}", "--tls-ports", tls.Port.ToString(), "--ca-file", ca,
            "--timeout", "2", "--format", "table");
        Assert.True(table.ExitCode == ExitCodes.Failed, table.ToString());
        Assert.Contains("REASON", table.Out);
        Assert.Contains("│", table.Out);
        Assert.Contains("fail", table.Out);
        Assert.Contains("name mismatch", table.Out);
        Assert.DoesNotContain("warn", table.Out);
    }

    [Fact]
    public async Task Sni_and_the_private_ca_pass_and_only_an_expiring_certificate_warns()
    {
        var pki = TestPki.Create();
        using var leaf = pki.IssueServer("sbc.lab.test", ["sbc.lab.test"], notAfter: DateTimeOffset.UtcNow.AddDays(10));
        await using var tls = TlsTestServer.Start(leaf, [pki.Intermediate]);
        var ca = _cli.File("ca.pem", pki.Root.ExportCertificatePem());

        var run = await _cli.RunAsync("port", $"127.0.0.1:{tls.Port}", "--tls-ports", tls.Port.ToString(), "--ca-file", ca,
            "--sni", "sbc.lab.test", "--timeout", "2", "--format", "list");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        var line = ListLine(run.Out, "127.0.0.1", tls.Port);
        Assert.Equal("warn", line[2]);
        Assert.Matches(@"certificate expires in \d+ days", line[3]);
        Assert.Matches(@"^\d+$", line[5]);

        // Without the CA file the same certificate is refused: a failure, whatever its expiry.
        var untrusted = await _cli.RunAsync("port", $"127.0.0.1:{tls.Port}", "--tls-ports", tls.Port.ToString(),
            "--sni", "sbc.lab.test", "--timeout", "2", "--format", "list");
        Assert.True(untrusted.ExitCode == ExitCodes.Failed, untrusted.ToString());
        Assert.Equal("fail", ListLine(untrusted.Out, "127.0.0.1", tls.Port)[2]);

        // What was sent: the API's own fields.
        var json = await _cli.RunAsync("port", $"127.0.0.1:{tls.Port}", "--tls-ports", tls.Port.ToString(), "--ca-file", ca,
            "--sni", "sbc.lab.test", "--all-addresses", "--timeout", "2", "--format", "json");
        var status = JsonNode.Parse(json.Out)!;
        Assert.Equal("sbc.lab.test", status["result"]!["results"]!["127.0.0.1"]!["ports"]![tls.Port.ToString()]!["tls"]!["server_name"]!.GetValue<string>());
        Assert.True(status["result"]!["summary"]!["all_addresses"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Expect_closed_passes_for_a_refused_port_and_fails_for_an_open_one()
    {
        await using var open = OpenPortListener.Start();
        using var closed = new ClosedPort();

        var pass = await _cli.RunAsync("port", $"127.0.0.1:{open.Port}", "--expect-closed", closed.Port.ToString(), "--timeout", "2", "--format", "list");
        Assert.True(pass.ExitCode == ExitCodes.Passed, pass.ToString());
        var line = ListLine(pass.Out, "127.0.0.1", closed.Port);
        Assert.Equal("ok", line[2]);
        Assert.StartsWith("closed, as expected", line[3]);

        var fail = await _cli.RunAsync("port", $"127.0.0.1:{open.Port}", "--expect-closed", open.Port.ToString(), "--timeout", "2", "--format", "list");
        Assert.True(fail.ExitCode == ExitCodes.Failed, fail.ToString());
        Assert.Equal("fail", ListLine(fail.Out, "127.0.0.1", open.Port)[2]);
    }

    [Theory]
    [InlineData("--sni", "127.0.0.1")]
    [InlineData("--sni", "bad name!")]
    [InlineData("--expect-closed", "70000")]
    [InlineData("--expect-closed", "9-x")]
    [InlineData("--ca-file", "/nonexistent/ca.pem")]
    [InlineData("--format", "grid")]
    [InlineData("--timeout", "-1")]
    public async Task Bad_port_options_are_usage_errors_naming_the_option(string option, string value)
    {
        var run = await _cli.RunAsync("port", "127.0.0.1:1", option, value);
        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        Assert.Contains(option, run.Err);
        Assert.Equal("", run.Out.Trim());
    }

    [Fact]
    public async Task A_ca_file_without_a_certificate_and_json_with_another_format_are_usage_errors()
    {
        var notPem = _cli.File("notes.txt", "not a certificate");
        var run = await _cli.RunAsync("port", "127.0.0.1:1", "--ca-file", notPem);
        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        Assert.Contains("--ca-file", run.Err);
        Assert.Contains("no PEM certificate", run.Err);

        var both = await _cli.RunAsync("port", "127.0.0.1:1", "--json", "--format", "list");
        Assert.True(both.ExitCode == ExitCodes.Usage, both.ToString());
        Assert.Contains("--format", both.Err);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public async Task A_port_range_is_one_whole_line_per_port_at_any_width(int columns)
    {
        await using var open = OpenPortListener.Start();
        var from = Math.Max(1, open.Port - 15);
        var to = Math.Min(65535, from + 30);
        _cli.Variables["COLUMNS"] = columns.ToString();

        var run = await _cli.RunAsync("port", $"127.0.0.1:{from}-{to}", "--timeout", "1");
        Assert.True(run.ExitCode is ExitCodes.Passed or ExitCodes.Failed, run.ToString());
        var lines = run.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        // Every port of the range on a line of its own that starts with the whole host; no other line names it.
        var checks = lines.Where(l => l.StartsWith("127.0.0.1 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(to - from + 1, checks.Count);
        Assert.All(lines.Where(l => l.Contains("127.", StringComparison.Ordinal) && !l.Contains("summary", StringComparison.Ordinal)),
            l => Assert.StartsWith("127.0.0.1 ", l));
        Assert.DoesNotContain("│", run.Out);
        // The open port is there.
        var openLine = ListLine(run.Out, "127.0.0.1", open.Port);
        Assert.Equal("ok", openLine[2]);
        Assert.StartsWith("open", openLine[3]);
        // Open ports lead (another test's listener may sit in the same range and be open too, so: an open port).
        Assert.Matches(@"^127\.0\.0\.1\s+\d+\s+ok\s+open", checks[0]);
        Assert.All(checks, l => Assert.Matches(@"^127\.0\.0\.1\s+\d+\s+(ok|fail|warn)\s", l));
    }

    [Fact]
    public async Task Format_json_is_the_raw_task_and_list_and_table_show_the_same_checks()
    {
        await using var open = OpenPortListener.Start();
        var json = await _cli.RunAsync("port", $"127.0.0.1:{open.Port}", "--timeout", "2", "--format", "json");
        Assert.True(json.ExitCode == ExitCodes.Passed, json.ToString());
        var status = JsonNode.Parse(json.Out)!;
        var id = status["task_id"]!.GetValue<string>();
        Assert.True(status["result"]!["results"]!["127.0.0.1"]!["ports"]![open.Port.ToString()]!["open"]!.GetValue<bool>());

        var get = await _cli.RunAsync("task", "get", id, "--format", "json");
        Assert.Equal(id, JsonNode.Parse(get.Out)!["task_id"]!.GetValue<string>());

        var table = await _cli.RunAsync("task", "get", id, "--format", "table");
        Assert.True(table.ExitCode == ExitCodes.Passed, table.ToString());
        Assert.Matches($@"│\s*127\.0\.0\.1\s*│\s*{open.Port}\s*│\s*ok\s*│\s*open", table.Out);

        var list = await _cli.RunAsync("task", "get", id, "--format", "list");
        Assert.Equal("ok", ListLine(list.Out, "127.0.0.1", open.Port)[2]);
        Assert.DoesNotContain("│", list.Out);
    }

    [Theory]
    [InlineData(OutputFormat.Auto, 3, 120, true, ResultLayout.Table)]
    [InlineData(OutputFormat.Auto, 9, 200, true, ResultLayout.List)]
    [InlineData(OutputFormat.Auto, 3, 80, true, ResultLayout.List)]
    [InlineData(OutputFormat.Auto, 1, 200, false, ResultLayout.List)]
    [InlineData(OutputFormat.Table, 50, 80, false, ResultLayout.Table)]
    [InlineData(OutputFormat.List, 1, 200, true, ResultLayout.List)]
    public void The_list_replaces_the_table_past_eight_checks_below_100_columns_or_when_redirected(
        OutputFormat format, int rows, int width, bool terminal, ResultLayout expected) =>
        Assert.Equal(expected, ResultLayouts.Decide(format, rows, width, terminal));

    [Fact]
    public async Task Ctrl_c_while_a_port_test_runs_says_the_task_keeps_running_and_how_to_cancel_it()
    {
        using var hanging = await HangingPort.OpenAsync();
        var run = await _cli.RunInterruptedAsync(TimeSpan.FromMilliseconds(1500), "port", $"127.0.0.1:{hanging.Port}", "--timeout", "20");
        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        var text = Regex.Replace(run.Err, @"\s+", " ");
        var id = Regex.Match(text, @"task (\S+) keeps running on the server").Groups[1].Value;
        Assert.True(id.Length > 0, run.ToString());
        Assert.Contains($"remotetest task cancel {id}", text);
        var cancel = await _cli.RunAsync("task", "cancel", id);
        Assert.True(cancel.ExitCode is ExitCodes.Passed or ExitCodes.Failed, cancel.ToString());
    }

    [Fact]
    public async Task Ctrl_c_before_the_server_confirms_the_task_says_it_may_have_been_submitted_and_where_to_look()
    {
        using var stalled = new StalledSubmit();
        var run = await _cli.RunInterruptedAsync(TimeSpan.FromMilliseconds(500), stalled, "port", "127.0.0.1:1");
        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        Assert.True(stalled.Posted, "the CLI never sent its POST /task");
        var text = Regex.Replace(run.Err, @"\s+", " ");
        Assert.Contains("interrupted before the server confirmed the task; it may have been submitted", text);
        Assert.Contains("remotetest task list", text);
        Assert.DoesNotContain("remotetest: cancelled", text);
    }

    /// <summary>A server that never answers POST /task (until the caller gives up).</summary>
    private sealed class StalledSubmit : HttpMessageHandler
    {
        public bool Posted { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Posted |= request.Method == HttpMethod.Post;
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
