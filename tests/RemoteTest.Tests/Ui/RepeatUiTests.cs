using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RemoteTest.Fixtures;
using RemoteTest.Tests.Cli;
using static Microsoft.Playwright.Assertions;

namespace RemoteTest.Tests.Ui;

/// <summary>Run again (the right form, pre-filled), Copy as curl / CLI, the form kept across Back, shortcuts, history search by target.</summary>
public sealed class RepeatUiTests(BrowserFixture fixture) : BrowserPageTest(fixture)
{
    [Fact]
    public async Task The_port_form_takes_ranges_and_every_option_and_run_again_brings_them_back_editable()
    {
        await using var open = OpenPortListener.Start();
        using var closed = new ClosedPort();
        await Page.GotoAsync("/ui/run/ports");
        await Page.Locator("[name=host]").First.FillAsync("127.0.0.1");
        // A range as the CLI and the API take it, beside single ports.
        await Page.Locator("[name=ports]").First.FillAsync($"{open.Port}, {closed.Port}-{closed.Port + 2}");
        await Page.Locator("[name=expect_closed]").First.FillAsync(closed.Port.ToString());
        await Page.Locator("[name=tls_ports]").FillAsync("");
        await Page.Locator("[name=sni]").FillAsync("sbc.lab.test");
        await Page.Locator("[name=all_addresses]").CheckAsync();
        await Page.Locator("[name=verify_ssl]").UncheckAsync();
        await Page.Locator("[name=timeout]").FillAsync("2");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/ui/task/[0-9a-f-]{36}$"));
        var id = Page.Url[(Page.Url.LastIndexOf('/') + 1)..];
        var done = await Fixture.Host.WaitAsync(id);
        var ports = done["result"]!["results"]!["127.0.0.1"]!["ports"]!.AsObject();
        Assert.Equal(4, ports.Count);
        Assert.Equal("closed", ports[closed.Port.ToString()]!["expected"]!.GetValue<string>());
        Assert.True(done["result"]!["summary"]!["all_addresses"]!.GetValue<bool>());

        // Back returns the form as it was left.
        await Page.GoBackAsync();
        await Expect(Page.Locator("[name=ports]").First).ToHaveValueAsync($"{open.Port}, {closed.Port}-{closed.Port + 2}");
        await Expect(Page.Locator("[name=sni]")).ToHaveValueAsync("sbc.lab.test");
        await Expect(Page.Locator("[name=verify_ssl]")).Not.ToBeCheckedAsync();

        // Run again from the task page, by its key: the ports form, pre-filled from the stored arguments.
        await Page.GotoAsync($"/ui/task/{id}");
        await Expect(Page.Locator(".task-body .result")).ToHaveCountAsync(1);
        await Page.Keyboard.PressAsync("r");
        await Expect(Page).ToHaveURLAsync(new Regex($"/ui/run/ports\\?again={id}$"));
        await Expect(Page.Locator("#prefill-note")).ToContainTextAsync("Pre-filled from task");
        await Expect(Page.Locator("[name=host]").First).ToHaveValueAsync("127.0.0.1");
        await Expect(Page.Locator("[name=ports]").First).ToHaveValueAsync(new Regex($@"\b{open.Port}\b"));
        await Expect(Page.Locator("[name=expect_closed]").First).ToHaveValueAsync(closed.Port.ToString());
        await Expect(Page.Locator("[name=sni]")).ToHaveValueAsync("sbc.lab.test");
        await Expect(Page.Locator("[name=all_addresses]")).ToBeCheckedAsync();
        await Expect(Page.Locator("[name=verify_ssl]")).Not.ToBeCheckedAsync();
        await Expect(Page.Locator("[name=timeout]")).ToHaveValueAsync("2");
        // Editable: change it and run the changed test.
        await Page.Locator("[name=ports]").First.FillAsync(open.Port.ToString());
        await Page.Locator("[name=expect_closed]").First.FillAsync("");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();
        await Expect(Page).Not.ToHaveURLAsync(new Regex(id));
        await Expect(Page).ToHaveURLAsync(new Regex("/ui/task/[0-9a-f-]{36}$"));
        var again = await Fixture.Host.WaitAsync(Page.Url[(Page.Url.LastIndexOf('/') + 1)..]);
        Assert.Single(again["result"]!["results"]!["127.0.0.1"]!["ports"]!.AsObject());
    }

