using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RemoteTest.Cli;
using Spectre.Console.Testing;

namespace RemoteTest.Tests.Cli;

/// <summary><c>remotetest task list|cancel</c> on the real history and revoke routes, and the live progress display.</summary>
public sealed class CliTaskTests : CliServiceTest
{
    [Fact]
    public async Task Task_list_filters_by_state_task_and_time_and_pages_with_the_cursor()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await SubmitDnsAsync("""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}""", 3));
            await Host.WaitAsync(ids[^1]);
        }
        var stuck = await StartStuckTaskAsync();

        var page1 = await Runner.RunAsync("task", "list", "--task", "dns.check_records", "--state", "success", "--since", "1h", "--limit", "2");
        Assert.True(page1.ExitCode == ExitCodes.Passed, page1.ToString());
        Assert.Contains(ids[2], page1.Out);
        Assert.Contains(ids[1], page1.Out);
        Assert.DoesNotContain(ids[0], page1.Out);
        Assert.DoesNotContain(stuck, page1.Out);
        Assert.Contains("sip.example.test", page1.Out); // the Targets column
        Assert.True(page1.Out.IndexOf(ids[2], StringComparison.Ordinal) < page1.Out.IndexOf(ids[1], StringComparison.Ordinal), "newest first");

        // The last line is the command for the next page, with the same filters and the server's cursor.
        var more = Regex.Match(page1.Out, @"more: remotetest task list --state SUCCESS --task dns\.check_records --since (\S+) --limit 2 --cursor (\S+)");
        Assert.True(more.Success, page1.ToString());
        var page2 = await Runner.RunAsync("task", "list", "--task", "dns.check_records", "--state", "SUCCESS", "--since", more.Groups[1].Value,
            "--limit", "2", "--cursor", more.Groups[2].Value);
        Assert.True(page2.ExitCode == ExitCodes.Passed, page2.ToString());
        Assert.Contains(ids[0], page2.Out);
        Assert.DoesNotContain(ids[2], page2.Out);

        var running = await Runner.RunAsync("task", "list", "--state", "STARTED", "--json");
        Assert.True(running.ExitCode == ExitCodes.Passed, running.ToString());
        var tasks = JsonNode.Parse(running.Out)!["tasks"]!.AsArray();
        Assert.Equal([stuck], tasks.Select(t => t!["task_id"]!.GetValue<string>()));

        var future = await Runner.RunAsync("task", "list", "--since", "2099-01-01");
        Assert.True(future.ExitCode == ExitCodes.Passed, future.ToString());
        Assert.Contains("no task matches", future.Err);
        var older = await Runner.RunAsync("task", "list", "--until", "1h");
        Assert.True(older.ExitCode == ExitCodes.Passed, older.ToString());
        Assert.Contains("no task matches", older.Err);
        var before2099 = await Runner.RunAsync("task", "list", "--state", "STARTED", "--until", "2099-01-01", "--json");
        Assert.Equal([stuck], JsonNode.Parse(before2099.Out)!["tasks"]!.AsArray().Select(t => t!["task_id"]!.GetValue<string>()));

        foreach (var bad in new[] { new[] { "--state", "DONE" }, ["--limit", "501"], ["--since", "yesterday-ish"], ["--until", "later"] })
        {
            var usage = await Runner.RunAsync(["task", "list", .. bad]);
            Assert.True(usage.ExitCode == ExitCodes.Usage, usage.ToString());
            Assert.Contains(bad[0], usage.Err);
        }
        await Runner.RunAsync("task", "cancel", stuck);
    }

    [Fact]
    public async Task Task_cancel_revokes_a_running_task_and_an_ended_one_exits_1_with_a_clear_message()
    {
        var id = await StartStuckTaskAsync();

        var cancel = await Runner.RunAsync("task", "cancel", id);
        Assert.True(cancel.ExitCode == ExitCodes.Passed, cancel.ToString());
        Assert.Equal($"{id}: REVOKED (cancelled)", cancel.Out.Trim());
        Assert.Equal("REVOKED", (await StatusAsync(id))["state"]!.GetValue<string>());

        var get = await Runner.RunAsync("task", "get", id);
        Assert.True(get.ExitCode == ExitCodes.Failed, get.ToString());
        Assert.Contains("REVOKED", get.Out);

        var again = await Runner.RunAsync("task", "cancel", id);
        Assert.True(again.ExitCode == ExitCodes.Failed, again.ToString());
        Assert.Equal($"{id}: not cancelled: the task had already ended (REVOKED); only PENDING or STARTED tasks can be cancelled", again.Err.Trim());
        Assert.Equal("", again.Out);

        var unknown = Guid.NewGuid().ToString();
        var missing = await Runner.RunAsync("task", "cancel", unknown);
        Assert.True(missing.ExitCode == ExitCodes.Usage, missing.ToString());
        Assert.Contains($"{unknown}: no such task", missing.Err);

        var json = await Runner.RunAsync("task", "cancel", id, "--json");
        Assert.True(json.ExitCode == ExitCodes.Failed, json.ToString());
        Assert.Equal("REVOKED", JsonNode.Parse(json.Out)!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Task_list_leads_with_the_verdict_and_filters_by_it()
    {
        var passed = await SubmitDnsAsync("""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}""", 3);
        await Host.WaitAsync(passed);
        // A state nobody serves: the task runs (SUCCESS) but its check fails.
        var failed = await SubmitDnsAsync("""{"sip.example.test": {"13056": ["198.51.100.1"]}}""", 3);
        await Host.WaitAsync(failed);

        var all = await Runner.RunAsync("task", "list");
        Assert.True(all.ExitCode == ExitCodes.Passed, all.ToString());
        Assert.Contains("VERDICT", all.Out);
        Assert.Matches($@"PASS\s.*{passed}", all.Out);
        Assert.Matches($@"FAIL 1/1\s.*{failed}", all.Out);

        var onlyFailed = await Runner.RunAsync("task", "list", "--verdict", "FAIL", "--json");
        Assert.True(onlyFailed.ExitCode == ExitCodes.Passed, onlyFailed.ToString());
        var tasks = JsonNode.Parse(onlyFailed.Out)!["tasks"]!.AsArray();
        Assert.Equal([failed], tasks.Select(t => t!["task_id"]!.GetValue<string>()));
        Assert.Equal("fail", tasks[0]!["verdict"]!.GetValue<string>());

        var bad = await Runner.RunAsync("task", "list", "--verdict", "meh");
        Assert.True(bad.ExitCode == ExitCodes.Usage, bad.ToString());
        Assert.Contains("--verdict", bad.Err);
    }

    [Fact]
    public async Task Task_get_on_a_running_task_says_it_is_running_not_failed()
    {
        var id = await StartStuckTaskAsync();
        var get = await Runner.RunAsync("task", "get", id);
        // Not a pass (a script must not go ahead), but not called a failure either.
        Assert.True(get.ExitCode == ExitCodes.Failed, get.ToString());
        // The console may wrap the line: compare it with the white space folded.
        var text = Regex.Replace(get.Out, @"\s+", " ");
        Assert.Contains($"RUNNING task {id} is STARTED, not finished yet; wait for it with: remotetest task get {id} --wait", text);
        Assert.DoesNotContain("FAILED", get.Out + get.Err);
        await Runner.RunAsync("task", "cancel", id);
    }

    [Fact]
    public async Task Ctrl_c_while_waiting_says_the_task_keeps_running_and_how_to_cancel_it()
    {
        var id = await StartStuckTaskAsync();
        var run = await Runner.RunInterruptedAsync(TimeSpan.FromMilliseconds(800), "task", "get", id, "--wait");
        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        var text = Regex.Replace(run.Err, @"\s+", " ");
        Assert.Contains($"stopped waiting; task {id} keeps running on the server", text);
        Assert.Contains($"remotetest task cancel {id}", text);
        Assert.DoesNotContain("cancelled", text);
        // And it does keep running: only the waiting stopped.
        Assert.Equal("STARTED", (await StatusAsync(id))["state"]!.GetValue<string>());
        await Runner.RunAsync("task", "cancel", id);
    }

    [Fact]
    public async Task On_a_terminal_the_wait_is_a_live_progress_bar_fed_by_the_tasks_progress()
    {
        var silent = StuckTasks.SilentName(Dns);
        var file = Runner.File("progress.json", $$$"""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}, "{{{silent}}}": {"original": ["192.0.2.1"]}}""");
        // A recording console that says it is an interactive ANSI terminal: Spectre draws its live display there.
        var terminal = new TestConsole().Interactive().EmitAnsiSequences().Width(120);
        terminal.Profile.Capabilities.Ansi = true;

        var run = await Runner.RunInTerminalAsync(terminal, "dns", "check", file, "--timeout", "3");

        // The silent domain times out: the check fails (exit 1) after the bar showed one of two checks done.
        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString() + terminal.Output);
        var drawn = terminal.Output;
        Assert.Contains("STARTED 1/2", drawn);
        Assert.Contains("50%", drawn);
        Assert.Contains("━", drawn);                 // the bar itself
        Assert.Contains("\u001b[", drawn);           // redrawn in place with cursor movements, not printed as lines
        Assert.DoesNotContain("STARTED 1/2", run.Err); // the plain per-change lines are for pipes only
        Assert.Contains("sip.example.test", run.Out);
        Assert.Contains("FAILED", run.Out);
    }

    private Task<string> StartStuckTaskAsync() => StuckTasks.StartAsync(Host, Dns);

    private Task<JsonObject> StatusAsync(string id) => Host.StatusAsync(id);

    private Task<string> SubmitDnsAsync(string dnsData, double timeout) => Host.SubmitDnsAsync(Dns, dnsData, timeout);
}
