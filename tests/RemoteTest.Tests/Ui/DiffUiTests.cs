using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>The diff view in Chromium: reached from history and from the task page, changed cells highlighted, baselines pinned and chosen.</summary>
public sealed partial class DiffUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    private const string DnsData = """
        {"diffui.example.test": {"original": ["192.0.2.50"], "13056": ["192.0.2.51"]},
         "diffui-stable.example.test": {"original": ["192.0.2.60"]}}
        """;

    [GeneratedRegex("against=baseline%3Aui-pre")]
    private static partial Regex BaselineUrl();

    private async Task<string> RunDnsAsync()
    {
        var id = await Fixture.Host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["args"] = new JsonArray(JsonNode.Parse(DnsData)), ["kwargs"] = new JsonObject { ["nameservers"] = new JsonArray(Fixture.Dns.NameServer) } },
        });
        Assert.Equal("SUCCESS", (await Fixture.Host.WaitAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    [Fact]
    public async Task Diff_from_history_and_the_task_page_highlights_what_changed_and_compares_with_a_pinned_baseline()
    {
        Fixture.Dns.A("diffui.example.test", "192.0.2.50").A("diffui-stable.example.test", "192.0.2.60");
        var before = await RunDnsAsync();

        // Pin the first run from its task page.
        await Page.GotoAsync($"/ui/task/{before}");
        var pin = Page.Locator("form[data-pin]");
        await pin.Locator("[name=baseline]").FillAsync("ui-pre");
        await pin.GetByRole(AriaRole.Button, new() { Name = "Pin" }).ClickAsync();
        await Expect(Page.Locator("[data-pin-note]")).ToHaveTextAsync("Pinned as ui-pre.");

        Fixture.Dns.Clear("diffui.example.test");
        Fixture.Dns.A("diffui.example.test", "192.0.2.51");
        var after = await RunDnsAsync();

        // From history: the Diff link compares with the previous run of the same task.
        await Page.GotoAsync("/ui/history?task_name=dns.check_records");
        await Page.Locator($"a[data-diff='{after}']").ClickAsync();
        await Expect(Page.Locator("[data-changed]")).ToHaveAttributeAsync("data-changed", "true");
        var state = Page.Locator("tr[data-check='dns/diffui.example.test'][data-field='state']");
        await Expect(state.Locator("td.cell-changed.before")).ToHaveTextAsync("original");
        await Expect(state.Locator("td.cell-changed.after")).ToHaveTextAsync("13056");
        await Expect(Page.Locator("tr[data-check='dns/diffui.example.test'][data-field='retrieved'] td.after")).ToHaveTextAsync("192.0.2.51");
        // A field that did not change is shown, but not highlighted.
        await Expect(Page.Locator("tr[data-check='dns/diffui.example.test'][data-field='record_type'] td.cell-changed")).ToHaveCountAsync(0);
        await Expect(Page.Locator(".summary [data-key='changed']")).ToHaveTextAsync("changed 1");
        // The unchanged domain hides until asked.
        var stable = Page.Locator("tr[data-check='dns/diffui-stable.example.test']").First;
        await Expect(stable).ToBeHiddenAsync();
        await Page.Locator("[data-show-unchanged]").CheckAsync();
        await Expect(stable).ToBeVisibleAsync();
        await Fixture.ScreenshotAsync(Page, "diff");

        // From the task page, against the pinned baseline.
        await Page.GotoAsync($"/ui/task/{after}");
        await Page.Locator($"a[data-diff='{after}']").ClickAsync();
        // The chooser is drawn again once the diff arrives: choose only after that, or the choice is lost (failed once).
        await Expect(Page.Locator("[data-changed]")).ToHaveAttributeAsync("data-changed", "true");
        await Expect(Page.Locator("select[data-against] option[value='baseline:ui-pre']")).ToHaveCountAsync(1);
        await Page.Locator("select[data-against]").SelectOptionAsync("baseline:ui-pre");
        await Page.Locator("form[data-compare]").GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(BaselineUrl());
        await Expect(Page.Locator("table.diff thead")).ToContainTextAsync("Before (baseline ui-pre)");
        await Expect(state.Locator("td.cell-changed.after")).ToHaveTextAsync("13056");

        // Against itself: nothing changed.
        await Page.GotoAsync($"/ui/diff/{after}?against={after}");
        await Expect(Page.Locator("[data-changed]")).ToHaveAttributeAsync("data-changed", "false");
        await Expect(Page.Locator("td.cell-changed")).ToHaveCountAsync(0);
    }
}