    [Fact]
    public async Task Copy_as_curl_and_cli_write_the_same_test_without_a_token_and_run_again_leaves_passwords_empty()
    {
        await using var open = OpenPortListener.Start();
        var ports = await Fixture.Host.SubmitAsync(JsonNode.Parse($$$"""
            {"task_name": "porttest.run", "data": {"args": [{"127.0.0.1": {"ports": [{{{open.Port}}}, 5060, 5061, 5062]}}],
             "kwargs": {"timeout": 2, "tls_ports": [5061, 443], "verify_ssl": false} } }
            """)!);
        await Fixture.Host.WaitAsync(ports);
        await Page.GotoAsync($"/ui/task/{ports}");
        await Page.Locator("[data-copy=cli]").ClickAsync();
        var cli = await Page.Locator("pre[data-command=cli]").TextContentAsync();
        Assert.StartsWith($"remotetest port 127.0.0.1:5060-5062,{open.Port} ", cli);
        Assert.Contains("--tls-ports 443,5061", cli);
        Assert.Contains("--insecure", cli);
        Assert.Contains("--timeout 2", cli);
        Assert.Contains($"--server {Fixture.Host.BaseAddress.ToString().TrimEnd('/')}", cli);
        Assert.DoesNotContain("--token", cli);
        // The copied command runs as is with the real CLI (a port of it is closed: checks failed, not a usage error).
        using var runner = new CliRunner();
        var ran = await RunCopiedAsync(runner, cli!);
        Assert.True(ran.ExitCode == RemoteTest.Cli.ExitCodes.Failed, ran.ToString());
        Assert.Contains(open.Port.ToString(), ran.Out);
        await Page.Locator("[data-copy=curl]").ClickAsync();
        var curl = await Page.Locator("pre[data-command=curl]").TextContentAsync();
        Assert.Contains("Bearer $REMOTETEST_TOKEN", curl);
        // The curl body is a payload the server takes as is.
        var body = Regex.Match(curl!, "--data-binary '(.*)'$", RegexOptions.Singleline).Groups[1].Value.Replace("'\\''", "'");
        using (var resubmitted = await Fixture.Host.PostTaskAsync(JsonNode.Parse(body)!))
        {
            Assert.Equal(HttpStatusCode.Accepted, resubmitted.StatusCode);
        }
        await Fixture.ScreenshotAsync(Page, "task-copy-cli");

        // A DNS test: dns_data travels on standard input; the copied command passes with the real CLI.
        var dns = await Fixture.Host.SubmitDnsAsync(Fixture.Dns, """{"sip.example.test": {"original": ["192.0.2.10", "192.0.2.11"]}}""", 2);
        await Fixture.Host.WaitAsync(dns);
        await Page.GotoAsync($"/ui/task/{dns}");
        await Page.Locator("[data-copy=cli]").ClickAsync();
        var dnsCli = await Page.Locator("pre[data-command=cli]").TextContentAsync();
        Assert.StartsWith("cat > dns-data.json <<'JSON'\n", dnsCli);
        Assert.Contains("\nremotetest dns check dns-data.json --nameserver ", dnsCli);
        var dnsRan = await RunCopiedAsync(runner, dnsCli!);
        Assert.True(dnsRan.ExitCode == RemoteTest.Cli.ExitCodes.Passed, dnsRan.ToString());
        Assert.Contains("original", dnsRan.Out);

        // An application test: the password is never stored, so the command and the form never carry it.
        var app = await Fixture.Host.SubmitAsync(JsonNode.Parse("""
            {"task_name": "apptest.run", "data": {"args": [{"127.0.0.1": {"applications": ["Xsi-Actions"],
              "test_data": {"user_id": "tester@example.test", "password": "s3cret-pass"}}}], "kwargs": {"timeout": 1}}}
            """)!);
        await Fixture.Host.WaitAsync(app);
        await Page.GotoAsync($"/ui/task/{app}");
        await Page.Locator("[data-copy=cli]").ClickAsync();
        var appCli = await Page.Locator("pre[data-command=cli]").TextContentAsync();
        Assert.Contains("remotetest app hosts.json ", appCli);
        Assert.Contains("--user tester@example.test", appCli);
        Assert.Contains("REMOTETEST_APP_PASSWORD", appCli);
        Assert.DoesNotContain("s3cret-pass", appCli);
        await Page.Locator("[data-copy=curl]").ClickAsync();
        var appCurl = await Page.Locator("pre[data-command=curl]").TextContentAsync();
        Assert.Contains("<password>", appCurl);
        Assert.DoesNotContain("s3cret-pass", appCurl);

        await Page.Locator("[data-run-again]").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex($"/ui/run/apps\\?again={app}$"));
        await Expect(Page.Locator("[name=host]").First).ToHaveValueAsync("127.0.0.1");
        await Expect(Page.Locator("[name=app][value='Xsi-Actions']")).ToBeCheckedAsync();
        await Expect(Page.Locator("[name=user_id]")).ToHaveValueAsync("tester@example.test");
        await Expect(Page.Locator("[name=password]")).ToHaveValueAsync("");
        await Expect(Page.Locator("[data-secret-note]")).ToContainTextAsync("Passwords are never stored");
    }

    /// <summary>
    /// Runs a copied command in process: an optional <c>cat &gt; FILE &lt;&lt;'JSON'</c> block (written into the runner's home),
    /// then the <c>remotetest ...</c> line split into shell words (single quotes honoured).
    /// </summary>
    private static Task<CliRun> RunCopiedAsync(CliRunner runner, string command)
    {
        var lines = command.Split('\n').Where(l => !l.StartsWith('#')).ToList();
        var files = new Dictionary<string, string>();
        var i = 0;
        if (Regex.Match(lines[0], @"^cat > (\S+) <<'JSON'$") is { Success: true } cat)
        {
            var body = lines.Skip(1).TakeWhile(l => l != "JSON").ToList();
            files[cat.Groups[1].Value] = runner.File(cat.Groups[1].Value, string.Join('\n', body));
            i = body.Count + 2;
        }
        Assert.Equal(i + 1, lines.Count);
        var words = new List<string>();
        foreach (Match m in Regex.Matches(lines[i], @"'((?:[^']|'\\'')*)'|(\S+)"))
        {
            var word = m.Groups[1].Success ? m.Groups[1].Value.Replace("'\\''", "'") : m.Groups[2].Value;
            words.Add(files.GetValueOrDefault(word, word));
        }
        Assert.Equal("remotetest", words[0]);
        return runner.RunAsync([.. words.Skip(1)]);
    }

    [Fact]
    public async Task History_is_searched_by_target_on_the_server_and_slash_focuses_the_search()
    {
        var marker = $"zz{Guid.NewGuid():N}"[..12];
        var mine = await Fixture.Host.SubmitDnsAsync(Fixture.Dns, $$$"""{"sip.example.test": {"original": ["192.0.2.10", "192.0.2.11"]}, "{{{marker}}}.example.test": {"original": ["192.0.2.1"]}}""", 2);
        var other = await Fixture.Host.SubmitDnsAsync(Fixture.Dns, """{"xsp.example.test": {"original": ["192.0.2.20"]}}""", 2);
        await Fixture.Host.WaitAsync(mine);
        await Fixture.Host.WaitAsync(other);

        // The API: a case-insensitive substring; too long is a 400 naming the field.
        var listed = JsonNode.Parse(await Fixture.Host.Http.GetStringAsync($"/task?target={marker.ToUpperInvariant()}"))!["tasks"]!.AsArray();
        Assert.Equal([mine], listed.Select(t => t!["task_id"]!.GetValue<string>()));
        using (var tooLong = await Fixture.Host.Http.GetAsync($"/task?target={new string('a', 256)}"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
            Assert.Equal("target", JsonNode.Parse(await tooLong.Content.ReadAsStringAsync())!["field"]!.GetValue<string>());
        }

        await Page.GotoAsync("/ui/history");
        await Expect(Page.Locator("#app[data-ready]")).ToHaveCountAsync(1);
        await Page.Keyboard.PressAsync("/");
        await Expect(Page.Locator("input[name=target]")).ToBeFocusedAsync();
        await Page.Keyboard.TypeAsync(marker[..8].ToUpperInvariant());
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page).ToHaveURLAsync(new Regex($"target={marker[..8].ToUpperInvariant()}"));
        await Expect(Page.Locator("table.history tbody tr")).ToHaveCountAsync(1);
        await Expect(Page.Locator($"tr[data-task-id='{mine}']")).ToHaveCountAsync(1);
        // Typing in the field does not fire shortcuts ("r" and "h" were typed above as part of a word: still here).
        await Page.Locator("input[name=target]").FillAsync("");
        await Page.Locator("input[name=target]").PressSequentiallyAsync("hr");
        await Expect(Page).ToHaveURLAsync(new Regex("/ui/history"));
        await Expect(Page.Locator("input[name=target]")).ToHaveValueAsync("hr");
    }
}
