using Microsoft.Playwright;
using RemoteTest.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>apptest.run through the browser against the fake BroadWorks servers: the host × application grid.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AppUiTests(BrowserFixture fixture, BroadWorksLab lab) : IAsyncLifetime, IClassFixture<BroadWorksLab>
{
    private IPage _page = null!;

    public async Task InitializeAsync() => _page = await fixture.NewPageAsync();

    public async Task DisposeAsync()
    {
        await _page.Context.CloseAsync();
        Assert.Empty(fixture.PageErrors);
    }

    [SkippableFact]
    public async Task Applications_form_runs_a_test_shows_the_grid_with_error_text_and_never_shows_the_password()
    {
        await fixture.Host.SkipUnlessTaskAsync("apptest.run");
        lab.Heal();
        await _page.GotoAsync("/ui/run/apps");
        await _page.Locator("[name=host]").First.FillAsync("127.0.0.1");
        foreach (var app in new[] { "OpenClientServer", "Xsi-Actions", "NotificationPushServer" })
        {
            await _page.Locator($"[name=app][value='{app}']").CheckAsync();
        }
        await _page.Locator("[name=user_id]").FillAsync(BroadWorksLab.User);
        await _page.Locator("[name=password]").FillAsync(BroadWorksLab.Password);
        await _page.Locator("[name=extra]").FillAsync(new System.Text.Json.Nodes.JsonObject { ["ports"] = lab.Ports() }.ToJsonString());
        await _page.Locator("[name=verify_ssl]").UncheckAsync();
        await fixture.ScreenshotAsync(_page, "run-apps");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        var row = _page.Locator("table.apps tr[data-host='127.0.0.1']");
        await Expect(row.Locator("td[data-app='OpenClientServer']")).ToHaveClassAsync("cell-ok", new() { Timeout = 30_000 });
        await Expect(row.Locator("td[data-app='Xsi-Actions']")).ToHaveClassAsync("cell-ok");
        var nps = row.Locator("td[data-app='NotificationPushServer']");
        await Expect(nps).ToHaveClassAsync("cell-bad");
        await Expect(nps).ToContainTextAsync("not checkable remotely");
        await fixture.ScreenshotAsync(_page, "task-apps");

        Assert.DoesNotContain(BroadWorksLab.Password, await _page.ContentAsync());
        var json = await (await _page.RunAndWaitForDownloadAsync(() => _page.Locator("[data-export=json]").ClickAsync())).PathAsync();
        Assert.DoesNotContain(BroadWorksLab.Password, await File.ReadAllTextAsync(json));
    }

    [SkippableFact]
    public async Task Picking_no_application_is_shown_on_the_applications_box()
    {
        await fixture.Host.SkipUnlessTaskAsync("apptest.run");
        await _page.GotoAsync("/ui/run/apps");
        await _page.Locator("[name=host]").First.FillAsync("127.0.0.1");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(_page.Locator("fieldset.apps .field-error")).ToContainTextAsync("pick at least one application");
    }
}
