using Microsoft.Playwright;
using RemoteTest.Fixtures;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>porttest.run through the browser: the hosts × ports grid with open, closed and TLS-problem cells.</summary>
public sealed class PortUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    [Fact]
    public async Task Ports_form_runs_a_test_and_shows_a_green_red_amber_grid_with_the_certificate()
    {
        using var pki = TestPki.Create();
        // Valid for 10 more days: amber (renew soon), with its CN and days left in the cell.
        using var certificate = pki.IssueServer("sbc.example.test", ["127.0.0.1"], notAfter: DateTimeOffset.UtcNow.AddDays(10.5));
        await using var tls = TlsTestServer.Start(certificate, [pki.Intermediate]);
        await using var open = OpenPortListener.Start();
        using var closed = new ClosedPort();

        await Page.GotoAsync("/ui/run/ports");
        await Page.Locator("[name=host]").First.FillAsync("127.0.0.1");
        await Page.Locator("[name=ports]").First.FillAsync($"{open.Port}, {closed.Port}, {tls.Port}");
        await Page.Locator("[name=tls_ports]").FillAsync(tls.Port.ToString());
        await Page.Locator("[name=verify_ssl]").UncheckAsync();
        await Page.Locator("[name=timeout]").FillAsync("2");
        await Fixture.ScreenshotAsync(Page, "run-ports");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        var row = Page.Locator("table.ports tr[data-host='127.0.0.1']");
        await Expect(row.Locator($"td[data-port='{open.Port}']")).ToHaveAttributeAsync("data-status", "ok", new() { Timeout = 20_000 });
        await Expect(row.Locator($"td[data-port='{open.Port}']")).ToHaveClassAsync("cell-ok");
        await Expect(row.Locator($"td[data-port='{closed.Port}']")).ToHaveClassAsync("cell-bad");
        await Expect(row.Locator($"td[data-port='{closed.Port}']")).ToContainTextAsync("refused");
        var tlsCell = row.Locator($"td[data-port='{tls.Port}']");
        await Expect(tlsCell).ToHaveClassAsync("cell-warn");
        await Expect(tlsCell).ToContainTextAsync("sbc.example.test");
        await Expect(tlsCell).ToContainTextAsync("10 d left");
        await Expect(Page.Locator(".verdict")).ToHaveTextAsync("1 of 3 checks failed.");
        // Amber, in words, says only when the certificate expires; the refused port's reason is in the red list.
        await Expect(Page.Locator($"section.reasons.tone-warn li[data-reason='127.0.0.1:{tls.Port}'] summary")).ToContainTextAsync("certificate expires in 10 days");
        await Expect(Page.Locator($"section.reasons.tone-bad li[data-reason='127.0.0.1:{closed.Port}'] summary")).ToContainTextAsync("connection refused");
        await Expect(Page.Locator($"section.reasons.tone-bad li[data-reason='127.0.0.1:{tls.Port}']")).ToHaveCountAsync(0);
        await Fixture.ScreenshotAsync(Page, "task-ports");

        var csv = await (await Page.RunAndWaitForDownloadAsync(() => Page.Locator("[data-export=csv]").ClickAsync())).PathAsync();
        var lines = await File.ReadAllLinesAsync(csv);
        Assert.StartsWith("host,port,open,status", lines[0]);
        Assert.Contains(lines, l => l.StartsWith($"127.0.0.1,{closed.Port},false,fail,connection refused,refused"));
        Assert.Contains(lines, l => l.StartsWith($"127.0.0.1,{tls.Port},true,warn,") && l.Contains(",sbc.example.test,10,"));
    }

    [Fact]
    public async Task A_port_outside_1_to_65535_is_shown_next_to_that_hosts_ports()
    {
        await Page.GotoAsync("/ui/run/ports");
        await Page.Locator("[name=host]").First.FillAsync("127.0.0.1");
        await Page.Locator("[name=ports]").First.FillAsync("80, 70000");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(Page.Locator("label.field:has([name=ports]) .field-error")).ToContainTextAsync("70000");
        await Expect(Page.Locator("[name=ports]").First).ToHaveAttributeAsync("aria-invalid", "true");
    }
}
