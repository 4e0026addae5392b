using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>The API reference at /docs renders in Chromium under its own, still strict, Content-Security-Policy.</summary>
public sealed class DocsUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    [Fact]
    public async Task Docs_page_renders_the_api_reference_without_csp_violations()
    {
        var violations = new List<string>();
        Page.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) violations.Add(m.Text);
        };
        var response = await Page.GotoAsync("/docs/");
        Assert.NotNull(response);
        var csp = await response!.HeaderValueAsync("content-security-policy");
        // Inline scripts allowed by hash only: no 'unsafe-inline' or 'unsafe-eval' for scripts.
        Assert.NotNull(csp);
        var scriptSrc = csp!.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("script-src", StringComparison.Ordinal));
        Assert.Contains("'sha256-", scriptSrc);
        Assert.DoesNotContain("unsafe", scriptSrc);

        // Scalar drew the reference: the document's title and an operation of the API are on the page.
        await Expect(Page.Locator("#app, body").First).ToContainTextAsync("RemoteTest", new() { Timeout = 20_000 });
        await Expect(Page.GetByText("/task", new() { Exact = false }).First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        Assert.Empty(violations);
        await Fixture.ScreenshotAsync(Page, "docs");
    }
}
