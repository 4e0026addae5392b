using System.Text.Json.Nodes;
using RemoteTest.Fixtures;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>The verdict leads in the history and on the task page; colours mean one thing each.</summary>
public sealed class VerdictUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    private async Task<string> RunPortsAsync(int[] ports, int[]? tlsPorts = null)
    {
        var id = await Fixture.Host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "porttest.run",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)p)]) } }),
                ["kwargs"] = new JsonObject { ["timeout"] = 3.0, ["tls_ports"] = new JsonArray([.. (tlsPorts ?? []).Select(p => (JsonNode)p)]) },
            },
        });
        Assert.Equal("SUCCESS", (await Fixture.Host.WaitAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    [Fact]
    public async Task History_rows_and_the_task_page_lead_with_pass_fail_partial_and_a_refused_certificate_is_red()
    {
        await using var open = OpenPortListener.Start();
        using var closed = new ClosedPort();
        await using var selfSigned = TlsTestServer.Start(TestPki.SelfSigned("sbc.lab.test", ["localhost"]));
        var pass = await RunPortsAsync([open.Port]);
        var partial = await RunPortsAsync([open.Port, closed.Port]);
        // Verification on and a self-signed certificate: the server refuses it (failed_ports).
        var refused = await RunPortsAsync([selfSigned.Port], [selfSigned.Port]);

        await Page.GotoAsync("/ui/history");
        var passRow = Page.Locator($"tr[data-task-id='{pass}']");
        await Expect(passRow.Locator(".verdict-badge")).ToHaveTextAsync("PASS");
        await Expect(passRow.Locator(".state-text")).ToHaveTextAsync("SUCCESS");
        await Expect(Page.Locator($"tr[data-task-id='{partial}'] .verdict-badge")).ToHaveTextAsync("PARTIAL 1/2");
        await Expect(Page.Locator($"tr[data-task-id='{refused}'] .verdict-badge")).ToHaveTextAsync("FAIL 1/1");

        // Green means passed, red failed; the SUCCESS state is not painted green beside a failed verdict.
        var ok = await Page.EvaluateAsync<string>("getComputedStyle(document.documentElement).getPropertyValue('--ok').trim()");
        var bad = await Page.EvaluateAsync<string>("getComputedStyle(document.documentElement).getPropertyValue('--bad').trim()");
        Assert.NotEqual(ok, bad);
        Task<string> Colour(string selector) => Page.Locator(selector).EvaluateAsync<string>("e => getComputedStyle(e).color");
        var probe = await Page.EvaluateAsync<string[]>(
            "([a, b]) => [a, b].map(c => { const s = document.createElement('span'); s.style.color = c; document.body.append(s); const v = getComputedStyle(s).color; s.remove(); return v; })",
            new[] { ok, bad });
        Assert.Equal(probe[0], await Colour($"tr[data-task-id='{pass}'] .verdict-badge"));
        Assert.Equal(probe[1], await Colour($"tr[data-task-id='{partial}'] .verdict-badge"));
        Assert.NotEqual(probe[0], await Colour($"tr[data-task-id='{partial}'] .state-text"));
        await Fixture.ScreenshotAsync(Page, "history-verdicts");

        // Filtering by verdict asks the server (?verdict=) and keeps the filter in the URL.
        await Page.Locator("select[name=verdict]").SelectOptionAsync("partial");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("verdict=partial"));
        await Expect(Page.Locator($"tr[data-task-id='{partial}']")).ToHaveCountAsync(1);
        await Expect(Page.Locator("tbody tr:not([data-verdict='partial'])")).ToHaveCountAsync(0);

        await Page.GotoAsync($"/ui/task/{partial}");
        await Expect(Page.Locator("h1 .verdict-badge")).ToHaveTextAsync("PARTIAL 1/2");
        await Expect(Page.Locator("h1 .state-text")).ToHaveTextAsync("SUCCESS");
        await Expect(Page.Locator("p.verdict")).ToHaveTextAsync("1 of 2 checks failed.");

        await Page.GotoAsync($"/ui/task/{refused}");
        await Expect(Page.Locator("h1 .verdict-badge")).ToHaveTextAsync("FAIL 1/1");
        var cell = Page.Locator($"table.ports tr[data-host='127.0.0.1'] td[data-port='{selfSigned.Port}']");
        await Expect(cell).ToHaveClassAsync("cell-bad");
    }
}
