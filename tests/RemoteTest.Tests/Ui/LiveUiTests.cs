using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RemoteTest.Tests.Cli;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>Pages follow running tasks by themselves (polling with backoff that stops); every time carries its zone; the schedule timeline.</summary>
public sealed class LiveUiTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserPageTest(fixture)
{
    [Fact]
    public async Task History_follows_a_running_task_until_it_ends_then_stops_polling()
    {
        // Stuck on a silent name; a second, unique name lets the page list only this task (other tests' tasks never run here).
        var marker = $"u{Guid.NewGuid():N}"[..14];
        var id = await Fixture.Host.SubmitDnsAsync(Fixture.Dns,
            $$$"""{"{{{StuckTasks.SilentName(Fixture.Dns)}}}": {"original": ["192.0.2.1"]}, "{{{marker}}}.example.test": {"original": ["192.0.2.1"]}}""", StuckTasks.TimeoutSeconds);
        for (var i = 0; i < 200 && (await Fixture.Host.StatusAsync(id))["state"]!.GetValue<string>() != "STARTED"; i++)
        {
            await Task.Delay(50);
        }
        var requests = new List<(DateTime At, string Url)>();
        Page.Request += (_, r) => { if (r.Url.Contains("/task")) { lock (requests) { requests.Add((DateTime.UtcNow, r.Url)); } } };

        await Page.GotoAsync($"/ui/history?target={marker}");
        var row = Page.Locator($"tr[data-task-id='{id}']");
        await Expect(row.Locator("[data-revoke]")).ToBeVisibleAsync();
        await Expect(row.Locator(".badge")).ToHaveTextAsync("STARTED");
        // While it runs: a few list requests a second at most (1 s, then 1.5× backoff).
        var watchFrom = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(4));
        int during;
        lock (requests) { during = requests.Count(r => r.At >= watchFrom); }
        output.WriteLine($"history polling while a task runs: {during} requests in 4 s");
        Assert.InRange(during, 1, 6);

        // Ended elsewhere (the CLI, another user): the row says so without a reload, and its Revoke button goes.
        using (var revoked = await Fixture.Host.Http.DeleteAsync($"/task/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }
        await Expect(row.Locator(".badge")).ToHaveTextAsync("REVOKED", new() { Timeout = 15_000 });
        await Expect(row.Locator("[data-revoke]")).ToHaveCountAsync(0);
        // Nothing runs any more: polling has stopped.
        var quietFrom = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(4));
        int after;
        lock (requests) { after = requests.Count(r => r.At >= quietFrom); }
        output.WriteLine($"history polling after it ended: {after} requests in 4 s");
        Assert.Equal(0, after);
    }

