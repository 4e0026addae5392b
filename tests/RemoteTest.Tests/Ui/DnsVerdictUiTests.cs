using System.Net;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures.Dns;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>The UI colours a DNS domain by the service's one verdict: resolvers that disagree are red "inconsistent".</summary>
public sealed class DnsVerdictUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    [Fact]
    public async Task A_stale_resolver_makes_the_row_red_and_inconsistent_and_the_verdict_failed()
    {
        Fixture.Dns.A("verdictui.example.test", "192.0.2.71");
        await using var stale = DnsTestServer.Start(IPAddress.Parse("127.0.0.2"));
        stale.A("verdictui.example.test", "192.0.2.70");
        var id = await Fixture.Host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["verdictui.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.70"), ["13056"] = new JsonArray("192.0.2.71") } }),
                ["kwargs"] = new JsonObject { ["nameservers"] = new JsonArray(Fixture.Dns.NameServer, stale.NameServer) },
            },
        });
        await Fixture.Host.WaitAsync(id);

        await Page.GotoAsync($"/ui/task/{id}");
        var row = Page.Locator("tr[data-domain='verdictui.example.test']");
        await Expect(row).ToHaveClassAsync("row-bad");
        await Expect(row.Locator("span.state").First).ToHaveTextAsync("inconsistent");
        await Expect(row.Locator("span.state").First).ToHaveClassAsync("state state-bad");
        await Expect(Page.Locator("p.verdict")).ToHaveTextAsync("1 of 1 checks failed.");
        // Each resolver's own state beside it, the stale one highlighted.
        await Expect(row.Locator("table.inner tr.differs")).ToHaveCountAsync(2);
    }
}
