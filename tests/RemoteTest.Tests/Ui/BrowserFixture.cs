using Microsoft.Playwright;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Ui;

/// <summary>
/// One headless Debian Chromium (driven by Playwright, never its own browser download), one service and one
/// loopback DNS server for all browser tests; each test gets a fresh browser context.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Where Debian's chromium package puts the browser (scripts/test-deps.sh installs it).</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Flags that keep Chromium off the network except for the pages the tests open (the machine has none).</summary>
    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;
    public ServiceHost Host { get; private set; } = null!;
    public DnsTestServer Dns { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: run scripts/test-deps.sh (apt-get install chromium)");
        }
        Dns = DnsTestServer.Start()
            .A("sip.example.test", "192.0.2.10", "192.0.2.11")
            .A("xsp.example.test", "192.0.2.20")
            .A("moved.example.test", "198.51.100.7")
            .Srv("_sip._tcp.example.test", 10, 60, 5060, "sbc1.example.test");
        Host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Dns:DefaultNameservers:0"] = Dns.NameServer });
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    /// <summary>A page in a fresh context whose relative URLs go to the service.</summary>
    public Task<IPage> NewPageAsync() => NewPageAsync(1280, 800);

    /// <summary>A page of the given viewport (390 × 844 is a phone) in a fresh context.</summary>
    public async Task<IPage> NewPageAsync(int width, int height)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Host.BaseAddress.ToString(),
            AcceptDownloads = true,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        // A script error in the UI fails the test that caused it.
        page.PageError += (_, message) => PageErrors.Add(message);
        return page;
    }

    /// <summary>Uncaught script errors seen on any page.</summary>
    public List<string> PageErrors { get; } = [];

    /// <summary>
    /// Saves a screenshot into the test output, and into $REMOTETEST_SCREENSHOTS when set (how docs/ is refreshed:
    /// <c>REMOTETEST_SCREENSHOTS=$PWD/docs ./test.sh --filter Ui</c>).
    /// </summary>
    public async Task ScreenshotAsync(IPage page, string name)
    {
        var shot = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots"));
        await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "screenshots", name + ".png"), shot);
        if (Environment.GetEnvironmentVariable("REMOTETEST_SCREENSHOTS") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            await File.WriteAllBytesAsync(Path.Combine(dir, name + ".png"), shot);
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
        if (Dns is not null)
        {
            await Dns.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

/// <summary>A browser test: a fresh page per test, closed after it; an uncaught script error fails the test.</summary>
[Collection(BrowserCollection.Name)]
public abstract class BrowserPageTest(BrowserFixture fixture) : IAsyncLifetime
{
    protected BrowserFixture Fixture { get; } = fixture;

    protected IPage Page { get; private set; } = null!;

    public async Task InitializeAsync() => Page = await Fixture.NewPageAsync();

    public async Task DisposeAsync()
    {
        await Page.Context.CloseAsync();
        Assert.Empty(Fixture.PageErrors);
    }
}