    [Fact]
    public async Task A_task_page_shows_success_and_loses_its_cancel_button_when_the_task_ends()
    {
        var silent = StuckTasks.SilentName(Fixture.Dns);
        // Answers only after its 3 s timeout: the page sees STARTED first, then the end, with no reload.
        var id = await Fixture.Host.SubmitDnsAsync(Fixture.Dns, $$$"""{"{{{silent}}}": {"original": ["192.0.2.1"]}}""", 3);
        await Page.GotoAsync($"/ui/task/{id}");
        await Expect(Page.Locator("[data-cancel]")).ToBeVisibleAsync();
        await Expect(Page.Locator("h1 .state-text")).ToHaveTextAsync("SUCCESS", new() { Timeout = 20_000 });
        await Expect(Page.Locator("h1 .verdict-badge")).ToHaveTextAsync(new Regex("FAIL"));
        await Expect(Page.Locator("[data-cancel]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Every_time_carries_its_zone_utc_by_default_and_local_on_request()
    {
        var id = await Fixture.Host.SubmitDnsAsync(Fixture.Dns, """{"sip.example.test": {"original": ["192.0.2.10", "192.0.2.11"]}}""", 2);
        await Fixture.Host.WaitAsync(id);
        var berlin = await Fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Fixture.Host.BaseAddress.ToString(), TimezoneId = "Europe/Berlin", Locale = "en-GB" });
        try
        {
            var page = await berlin.NewPageAsync();
            await page.GotoAsync("/ui/history");
            var time = page.Locator($"tr[data-task-id='{id}'] time");
            await Expect(time).ToHaveTextAsync(new Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"));
            var utc = await time.TextContentAsync();
            await page.GotoAsync($"/ui/task/{id}");
            await Expect(page.Locator(".facts time").First).ToHaveTextAsync(new Regex(@" UTC$"));

            await page.Locator("#zone-button").ClickAsync();
            await Expect(page.Locator("#zone-button")).ToHaveTextAsync("Times: local");
            await Expect(page.Locator(".facts time").First).ToHaveTextAsync(new Regex(@" UTC\+0[12]:00$"));
            // Remembered: the history, after a reload, shows local times too — an hour or two after the UTC one.
            await page.GotoAsync("/ui/history");
            await Expect(time).ToHaveTextAsync(new Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+0[12]:00$"));
            Assert.NotEqual(utc, await time.TextContentAsync());
            await page.Keyboard.PressAsync("t");
            await Expect(time).ToHaveTextAsync(utc!);
        }
        finally
        {
            await berlin.CloseAsync();
        }
    }

    [Fact]
    public async Task A_schedules_runs_are_a_timeline_strip_per_name_coloured_by_state_with_the_flip_readable_by_keyboard()
    {
        var name = $"migration-{Guid.NewGuid():N}"[..20];
        async Task SaveAsync(string dnsData)
        {
            var body = new JsonObject
            {
                ["name"] = name,
                ["task_name"] = "dns.check_records",
                ["cron"] = "0 0 1 1 *",
                ["data"] = new JsonObject
                {
                    ["args"] = new JsonArray(JsonNode.Parse(dnsData)),
                    ["kwargs"] = new JsonObject { ["nameservers"] = new JsonArray(Fixture.Dns.NameServer), ["timeout"] = 2 },
                },
            };
            using var saved = await Fixture.Host.Http.PostAsync("/schedules", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
            Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());
        }
        async Task RunAsync()
        {
            using var run = await Fixture.Host.Http.PostAsync($"/schedules/{name}/run", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(run.IsSuccessStatusCode, await run.Content.ReadAsStringAsync());
            var id = JsonNode.Parse(await run.Content.ReadAsStringAsync())!["task_id"]!.GetValue<string>();
            await Fixture.Host.WaitAsync(id);
            await Task.Delay(5);
        }
        // Before the change sip.example.test answers as "original"; the change window then names its answer 13056.
        await SaveAsync("""{"sip.example.test": {"original": ["192.0.2.10", "192.0.2.11"], "13056": ["198.51.100.7"]}, "xsp.example.test": {"original": ["192.0.2.20"]}}""");
        await RunAsync();
        await RunAsync();
        await SaveAsync("""{"sip.example.test": {"original": ["198.51.100.7"], "13056": ["192.0.2.10", "192.0.2.11"]}, "xsp.example.test": {"original": ["192.0.2.20"]}}""");
        await RunAsync();

        await Page.GotoAsync("/ui/schedules");
        await Page.Locator($"tr[data-schedule='{name}'] a[href='/ui/schedules/{name}']").ClickAsync();
        var strip = Page.Locator(".timeline .strip[data-strip='sip.example.test'] .tcell");
        await Expect(strip).ToHaveCountAsync(3);
        Assert.Equal(["original", "original", "13056"], await strip.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.value)"));
        await Expect(strip.Nth(2)).ToHaveClassAsync(new Regex(@"\bflip\b"));
        await Expect(strip.Nth(1)).Not.ToHaveClassAsync(new Regex(@"\bflip\b"));
        // A stable colour per state name, with a legend; the two states differ.
        var original = await strip.Nth(0).GetAttributeAsync("class");
        Assert.Equal(original, await strip.Nth(1).GetAttributeAsync("class"));
        Assert.NotEqual(original!.Replace(" flip", ""), (await strip.Nth(2).GetAttributeAsync("class"))!.Replace(" flip", ""));
        await Expect(Page.Locator(".tl-legend [data-legend='original']")).ToHaveCountAsync(1);
        await Expect(Page.Locator(".tl-legend [data-legend='13056']")).ToHaveCountAsync(1);
        await Expect(Page.Locator(".timeline .strip[data-strip='xsp.example.test'] .tcell")).ToHaveCountAsync(3);

        // Keyboard: each cell is a Tab stop whose run time and value are text, said when focused.
        await strip.Nth(2).FocusAsync();
        await Expect(Page.Locator(".timeline-detail")).ToContainTextAsync("sip.example.test");
        await Expect(Page.Locator(".timeline-detail")).ToContainTextAsync("13056 (changed from original)");
        await Expect(Page.Locator(".timeline-detail")).ToContainTextAsync(new Regex(@"\d\d:\d\d:\d\d UTC"));
        await Expect(strip.Nth(2)).ToContainTextAsync("13056");
        await Fixture.ScreenshotAsync(Page, "schedule-timeline");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page).ToHaveURLAsync(new Regex("/ui/task/[0-9a-f-]{36}$"));
    }

    [Fact]
    public async Task A_port_schedules_timeline_shows_when_a_port_closed_as_a_red_cell_with_its_reason()
    {
        var name = $"ports-{Guid.NewGuid():N}"[..16];
        var open = RemoteTest.Fixtures.OpenPortListener.Start();
        using var closed = new RemoteTest.Fixtures.ClosedPort();
        var port = open.Port;
        var body = new JsonObject
        {
            ["name"] = name,
            ["task_name"] = "porttest.run",
            ["cron"] = "0 0 1 1 *",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray(port, closed.Port) } }),
                ["kwargs"] = new JsonObject { ["timeout"] = 2, ["tls_ports"] = new JsonArray() },
            },
        };
        using (var saved = await Fixture.Host.Http.PostAsync("/schedules", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());
        }
        async Task RunAsync()
        {
            using var run = await Fixture.Host.Http.PostAsync($"/schedules/{name}/run", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(run.IsSuccessStatusCode, await run.Content.ReadAsStringAsync());
            await Fixture.Host.WaitAsync(JsonNode.Parse(await run.Content.ReadAsStringAsync())!["task_id"]!.GetValue<string>());
            await Task.Delay(5);
        }
        await RunAsync();
        // The change: the service behind the port stops.
        await open.DisposeAsync();
        await RunAsync();

        await Page.GotoAsync($"/ui/schedules/{name}");
        var strip = Page.Locator($".timeline .strip[data-strip='127.0.0.1:{port}'] .tcell");
        await Expect(strip).ToHaveCountAsync(2);
        Assert.Equal(["open", "closed"], await strip.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.value)"));
        await Expect(strip.Nth(0)).ToHaveClassAsync(new Regex(@"\btl-ok\b"));
        await Expect(strip.Nth(1)).ToHaveClassAsync(new Regex(@"\btl-bad\b.*\bflip\b"));
        await Expect(strip.Nth(1)).ToContainTextAsync("closed — failed: connection refused (changed from open)");
        // The closed-all-along port is red from the start: no flip.
        var always = Page.Locator($".timeline .strip[data-strip='127.0.0.1:{closed.Port}'] .tcell");
        await Expect(always.Nth(1)).Not.ToHaveClassAsync(new Regex(@"\bflip\b"));
        await Expect(Page.Locator(".timeline .strip[data-strip='Verdict'] .tcell").Nth(0)).ToHaveClassAsync(new Regex(@"\btl-bad\b"));
    }

