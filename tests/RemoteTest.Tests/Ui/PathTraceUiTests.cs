using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Probes;
using RemoteTest.Tests.Infrastructure;
using RemoteTest.Tests.PathTrace;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>
/// path.trace in the browser: the hop list with the drop point marked, and the trace under a timed-out port in the
/// porttest view. The service here probes from the lab's client namespace (its sockets are made there).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PathTraceUiTests(BrowserFixture fixture, PathTraceLab lab) : IClassFixture<PathTraceLab>, IAsyncLifetime
{
    // Hop names are asked of this loopback server only (the forms do not turn resolve_names off): no PTR leaves the machine.
    private readonly DnsTestServer _dns = DnsTestServer.Start().Ptr(RoutedLab.Hop1, "r1.lab.test");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private async Task<(ServiceHost Host, IPage Page)> StartAsync()
    {
        Skip.If(lab.Unavailable is not null, lab.Unavailable);
        var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
            {
                ["RemoteTest:PathTrace:RoundInterval"] = "00:00:00.020",
                ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer,
            },
            s => s.AddSingleton<TraceSockets>(lab.ClientSockets!));
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = host.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        page.PageError += (_, message) => fixture.PageErrors.Add(message);
        return (host, page);
    }

    private static JsonObject Payload(string task, JsonObject kwargs, params int[] ports) => new()
    {
        ["task_name"] = task,
        ["data"] = new JsonObject { ["args"] = new JsonArray(PathTraceLabTests.Target(ports)), ["kwargs"] = kwargs },
    };

    [SkippableFact]
    public async Task A_trace_shows_its_hops_and_marks_where_it_was_dropped_or_rejected()
    {
        var (host, page) = await StartAsync();
        await using var _ = host;
        try
        {
            var id = await host.SubmitAsync(Payload("path.trace", new JsonObject { ["timeout"] = 0.5, ["max_hops"] = 5, ["resolve_names"] = false, ["count"] = 2 },
                PathTraceLab.OpenTcpPort, RoutedLab.DroppedTcpPort, RoutedLab.RejectedTcpPort));
            await host.WaitAsync(id);
            await page.GotoAsync($"/ui/task/{id}");

            var reached = page.Locator($"section.trace[data-trace='{RoutedLab.Target}:443 tcp']");
            await Expect(reached.Locator(".trace-end")).ToHaveTextAsync("reached", new() { Timeout = 20_000 });
            await Expect(reached.Locator("tbody tr")).ToHaveCountAsync(3);
            await Expect(reached.Locator("tbody tr").Nth(0)).ToContainTextAsync(RoutedLab.Hop1);
            await Expect(reached.Locator("tbody tr.hop-drop")).ToHaveCountAsync(0);

            var dropped = page.Locator($"section.trace[data-trace='{RoutedLab.Target}:8443 tcp']");
            await Expect(dropped.Locator(".trace-end")).ToHaveTextAsync($"filtered after hop 2 ({RoutedLab.Hop2})");
            var drop = dropped.Locator("tbody tr.hop-drop");
            await Expect(drop).ToHaveCountAsync(1);
            await Expect(drop).ToHaveAttributeAsync("data-ttl", "3");
            await Expect(drop).ToContainTextAsync("dropped here");

            var rejected = page.Locator($"section.trace[data-trace='{RoutedLab.Target}:8444 tcp']");
            await Expect(rejected.Locator(".trace-end")).ToContainTextAsync("admin-prohibited");
            await Expect(rejected.Locator("tbody tr.hop-drop")).ToContainTextAsync("rejected: admin-prohibited");
            await fixture.ScreenshotAsync(page, "task-trace");
        }
        finally
        {
            await page.Context.CloseAsync();
        }
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task A_timed_out_port_shows_its_trace_under_the_porttest_grid()
    {
        var (host, page) = await StartAsync();
        await using var _ = host;
        try
        {
            var id = await host.SubmitAsync(Payload("porttest.run", new JsonObject { ["timeout"] = 1.0, ["tls_ports"] = new JsonArray(), ["trace_failed"] = true },
                PathTraceLab.OpenTcpPort, RoutedLab.DroppedTcpPort));
            await host.WaitAsync(id);
            await page.GotoAsync($"/ui/task/{id}");

            var row = page.Locator($"table.ports tr[data-host='{RoutedLab.Target}']");
            await Expect(row.Locator("td[data-port='443']")).ToHaveClassAsync("cell-ok", new() { Timeout = 20_000 });
            await Expect(row.Locator("td[data-port='8443']")).ToContainTextAsync("timeout");
            var trace = page.Locator($".port-trace[data-host='{RoutedLab.Target}'][data-port='8443']");
            await Expect(trace.Locator(".trace-end")).ToHaveTextAsync($"filtered after hop 2 ({RoutedLab.Hop2})");
            await Expect(trace.Locator("tbody tr.hop-drop")).ToContainTextAsync("dropped here");
            await Expect(page.Locator(".port-trace[data-port='443']")).ToHaveCountAsync(0);
            await fixture.ScreenshotAsync(page, "task-ports-trace");
        }
        finally
        {
            await page.Context.CloseAsync();
        }
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task The_trace_form_submits_a_trace_and_shows_its_hop_list()
    {
        var (host, page) = await StartAsync();
        await using var _ = host;
        try
        {
            await page.GotoAsync("/ui/run/trace");
            // A port without host:port form is refused in the browser, next to the input.
            await page.Locator("[name=targets]").FillAsync(RoutedLab.Target);
            await page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
            await Expect(page.Locator(".field-error")).ToContainTextAsync("host:port");

            await page.Locator("[name=targets]").FillAsync($"{RoutedLab.Target}:{PathTraceLab.OpenTcpPort}, {RoutedLab.Target}:{RoutedLab.DroppedTcpPort}");
            await page.Locator("[name=protocol]").SelectOptionAsync("tcp");
            await page.Locator("[name=count]").FillAsync("2");
            await page.Locator("[name=max_hops]").FillAsync("5");
            await page.Locator("[name=timeout]").FillAsync("0.5");
            await page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

            var reached = page.Locator($"section.trace[data-trace='{RoutedLab.Target}:443 tcp']");
            await Expect(reached.Locator(".trace-end")).ToHaveTextAsync("reached", new() { Timeout = 20_000 });
            await Expect(reached.Locator("tbody tr")).ToHaveCountAsync(3);
            await Expect(reached.Locator("tbody tr").Nth(0)).ToContainTextAsync($"r1.lab.test ({RoutedLab.Hop1})");
            await Expect(reached.Locator("tbody tr").Nth(1)).ToContainTextAsync(RoutedLab.Hop2);
            var dropped = page.Locator($"section.trace[data-trace='{RoutedLab.Target}:8443 tcp']");
            await Expect(dropped.Locator(".trace-end")).ToHaveTextAsync($"filtered after hop 2 ({RoutedLab.Hop2})");
            await Expect(dropped.Locator("tbody tr.hop-drop")).ToContainTextAsync("dropped here");
            await fixture.ScreenshotAsync(page, "run-trace");
        }
        finally
        {
            await page.Context.CloseAsync();
        }
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task The_ports_form_trace_failed_box_traces_the_port_that_timed_out()
    {
        var (host, page) = await StartAsync();
        await using var _ = host;
        try
        {
            await page.GotoAsync("/ui/run/ports");
            await page.Locator("[name=host]").First.FillAsync(RoutedLab.Target);
            await page.Locator("[name=ports]").First.FillAsync($"{PathTraceLab.OpenTcpPort}, {RoutedLab.DroppedTcpPort}");
            await page.Locator("[name=tls_ports]").FillAsync("");
            await page.Locator("[name=timeout]").FillAsync("1");
            await page.Locator("[name=trace_failed]").CheckAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

            var trace = page.Locator($".port-trace[data-host='{RoutedLab.Target}'][data-port='8443']");
            await Expect(trace.Locator(".trace-end")).ToHaveTextAsync($"filtered after hop 2 ({RoutedLab.Hop2})", new() { Timeout = 20_000 });
            await Expect(page.Locator(".port-trace[data-port='443']")).ToHaveCountAsync(0);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
        Assert.Empty(fixture.PageErrors);
    }
}
