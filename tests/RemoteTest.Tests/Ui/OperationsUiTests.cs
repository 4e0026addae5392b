using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using RemoteTest.Cli;
using RemoteTest.Tests.Cli;
using RemoteTest.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>Schedules, workers and fan-out groups in the browser and the CLI, once the server offers those routes.</summary>
public sealed class OperationsUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    [Fact]
    public async Task A_schedule_is_added_run_now_and_deleted_from_the_schedules_page()
    {
        var name = $"dns-watch-{Guid.NewGuid():N}"[..20];
        await Page.GotoAsync("/ui/schedules");
        await Page.Locator("form.schedule [name=name]").FillAsync(name);
        await Page.Locator("form.schedule [name=task_name]").SelectOptionAsync("dns.check_records");
        await Page.Locator("form.schedule [name=cron]").FillAsync("not a cron");
        var data = new JsonObject
        {
            ["args"] = new JsonArray(JsonNode.Parse("""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}""")),
            ["kwargs"] = new JsonObject { ["nameservers"] = new JsonArray(Fixture.Dns.NameServer) },
        };
        await Page.Locator("form.schedule [name=data]").FillAsync(data.ToJsonString());
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add schedule" }).ClickAsync();
        await Expect(Page.Locator("label.field:has([name=cron]) .field-error")).ToBeVisibleAsync();

        await Page.Locator("form.schedule [name=cron]").FillAsync("*/5 * * * *");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add schedule" }).ClickAsync();
        var row = Page.Locator($"tr[data-schedule='{name}']");
        await Expect(row).ToContainTextAsync("*/5 * * * *");
        await Expect(row.Locator(".last-runs")).ToContainTextAsync("not run yet");

        await row.Locator($"[data-run='{name}']").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/task/[0-9a-f-]{36}$"));
        await Expect(Page.Locator("table.dns .state")).ToHaveTextAsync("13056");

        var runId = Page.Url[(Page.Url.LastIndexOf('/') + 1)..];

        // The schedule's last runs (GET /schedules/{name}) link to each run, and "all runs" to its history.
        await Page.GotoAsync("/ui/schedules");
        // The run's verdict leads (the domain is in a named state: PASS), the state follows as text.
        await Expect(row.Locator($".last-runs [data-run-id='{runId}'] .badge")).ToHaveTextAsync("PASS");
        await Expect(row.Locator($".last-runs [data-run-id='{runId}'] .state-text")).ToHaveTextAsync("SUCCESS");
        await Fixture.ScreenshotAsync(Page, "schedules");
        await row.Locator($"[data-all-runs='{name}']").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/ui/history\\?schedule={name}$"));
        await Expect(Page.Locator("[data-filter=schedule]")).ToContainTextAsync(name);
        await Expect(Page.Locator("table.history tbody tr")).ToHaveCountAsync(1);
        await Expect(Page.Locator($"tr[data-task-id='{runId}']")).ToContainTextAsync(name);

        await Page.GotoAsync("/ui/schedules");
        Page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await Page.Locator($"tr[data-schedule='{name}'] button.danger").ClickAsync();
        await Expect(Page.Locator($"tr[data-schedule='{name}']")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_fan_out_shows_each_location_side_by_side_in_the_browser_and_the_cli()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Dns:DefaultNameservers:0"] = Fixture.Dns.NameServer,
            ["RemoteTest:Worker:Queues:0"] = "fra",
            ["RemoteTest:Worker:Queues:1"] = "dfw",
            ["RemoteTest:Worker:Location"] = "Test Lab",
        });

        await Page.GotoAsync($"{host.BaseAddress}ui/workers");
        await Expect(Page.Locator("table.workers tbody tr").First).ToContainTextAsync("Test Lab");
        await Fixture.ScreenshotAsync(Page, "workers");

        await Page.GotoAsync($"{host.BaseAddress}ui/run/dns");
        var block = Page.Locator(".row.domain").First;
        await block.Locator("[name=domain]").FillAsync("sip.example.test");
        await block.Locator(".state-row").First.Locator("[name=state]").FillAsync("13056");
        await block.Locator(".state-row").First.Locator("[name=values]").FillAsync("192.0.2.10, 192.0.2.11");
        await Page.Locator("[name=queue]").FillAsync("fra, dfw");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(Page.Locator("section.location[data-location='fra'] table.dns .state")).ToHaveTextAsync("13056", new() { Timeout = 30_000 });
        await Expect(Page.Locator("section.location[data-location='dfw'] table.dns .state")).ToHaveTextAsync("13056");
        await Fixture.ScreenshotAsync(Page, "task-group");

        using var cli = new CliRunner(host.BaseAddress);
        var run = await cli.RunAsync("dns", "check", cli.File("d.json", """{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}"""), "--queues", "fra,dfw");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        Assert.Contains("fra", run.Out);
        Assert.Contains("dfw", run.Out);
        var workers = await cli.RunAsync("workers");
        Assert.True(workers.ExitCode == ExitCodes.Passed, workers.ToString());
        Assert.Contains("Test Lab", workers.Out);

        // Cancel a group: it has no row of its own, so each location's task is revoked (browser, then CLI).
        var inBrowser = await cli.RunAsync("dns", "check", cli.File("s1.json", $$$"""{"{{{StuckTasks.SilentName(Fixture.Dns)}}}": {"original": ["192.0.2.1"]}}"""),
            "--queues", "fra,dfw", "--timeout", "30", "--no-wait");
        var group = inBrowser.Out.Trim();
        await Page.GotoAsync($"{host.BaseAddress}ui/task/{group}");
        await Expect(Page.Locator("section.location")).ToHaveCountAsync(2);
        await Page.Locator("[data-cancel]").ClickAsync();
        await Expect(Page.Locator("#task-notice")).ToHaveTextAsync("Cancelled 2 locations.");
        await Expect(Page.Locator("section.location .badge")).ToHaveTextAsync(["REVOKED", "REVOKED"]);

        var inCli = await cli.RunAsync("dns", "check", cli.File("s2.json", $$$"""{"{{{StuckTasks.SilentName(Fixture.Dns)}}}": {"original": ["192.0.2.1"]}}"""),
            "--queues", "fra,dfw", "--timeout", "30", "--no-wait");
        var cancel = await cli.RunAsync("task", "cancel", inCli.Out.Trim());
        Assert.True(cancel.ExitCode == ExitCodes.Passed, cancel.ToString());
        Assert.Matches(@"(?m)^fra [0-9a-f-]{36}: REVOKED \(cancelled\)$", cancel.Out.ReplaceLineEndings("\n"));
        Assert.Matches(@"(?m)^dfw [0-9a-f-]{36}: REVOKED \(cancelled\)$", cancel.Out.ReplaceLineEndings("\n"));
        var again = await cli.RunAsync("task", "cancel", inCli.Out.Trim());
        Assert.True(again.ExitCode == ExitCodes.Failed, again.ToString());
        Assert.Contains("not cancelled: the task had already ended (REVOKED)", again.Err);
    }
}
