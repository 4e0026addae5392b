using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>The web UI in a real Chromium against the real service: forms, field errors, results, history.</summary>
public sealed class WebUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    [Fact]
    public async Task Dns_form_runs_a_check_and_shows_each_domain_state_coloured()
    {
        await Page.GotoAsync("/ui/run/dns");
        var domains = Page.Locator(".row.domain");
        await FillDomainAsync(domains.Nth(0), "sip.example.test", ("original", "192.0.2.10"), ("13056", "192.0.2.10, 192.0.2.11"));
        await Page.GetByRole(AriaRole.Button, new() { Name = "+ Add domain" }).ClickAsync();
        await FillDomainAsync(domains.Nth(1), "moved.example.test", ("original", "192.0.2.30"), ("13056", "192.0.2.31"));
        await Page.Locator("[name=nameservers]").FillAsync(Fixture.Dns.NameServer);
        await Fixture.ScreenshotAsync(Page, "run-dns");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/task/[0-9a-f-]{36}$"));
        var sip = Page.Locator("table.dns tr[data-domain='sip.example.test']");
        await Expect(sip.Locator(".state")).ToHaveTextAsync("13056");
        await Expect(sip.Locator(".state")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("state-c\\d"));
        await Expect(sip).ToContainTextAsync("192.0.2.11");
        var moved = Page.Locator("table.dns tr[data-domain='moved.example.test']");
        await Expect(moved.Locator(".state")).ToHaveTextAsync("unknown");
        await Expect(moved.Locator(".state")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("state-bad"));
        await Expect(Page.Locator(".verdict")).ToHaveTextAsync("1 of 2 checks failed.");
        await Fixture.ScreenshotAsync(Page, "task-dns");
    }

    [Fact]
    public async Task A_bad_input_shows_the_servers_error_next_to_the_field_and_submits_nothing()
    {
        await Page.GotoAsync("/ui/run/dns");
        await FillDomainAsync(Page.Locator(".row.domain").First, "sip.example.test", ("original", "192.0.2.10"));
        await Page.Locator("[name=nameservers]").FillAsync("not-an-address");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        var error = Page.Locator("label.field:has([name=nameservers]) .field-error");
        await Expect(error).ToContainTextAsync("not-an-address");
        await Expect(Page.Locator("[name=nameservers]")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/run/dns$"));

        // A bad domain name: the error lands beside that domain's input, not somewhere generic.
        await Page.Locator("[name=nameservers]").FillAsync("");
        await Page.Locator("[name=domain]").First.FillAsync("bad domain!");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(Page.Locator("label.field:has([name=domain]) .field-error")).ToContainTextAsync("not a valid domain name");
        await Expect(Page.Locator("label.field:has([name=nameservers]) .field-error")).ToHaveCountAsync(0);
        await Fixture.ScreenshotAsync(Page, "field-error");
    }

    [Fact]
    public async Task A_pasted_json_payload_in_the_originals_format_runs()
    {
        await Page.GotoAsync("/ui/run/json");
        await Page.Locator("[name=task_name]").SelectOptionAsync("dns.check_records");
        await Page.Locator("[name=payload]").FillAsync("""{"xsp.example.test": {"original": ["192.0.2.20"], "13057": ["192.0.2.21"]}}""");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(Page.Locator("table.dns tr[data-domain='xsp.example.test'] .state")).ToHaveTextAsync("original");
        await Expect(Page.Locator(".verdict")).ToHaveTextAsync("Every check passed.");
    }

    [Fact]
    public async Task A_task_page_exports_csv_and_json_and_its_url_can_be_shared()
    {
        var id = await SubmitDnsAsync("""{"sip.example.test": {"original": ["192.0.2.10"], "13056": ["192.0.2.10", "192.0.2.11"]}}""");
        // Opened directly, as from a shared link: the server answers the page for any /ui/task/{id}.
        await Page.GotoAsync($"/ui/task/{id}");
        await Expect(Page.Locator("table.dns .state")).ToHaveTextAsync("13056");
        await Expect(Page.Locator("#task-id")).ToHaveTextAsync(id);

        var csv = await DownloadTextAsync("[data-export=csv]");
        Assert.StartsWith("domain,record_type,state,retrieved", csv);
        Assert.Contains("sip.example.test,A,13056,192.0.2.10 192.0.2.11", csv);
        var json = JsonNode.Parse(await DownloadTextAsync("[data-export=json]"))!;
        Assert.Equal(id, json["task_id"]!.GetValue<string>());
        Assert.Equal("13056", json["result"]!["results"]!["sip.example.test"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_task_id_shows_a_friendly_message()
    {
        await Page.GotoAsync($"/ui/task/{Guid.NewGuid()}");
        await Expect(Page.Locator(".empty")).ToContainTextAsync("No such task");
    }

    [Fact]
    public async Task History_lists_tasks_and_filters_by_state_and_task()
    {
        var passed = await SubmitDnsAsync("""{"sip.example.test": {"13056": ["192.0.2.10", "192.0.2.11"]}}""");
        await Fixture.Host.WaitAsync(passed);

        await Page.GotoAsync("/ui/history");
        await Expect(Page.Locator($"tr[data-task-id='{passed}']")).ToHaveCountAsync(1);
        await Page.Locator("select[name=state]").SelectOptionAsync("FAILURE");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("state=FAILURE"));
        await Expect(Page.Locator($"tr[data-task-id='{passed}']")).ToHaveCountAsync(0);
        await Page.Locator("select[name=state]").SelectOptionAsync("SUCCESS");
        await Page.Locator("select[name=task_name]").SelectOptionAsync("dns.check_records");
        await Expect(Page.Locator($"tr[data-task-id='{passed}']")).ToHaveCountAsync(1);
        await Expect(Page.Locator("tbody tr:not([data-state='SUCCESS'])")).ToHaveCountAsync(0);
        await Fixture.ScreenshotAsync(Page, "history");
    }

    [Fact]
    public async Task Schedules_and_workers_pages_answer_with_a_list_or_a_friendly_empty_state()
    {
        await Page.GotoAsync("/ui/workers");
        await Expect(Page.Locator("h1")).ToContainTextAsync("Workers");
        await Expect(Page.Locator("table.workers, .empty")).ToHaveCountAsync(1);
        await Page.GotoAsync("/ui/schedules");
        await Expect(Page.Locator("h1")).ToContainTextAsync("Schedules");
        await Expect(Page.Locator(".empty, table.list").First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Api_clients_keep_getting_json_from_the_root_and_browsers_get_the_ui()
    {
        using var api = await Fixture.Host.Http.GetAsync("/");
        Assert.Equal("application/json", api.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(JsonNode.Parse(await api.Content.ReadAsStringAsync())!["ve_remote_test"]);

        using var curlLike = new HttpRequestMessage(HttpMethod.Get, "/");
        curlLike.Headers.Accept.ParseAdd("*/*");
        using var curl = await Fixture.Host.Http.SendAsync(curlLike);
        Assert.Equal("application/json", curl.Content.Headers.ContentType?.MediaType);

        await Page.GotoAsync("/");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/$"));
        await Expect(Page.Locator("h1")).ToHaveTextAsync("Run a test");
    }

    [Fact]
    public async Task The_page_has_no_inline_script_or_style_so_a_strict_csp_can_apply()
    {
        var html = await Fixture.Host.Http.GetStringAsync("/ui/");
        Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)[^>]*>", html);
        Assert.DoesNotContain("<style", html);
        Assert.DoesNotContain(" style=", html);
        using var missing = await Fixture.Host.Http.GetAsync("/ui/no-such-file.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var js = await Fixture.Host.Http.GetAsync("/ui/app.js");
        Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(js.Headers.ETag);
    }

    private static async Task FillDomainAsync(ILocator block, string domain, params (string State, string Values)[] states)
    {
        await block.Locator("[name=domain]").FillAsync(domain);
        for (var i = 0; i < states.Length; i++)
        {
            if (await block.Locator(".state-row").CountAsync() <= i)
            {
                await block.GetByRole(AriaRole.Button, new() { Name = "+ Add state" }).ClickAsync();
            }
            var row = block.Locator(".state-row").Nth(i);
            await row.Locator("[name=state]").FillAsync(states[i].State);
            await row.Locator("[name=values]").FillAsync(states[i].Values);
        }
    }

    private async Task<string> SubmitDnsAsync(string dnsData) => await Fixture.Host.SubmitAsync(new JsonObject
    {
        ["task_name"] = "dns.check_records",
        ["data"] = new JsonObject { ["args"] = new JsonArray(JsonNode.Parse(dnsData)), ["kwargs"] = new JsonObject { ["nameservers"] = new JsonArray(Fixture.Dns.NameServer) } },
    });

    private async Task<string> DownloadTextAsync(string button)
    {
        var download = await Page.RunAndWaitForDownloadAsync(() => Page.Locator(button).ClickAsync());
        var path = await download.PathAsync();
        return await File.ReadAllTextAsync(path);
    }
}
