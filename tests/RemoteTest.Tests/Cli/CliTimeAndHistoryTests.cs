using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RemoteTest.Cli;

namespace RemoteTest.Tests.Cli;

/// <summary>Times with their zone (UTC, or local on request), <c>task list --target</c>, and a history readable at 80 columns.</summary>
public sealed class CliTimeAndHistoryTests : CliServiceTest
{
    private const string UtcTime = @"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC";

    /// <summary>A zone no CI machine is in, so "local" cannot pass by being UTC.</summary>
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.CreateCustomTimeZone("Test/+0530", TimeSpan.FromMinutes(330), "Test +05:30", "Test +05:30");

    private Task<string> SubmitDnsAsync(string dnsData) => Host.SubmitDnsAsync(Dns, dnsData, 3);

    [Fact]
    public async Task Times_carry_their_zone_utc_by_default_local_with_the_option_or_the_variable()
    {
        var id = await SubmitDnsAsync("""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}""");
        await Host.WaitAsync(id);
        var submitted = DateTimeOffset.Parse((await Host.StatusAsync(id))["date_submitted"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Runner.LocalZone = Kolkata;

        var list = await Runner.RunAsync("task", "list");
        Assert.True(list.ExitCode == ExitCodes.Passed, list.ToString());
        Assert.Contains(submitted.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC", list.Out);

        Runner.Variables["COLUMNS"] = "80";
        var get = await Runner.RunAsync("task", "get", id);
        // On one line, even at 80 columns: a time is never split from its zone.
        Assert.Matches($"(?m)^submitted {UtcTime}  started {UtcTime}  done {UtcTime}$", get.Out);

        var local = submitted.ToOffset(TimeSpan.FromMinutes(330)).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " +05:30";
        var listLocal = await Runner.RunAsync("task", "list", "--local-time");
        Assert.Contains(local, listLocal.Out);
        Assert.DoesNotMatch(UtcTime, listLocal.Out);
        var getLocal = await Runner.RunAsync("task", "get", id, "--local-time");
        Assert.Contains($"submitted {local}", getLocal.Out);

        Runner.Variables["REMOTETEST_LOCAL_TIME"] = "1";
        var byVariable = await Runner.RunAsync("task", "list");
        Assert.Contains(local, byVariable.Out);
    }

    [Fact]
    public async Task Workers_show_when_they_started_and_last_beat_with_the_zone()
    {
        var run = await Runner.RunAsync("workers");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        // The embedded worker: its start and heartbeat, each a whole time with its zone.
        Assert.Matches($"{UtcTime}.*{UtcTime}", run.Out);
        Runner.LocalZone = Kolkata;
        var local = await Runner.RunAsync("workers", "--local-time");
        Assert.Matches(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30", local.Out);
        Assert.DoesNotMatch(UtcTime, local.Out);
    }

    [Fact]
    public async Task Diff_shows_when_each_run_ended_with_its_zone()
    {
        var data = """{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}""";
        var before = await SubmitDnsAsync(data);
        await Host.WaitAsync(before);
        var after = await SubmitDnsAsync(data);
        await Host.WaitAsync(after);
        var diff = await Runner.RunAsync("diff", after, before);
        Assert.True(diff.ExitCode == ExitCodes.Passed, diff.ToString());
        Assert.Matches($"before: {before}  done {UtcTime}", diff.Out);
        Assert.Matches($"after: {after}  done {UtcTime}", diff.Out);
    }

    [Fact]
    public async Task Task_list_sends_the_target_filter_to_the_history_route()
    {
        var seen = new ForwardingHandler();
        var run = await Runner.RunWithAsync("", seen, "task", "list", "--target", "SIP.example", "--json");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        Assert.Contains(seen.Paths, p => p.StartsWith("/task?", StringComparison.Ordinal) && p.Contains("target=SIP.example", StringComparison.Ordinal));

        var empty = await Runner.RunAsync("task", "list", "--target", " ");
        Assert.True(empty.ExitCode == ExitCodes.Usage, empty.ToString());
        Assert.Contains("--target", empty.Err);
    }

    /// <summary>
    /// The server side of <c>GET /task?target=</c> (a case-insensitive substring of a task's arguments) filters for real.
    /// </summary>
    [Fact]
    public async Task Task_list_target_keeps_only_the_tasks_naming_that_target()
    {
        var sip = await SubmitDnsAsync("""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}""");
        var xsp = await SubmitDnsAsync("""{"xsp.example.test": {"original": ["192.0.2.20"]}}""");
        await Host.WaitAsync(sip);
        await Host.WaitAsync(xsp);
        var run = await Runner.RunAsync("task", "list", "--target", "XSP.example", "--json");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        Assert.Equal([xsp], JsonNode.Parse(run.Out)!["tasks"]!.AsArray().Select(t => t!["task_id"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public async Task Task_list_is_one_line_per_task_at_80_and_120_columns(int columns)
    {
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            ids.Add(await SubmitDnsAsync("""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}, "xsp.example.test": {"original": ["192.0.2.20"]}}"""));
            await Host.WaitAsync(ids[^1]);
        }
        Runner.Variables["COLUMNS"] = columns.ToString();
        var run = await Runner.RunAsync("task", "list");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        foreach (var id in ids)
        {
            var line = run.Out.Split('\n').Single(l => l.Contains(id, StringComparison.Ordinal));
            Assert.Matches($@"^PASS\s+{id}\s+dns\.check_records\s+SUCCESS\s+sip\.example\.test, xsp\.example\.test\s+\S*\s+{UtcTime}\s+\d", line);
        }
        Assert.DoesNotContain("│", run.Out);

        // The table when asked for, on a console wide enough for its eight columns.
        Runner.Variables["COLUMNS"] = "200";
        var table = await Runner.RunAsync("task", "list", "--format", "table");
        Assert.Contains("│", table.Out);
        Assert.Contains(ids[0], table.Out);
    }

    /// <summary>Forwards to the real service over loopback and records each request's path and query.</summary>
    private sealed class ForwardingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        public List<string> Paths { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Paths)
            {
                Paths.Add(request.RequestUri!.PathAndQuery);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