    [Fact]
    public async Task The_schedules_page_follows_a_running_run_until_it_ends()
    {
        var name = $"stuck-{Guid.NewGuid():N}"[..16];
        var body = new JsonObject
        {
            ["name"] = name,
            ["task_name"] = "dns.check_records",
            ["cron"] = "0 0 1 1 *",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { [StuckTasks.SilentName(Fixture.Dns)] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }),
                ["kwargs"] = new JsonObject { ["nameservers"] = new JsonArray(Fixture.Dns.NameServer), ["timeout"] = StuckTasks.TimeoutSeconds },
            },
        };
        using (var saved = await Fixture.Host.Http.PostAsync("/schedules", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());
        }
        string id;
        using (var run = await Fixture.Host.Http.PostAsync($"/schedules/{name}/run", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
        {
            id = JsonNode.Parse(await run.Content.ReadAsStringAsync())!["task_id"]!.GetValue<string>();
        }
        for (var i = 0; i < 200 && (await Fixture.Host.StatusAsync(id))["state"]!.GetValue<string>() != "STARTED"; i++)
        {
            await Task.Delay(50);
        }

        await Page.GotoAsync("/ui/schedules");
        var badge = Page.Locator($"tr[data-schedule='{name}'] .last-runs [data-run-id='{id}'] .badge");
        await Expect(badge).ToHaveTextAsync("STARTED");
        using (var revoked = await Fixture.Host.Http.DeleteAsync($"/task/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }
        await Expect(badge).ToHaveTextAsync("REVOKED", new() { Timeout = 15_000 });
        using var deleted = await Fixture.Host.Http.DeleteAsync($"/schedules/{name}");
    }

    [Fact]
    public async Task The_workers_page_follows_the_tasks_a_worker_runs()
    {
        var id = await StuckTasks.StartAsync(Fixture.Host, Fixture.Dns);
        await Page.GotoAsync("/ui/workers");
        var link = Page.Locator($"table.workers td.running a[href='/ui/task/{id}']");
        await Expect(link).ToHaveCountAsync(1);
        using (var revoked = await Fixture.Host.Http.DeleteAsync($"/task/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }
        // Gone without a reload.
        await Expect(link).ToHaveCountAsync(0, new() { Timeout = 15_000 });
    }
}
