using System.Diagnostics;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>
/// The README's browser quick start, step by step as written: a port test and a DNS test, each timed from opening the
/// page to reading the result. Against the test service by default; scripts/quickstart.sh points it at a service
/// started with <c>dotnet run</c> (REMOTETEST_QUICKSTART_URL, REMOTETEST_QUICKSTART_NAMESERVER) and collects the
/// figures (REMOTETEST_QUICKSTART_REPORT).
/// </summary>
public sealed class QuickStartUiTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserPageTest(fixture)
{
    /// <summary>What the issue promises a new user: each test in under a minute.</summary>
    private static readonly TimeSpan Promise = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task The_readmes_browser_quick_start_runs_a_port_test_and_a_dns_test_each_within_a_minute()
    {
        var server = Environment.GetEnvironmentVariable("REMOTETEST_QUICKSTART_URL") is { Length: > 0 } url
            ? new Uri(url.TrimEnd('/') + "/")
            : Fixture.Host.BaseAddress;
        var nameserver = Environment.GetEnvironmentVariable("REMOTETEST_QUICKSTART_NAMESERVER") is { Length: > 0 } ns ? ns : Fixture.Dns.NameServer;

        // "Open http://127.0.0.1:8080/ — a browser is sent to the UI." Then Run a test → Ports & TLS: the service's
        // own port and a closed one, Run, and the hosts × ports grid.
        var port = Stopwatch.StartNew();
        await Page.GotoAsync(server.ToString());
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/$"));
        await Page.GetByRole(AriaRole.Link, new() { Name = "Run a test" }).ClickAsync();
        await Page.GetByRole(AriaRole.Tab, new() { Name = "Ports & TLS" }).ClickAsync();
        await Page.Locator("[name=host]").First.FillAsync("127.0.0.1");
        await Page.Locator("[name=ports]").First.FillAsync($"{server.Port}, 1");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        var grid = Page.Locator("table.ports tr[data-host='127.0.0.1']");
        await Expect(grid.Locator($"td[data-port='{server.Port}']")).ToHaveAttributeAsync("data-status", "ok", new() { Timeout = 60_000 });
        await Expect(grid.Locator("td[data-port='1']")).ToHaveAttributeAsync("data-status", "bad");
        port.Stop();

        // Run a test → DNS states: a domain, its states and their records, the nameserver to ask, Run.
        var dns = Stopwatch.StartNew();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Run a test" }).ClickAsync();
        await Page.GetByRole(AriaRole.Tab, new() { Name = "DNS states" }).ClickAsync();
        var block = Page.Locator(".row.domain").First;
        await block.Locator("[name=domain]").FillAsync("sip.example.test");
        await block.Locator(".state-row").Nth(0).Locator("[name=state]").FillAsync("original");
        await block.Locator(".state-row").Nth(0).Locator("[name=values]").FillAsync("192.0.2.10");
        await block.Locator(".state-row").Nth(1).Locator("[name=state]").FillAsync("13056");
        await block.Locator(".state-row").Nth(1).Locator("[name=values]").FillAsync("192.0.2.10, 192.0.2.11");
        await Page.Locator("[name=nameservers]").FillAsync(nameserver);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(Page.Locator("table.dns tr[data-domain='sip.example.test'] .state")).ToHaveTextAsync("13056", new() { Timeout = 60_000 });
        await Expect(Page.Locator(".verdict")).ToHaveTextAsync("Every check passed.");
        dns.Stop();

        var report = $"browser port test: {port.Elapsed.TotalSeconds:0.0} s\nbrowser DNS test: {dns.Elapsed.TotalSeconds:0.0} s\n";
        output.WriteLine(report);
        if (Environment.GetEnvironmentVariable("REMOTETEST_QUICKSTART_REPORT") is { Length: > 0 } file)
        {
            await File.AppendAllTextAsync(file, report);
        }
        Assert.True(port.Elapsed < Promise, $"the port test took {port.Elapsed}");
        Assert.True(dns.Elapsed < Promise, $"the DNS test took {dns.Elapsed}");
    }
}
