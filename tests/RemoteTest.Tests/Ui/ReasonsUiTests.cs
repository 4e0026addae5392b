using System.Text.Json.Nodes;
using Microsoft.Playwright;
using RemoteTest.Fixtures;
using RemoteTest.Tests.Cli;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>Each failed check says why, as text in the page (expandable, keyboard-reachable); red means failed, amber only "expires soon".</summary>
public sealed class ReasonsUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    private async Task<string> RunPortsAsync(JsonObject hosts, JsonObject? kwargs = null)
    {
        var id = await Fixture.Host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "porttest.run",
            ["data"] = new JsonObject { ["args"] = new JsonArray(hosts), ["kwargs"] = kwargs ?? new JsonObject() },
        });
        Assert.Equal("SUCCESS", (await Fixture.Host.WaitAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    [Fact]
    public async Task Failed_ports_show_their_reasons_as_text_rows_a_refused_certificate_and_plain_text_are_red_and_the_csv_says_fail()
    {
        await using var selfSigned = TlsTestServer.Start(TestPki.SelfSigned("sbc.lab.test", ["sbc.lab.test"]));
        await using var plain = PlainTextListener.Start();
        await using var open = OpenPortListener.Start();
        using var closed = new ClosedPort();
        int[] ports = [selfSigned.Port, plain.Port, open.Port, closed.Port];
        var id = await RunPortsAsync(
            new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)p)]) } },
            new JsonObject { ["timeout"] = 3.0, ["tls_ports"] = new JsonArray(selfSigned.Port, plain.Port) });

        await Page.GotoAsync($"/ui/task/{id}");
        var reasons = Page.Locator("section.reasons");
        await Expect(reasons.Locator("li[data-reason]")).ToHaveCountAsync(3);
        // The reason is the summary's own text: visible without hovering, selectable, copyable.
        var refused = reasons.Locator($"li[data-reason='127.0.0.1:{selfSigned.Port}'] summary");
        await Expect(refused).ToContainTextAsync("name mismatch");
        await Expect(refused).ToContainTextAsync("sbc.lab.test");
        await Expect(reasons.Locator($"li[data-reason='127.0.0.1:{plain.Port}'] summary")).ToContainTextAsync("plain text, not TLS");
        await Expect(reasons.Locator($"li[data-reason='127.0.0.1:{closed.Port}'] summary")).ToContainTextAsync("refused");
        await Expect(reasons.Locator($"li[data-reason='127.0.0.1:{open.Port}']")).ToHaveCountAsync(0);

        // Keyboard: the row is reached with Tab (a <summary> is focusable) and opens with Enter, showing every fact.
        var facts = reasons.Locator($"li[data-reason='127.0.0.1:{selfSigned.Port}'] .reason-facts");
        await Expect(facts).Not.ToBeVisibleAsync();
        await refused.FocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(facts).ToBeVisibleAsync();
        await Expect(facts).ToContainTextAsync("certificate CN: sbc.lab.test");
        Assert.True(await refused.EvaluateAsync<int>("e => e.tabIndex") >= 0);

        // No reason lives only in a hover title.
        await Expect(Page.Locator("table.ports td[title]")).ToHaveCountAsync(0);
        var tlsCell = Page.Locator($"table.ports td[data-port='{selfSigned.Port}']");
        await Expect(tlsCell).ToHaveClassAsync("cell-bad");
        await Expect(tlsCell).ToContainTextAsync("name mismatch");
        await Expect(Page.Locator($"table.ports td[data-port='{plain.Port}']")).ToHaveClassAsync("cell-bad");
        // Red is red: the refused certificate's cell has the failed colour, not amber's.
        var colours = await Page.EvaluateAsync<string[]>(
            "() => ['--bad-bg', '--warn-bg'].map(v => { const s = document.createElement('span'); s.style.background = getComputedStyle(document.documentElement).getPropertyValue(v); document.body.append(s); const c = getComputedStyle(s).backgroundColor; s.remove(); return c; })");
        Assert.Equal(colours[0], await tlsCell.EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor"));
        Assert.NotEqual(colours[1], await tlsCell.EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor"));
        await Fixture.ScreenshotAsync(Page, "task-reasons");

        var csv = await (await Page.RunAndWaitForDownloadAsync(() => Page.Locator("[data-export=csv]").ClickAsync())).PathAsync();
        var lines = await File.ReadAllLinesAsync(csv);
        Assert.Contains(lines, l => l.StartsWith($"127.0.0.1,{selfSigned.Port},true,fail,"));
        Assert.Contains(lines, l => l.StartsWith($"127.0.0.1,{closed.Port},false,fail,"));
        Assert.Contains(lines, l => l.StartsWith($"127.0.0.1,{open.Port},true,ok,"));
        Assert.DoesNotContain(lines, l => l.Contains(",warn,"));
    }

    [Fact]
    public async Task A_failed_dns_name_says_why_in_words_and_the_ttl_is_shown()
    {
        var id = await Fixture.Host.SubmitDnsAsync(Fixture.Dns, """{"sip.example.test": {"original": ["203.0.113.1"], "13056": ["203.0.113.2"]}, "xsp.example.test": {"13056": ["192.0.2.20"]}}""", 3);
        Assert.Equal("SUCCESS", (await Fixture.Host.WaitAsync(id))["state"]!.GetValue<string>());

        await Page.GotoAsync($"/ui/task/{id}");
        var reason = Page.Locator("section.reasons li[data-reason='sip.example.test'] summary");
        await Expect(reason).ToContainTextAsync("matches none of the named states");
        await Expect(reason).ToContainTextAsync("192.0.2.10");
        await Expect(Page.Locator("section.reasons li[data-reason='xsp.example.test']")).ToHaveCountAsync(0);
        // TTL in its own column, in seconds (the test server answers with a TTL).
        await Expect(Page.Locator("table.dns thead")).ToContainTextAsync("TTL");
        await Expect(Page.Locator("tr[data-domain='xsp.example.test'] td.ttl")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+ s$"));
        // Summary labels in words, not raw keys.
        await Expect(Page.Locator(".summary")).Not.ToContainTextAsync("duration_sec");
    }
}
