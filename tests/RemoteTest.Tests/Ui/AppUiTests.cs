using Microsoft.Playwright;
using RemoteTest.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>apptest.run through the browser against the fake BroadWorks servers: the host × application grid.</summary>
public sealed class AppUiTests(BrowserFixture fixture, BroadWorksLab lab) : BrowserPageTest(fixture), IClassFixture<BroadWorksLab>
{
    [Fact]
    public async Task Applications_form_runs_a_test_shows_the_grid_with_error_text_and_never_shows_the_password()
    {
        lab.Heal();
        await Page.GotoAsync("/ui/run/apps");
        await Page.Locator("[name=host]").First.FillAsync("127.0.0.1");
        foreach (var app in new[] { "OpenClientServer", "Xsi-Actions", "NotificationPushServer" })
        {
            await Page.Locator($"[name=app][value='{app}']").CheckAsync();
        }
        await Page.Locator("[name=user_id]").FillAsync(BroadWorksLab.User);
        await Page.Locator("[name=password]").FillAsync(BroadWorksLab.Password);
        await Page.Locator("[name=extra]").FillAsync(new System.Text.Json.Nodes.JsonObject { ["ports"] = lab.Ports() }.ToJsonString());
        await Page.Locator("[name=verify_ssl]").UncheckAsync();
        await Fixture.ScreenshotAsync(Page, "run-apps");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        var row = Page.Locator("table.apps tr[data-host='127.0.0.1']");
        await Expect(row.Locator("td[data-app='OpenClientServer']")).ToHaveClassAsync("cell-ok", new() { Timeout = 30_000 });
        await Expect(row.Locator("td[data-app='Xsi-Actions']")).ToHaveClassAsync("cell-ok");
        var nps = row.Locator("td[data-app='NotificationPushServer']");
        await Expect(nps).ToHaveClassAsync("cell-bad");
        await Expect(nps).ToContainTextAsync("not checkable remotely");
        await Fixture.ScreenshotAsync(Page, "task-apps");

        Assert.DoesNotContain(BroadWorksLab.Password, await Page.ContentAsync());
        var json = await (await Page.RunAndWaitForDownloadAsync(() => Page.Locator("[data-export=json]").ClickAsync())).PathAsync();
        Assert.DoesNotContain(BroadWorksLab.Password, await File.ReadAllTextAsync(json));
    }

    [Fact]
    public async Task Picking_no_application_is_shown_on_the_applications_box()
    {
        await Page.GotoAsync("/ui/run/apps");
        await Page.Locator("[name=host]").First.FillAsync("127.0.0.1");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(Page.Locator("fieldset.apps .field-error")).ToContainTextAsync("pick at least one application");
    }
}
