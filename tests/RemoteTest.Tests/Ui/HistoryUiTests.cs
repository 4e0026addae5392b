using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RemoteTest.Tests.Cli;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>History paging and revoke, and a running task's live progress and cancel, in the browser.</summary>
public sealed class HistoryUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    [Fact]
    public async Task History_revokes_a_running_task_and_says_so_when_the_task_had_already_ended()
    {
        var first = await StartStuckTaskAsync();
        var second = await StartStuckTaskAsync();

        await Page.GotoAsync("/ui/history?state=STARTED");
        var firstRow = Page.Locator($"tr[data-task-id='{first}']");
        var secondRow = Page.Locator($"tr[data-task-id='{second}']");
        await Expect(firstRow.Locator($"[data-revoke='{first}']")).ToBeVisibleAsync();
        await Expect(secondRow.Locator($"[data-revoke='{second}']")).ToBeVisibleAsync();
        await Expect(firstRow.Locator(".targets")).ToContainTextAsync(".stuck.example.test");
        await Fixture.ScreenshotAsync(Page, "history-running");

        await firstRow.Locator($"[data-revoke='{first}']").ClickAsync();
        await Expect(firstRow.Locator(".badge")).ToHaveTextAsync("REVOKED");
        await Expect(firstRow.Locator("[data-revoke]")).ToHaveCountAsync(0);
        Assert.Equal("REVOKED", (await StatusAsync(first))["state"]!.GetValue<string>());

        // Revoked elsewhere (another user, the CLI) after this page was drawn, before the page's live update saw it
        // (held off here by failing its list requests, as a brief outage would): the server answers 409 and the row says why.
        await Page.RouteAsync(url => url.Contains("/task?"), route => route.AbortAsync());
        using (var revoked = await Fixture.Host.Http.DeleteAsync($"/task/{second}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }
        await secondRow.Locator($"[data-revoke='{second}']").ClickAsync();
        await Expect(secondRow.Locator(".notice")).ToHaveTextAsync("Not cancelled: the task had already ended (REVOKED).");
        await Page.UnrouteAllAsync();
        await Expect(secondRow.Locator(".badge")).ToHaveTextAsync("REVOKED");
        await Expect(secondRow.Locator("[data-revoke]")).ToHaveCountAsync(0);

        // A finished task has no revoke button at all.
        await Page.GotoAsync("/ui/history?state=REVOKED");
        await Expect(firstRow).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-revoke]")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task History_pages_through_every_task_with_the_servers_cursor()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await SubmitDnsAsync("""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}""", 3));
            // Submission times are kept to the millisecond; two in the same one are ordered by id, not by submission.
            await Task.Delay(5);
        }
        foreach (var id in ids)
        {
            await Fixture.Host.WaitAsync(id);
        }

        await Page.GotoAsync("/ui/history?task_name=dns.check_records&limit=2");
        var rows = Page.Locator("table.history tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        // Newest first: the last one submitted heads the list.
        await Expect(rows.First).ToHaveAttributeAsync("data-task-id", ids[^1]);
        await Page.Locator("[data-more]").ClickAsync();
        await Expect(rows).ToHaveCountAsync(4);

        // Other tests of this class share the server: page on until the button goes, bounded.
        for (var page = 0; page < 200 && await Page.Locator("[data-more]").CountAsync() > 0; page++)
        {
            var before = await rows.CountAsync();
            await Page.Locator("[data-more]").ClickAsync();
            await Expect(rows).Not.ToHaveCountAsync(before);
        }
        await Expect(Page.Locator("[data-more]")).ToHaveCountAsync(0);
        var seen = new List<string>();
        foreach (var row in await rows.AllAsync())
        {
            seen.Add((await row.GetAttributeAsync("data-task-id"))!);
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.All(ids, id => Assert.Contains(id, seen));
        // Within this run's five, the order is newest first across the page boundaries.
        Assert.Equal(ids.AsEnumerable().Reverse(), seen.Where(ids.Contains));
        await Expect(Page.Locator("#history-count")).ToHaveTextAsync($"{seen.Count} tasks");
        // The page size stays in the URL when a filter changes, so a shared link shows the same pages.
        await Page.Locator("select[name=state]").SelectOptionAsync("SUCCESS");
        await Expect(Page).ToHaveURLAsync(new Regex("limit=2"));

        // Until a day is through that day: yesterday shows none of today's tasks, today shows them.
        var today = DateTime.Now.Date;
        await Page.Locator("input[name=until]").FillAsync(today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await Expect(Page).ToHaveURLAsync(new Regex("until=" + today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
        await Expect(rows).ToHaveCountAsync(0);
        await Page.Locator("input[name=until]").FillAsync(today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await Expect(rows.First).ToHaveAttributeAsync("data-task-id", ids[^1]);
    }

    [Fact]
    public async Task A_running_task_shows_live_progress_and_can_be_cancelled_from_its_page()
    {
        var silent = StuckTasks.SilentName(Fixture.Dns);
        var id = await SubmitDnsAsync($$$"""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}, "{{{silent}}}": {"original": ["192.0.2.1"]}}""", StuckTasks.TimeoutSeconds);

        await Page.GotoAsync($"/ui/task/{id}");
        // One domain answered, the other waits for its timeout: the task's progress {done: 1, total: 2}.
        await Expect(Page.Locator("#progress-text")).ToHaveTextAsync("1 of 2 checks done", new() { Timeout = 30_000 });
        await Expect(Page.Locator(".progress-area progress")).ToHaveAttributeAsync("max", "2");
        await Expect(Page.Locator(".progress-area progress")).ToHaveAttributeAsync("value", "1");
        await Expect(Page.Locator("h1 .badge")).ToHaveTextAsync("STARTED");
        await Fixture.ScreenshotAsync(Page, "task-progress");

        await Page.Locator("[data-cancel]").ClickAsync();
        await Expect(Page.Locator("#task-notice")).ToHaveTextAsync("Cancelled.");
        await Expect(Page.Locator("h1 .badge")).ToHaveTextAsync("REVOKED");
        await Expect(Page.Locator(".task-body")).ToContainTextAsync("Cancelled.");
        await Expect(Page.Locator(".progress-area progress")).ToHaveCountAsync(0);
        await Expect(Page.Locator("[data-cancel]")).ToHaveCountAsync(0);
        Assert.Equal("REVOKED", (await StatusAsync(id))["state"]!.GetValue<string>());
    }

    private Task<string> StartStuckTaskAsync() => StuckTasks.StartAsync(Fixture.Host, Fixture.Dns);

    private Task<JsonObject> StatusAsync(string id) => Fixture.Host.StatusAsync(id);

    private Task<string> SubmitDnsAsync(string dnsData, double timeout) => Fixture.Host.SubmitDnsAsync(Fixture.Dns, dnsData, timeout);
}
