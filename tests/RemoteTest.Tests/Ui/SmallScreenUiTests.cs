using System.Text.Json.Nodes;
using Microsoft.Playwright;
using RemoteTest.Fixtures;
using RemoteTest.Tests.Cli;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>Hundreds of ports and a 390 px phone: no sideways scrolling anywhere; skip link, token dialog, labels in words.</summary>
public sealed class SmallScreenUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    private const string NoOverflow = "() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth";

    /// <summary>For a failure message: the elements that reach past the viewport's right edge.</summary>
    private const string Widest = "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(-5).map(e => e.tagName + '.' + e.className + '[' + (e.name || '') + '] ' + Math.round(e.getBoundingClientRect().right)).join('; ')";

    private async Task<string> ManyPortsTaskAsync(IReadOnlyCollection<int> list)
    {
        var ports = new JsonArray([.. list.Select(p => (JsonNode)p)]);
        var id = await Fixture.Host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "porttest.run",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = ports } }),
                ["kwargs"] = new JsonObject { ["timeout"] = 2.0, ["tls_ports"] = new JsonArray(), ["all_addresses"] = false },
            },
        });
        Assert.Equal("SUCCESS", (await Fixture.Host.WaitAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    [Fact]
    public async Task Hundreds_of_ports_are_tiles_failed_and_open_first_with_a_filter_and_no_page_at_390_px_scrolls_sideways()
    {
        await using var open = OpenPortListener.Start();
        using var closed = new ClosedPort();
        // Loopback ports just above a closed one are almost surely closed too (refused at once): a 300-port range.
        var list = Enumerable.Range(Math.Max(1024, closed.Port - 150), 300).Append(open.Port).Distinct().ToList();
        var id = await ManyPortsTaskAsync(list);
        var dns = await Fixture.Host.SubmitDnsAsync(Fixture.Dns, """{"sip.example.test": {"original": ["192.0.2.10", "192.0.2.11"]}, "_sip._tcp.example.test": {"13056": ["10 60 5060 sbc1.example.test"]}}""", 3);
        await Fixture.Host.WaitAsync(dns);

        var phone = await Fixture.NewPageAsync(390, 844);
        try
        {
            foreach (var path in new[]
            {
                "/ui/run/ports", "/ui/run/dns", "/ui/run/apps", "/ui/run/trace", "/ui/run/json", "/ui/history", "/ui/schedules", "/ui/workers",
                $"/ui/task/{id}", $"/ui/task/{dns}",
            })
            {
                await phone.GotoAsync(path);
                await Expect(phone.Locator("#app[data-ready]")).ToHaveCountAsync(1);
                if (path.StartsWith("/ui/task/"))
                {
                    await Expect(phone.Locator(".task-body .result")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
                }
                Assert.True(await phone.EvaluateAsync<bool>(NoOverflow), $"{path} scrolls sideways at 390 px: " + await phone.EvaluateAsync<string>(Widest));
            }

            // Many ports: tiles, the failed ones first, then the open one; a filter narrows them.
            await phone.GotoAsync($"/ui/task/{id}");
            var tiles = phone.Locator("table.ports.many tr[data-host='127.0.0.1'] td[data-port]");
            await Expect(tiles).ToHaveCountAsync(list.Count, new() { Timeout = 20_000 });
            await Expect(tiles.First).ToHaveAttributeAsync("data-status", "bad");
            // Hundreds of ports refused alike are one reason row, not hundreds.
            var refusedRow = phone.Locator("section.reasons li[data-reason]", new() { HasText = "connection refused" });
            await Expect(refusedRow).ToHaveCountAsync(1);
            await Expect(refusedRow.Locator("summary")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"127\.0\.0\.1: \d{3} ports"));
            var statuses = await tiles.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.status)");
            Assert.Equal(statuses.OrderBy(s => s == "bad" ? 0 : s == "warn" ? 1 : 2), statuses);
            await phone.Locator("input.port-filter").FillAsync(open.Port.ToString());
            await Expect(phone.Locator("table.ports.many td[data-port]:visible")).ToHaveCountAsync(1);
            await Expect(phone.Locator("table.ports.many td[data-port]:visible")).ToHaveAttributeAsync("data-port", open.Port.ToString());
            await phone.Locator("input.port-filter").FillAsync("");
            Assert.True(await phone.EvaluateAsync<bool>(NoOverflow));
            await Fixture.ScreenshotAsync(phone, "phone-task-ports");

            // The wide screen too: hundreds of ports wrap instead of widening the page.
            await Page.GotoAsync($"/ui/task/{id}");
            await Expect(Page.Locator("table.ports.many")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
            Assert.True(await Page.EvaluateAsync<bool>(NoOverflow), "300 ports scroll sideways at 1280 px");
            await Fixture.ScreenshotAsync(Page, "task-many-ports");
            // Labels in words ("All addresses: no"), never raw keys.
            await Expect(Page.Locator(".summary [data-key=all_addresses]")).ToHaveTextAsync("All addresses: no");
        }
        finally
        {
            await phone.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task The_skip_link_is_the_first_tab_stop_and_the_token_is_entered_in_a_dialog_not_a_prompt()
    {
        var prompts = 0;
        Page.Dialog += (_, d) => { prompts++; d.DismissAsync(); };
        await Page.GotoAsync("/ui/history");
        await Expect(Page.Locator("#app[data-ready]")).ToHaveCountAsync(1);
        await Page.Keyboard.PressAsync("Tab");
        var focused = await Page.EvaluateAsync<string>("() => document.activeElement.textContent.trim()");
        Assert.Equal("Skip to content", focused);
        await Expect(Page.Locator("#skip-link")).ToBeVisibleAsync();
        await Page.Keyboard.PressAsync("Enter");
        Assert.Equal("app", await Page.EvaluateAsync<string>("() => document.activeElement.id"));

        await Page.Locator("#token-button").ClickAsync();
        var dialog = Page.Locator("dialog#token-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        Assert.True(await dialog.EvaluateAsync<bool>("d => d.open && d.matches(':modal')"));
        await Expect(dialog.Locator("input[type=password]")).ToBeFocusedAsync();
        await Page.Keyboard.TypeAsync("ui-test-token");
        await dialog.Locator("#token-save").ClickAsync();
        await Expect(dialog).Not.ToBeVisibleAsync();
        Assert.Equal("ui-test-token", await Page.EvaluateAsync<string>("() => localStorage.getItem('remotetest.token')"));
        // Escape closes it without a change; Remove forgets the token.
        await Page.Locator("#token-button").ClickAsync();
        await Page.Keyboard.PressAsync("Escape");
        await Expect(dialog).Not.ToBeVisibleAsync();
        Assert.Equal("ui-test-token", await Page.EvaluateAsync<string>("() => localStorage.getItem('remotetest.token')"));
        await Page.Locator("#token-button").ClickAsync();
        await dialog.Locator("#token-remove").ClickAsync();
        Assert.Null(await Page.EvaluateAsync<string?>("() => localStorage.getItem('remotetest.token')"));
        Assert.Equal(0, prompts);
    }
}
