using System.Net;
using RemoteTest.Cli;

namespace RemoteTest.Tests.Cli;

/// <summary><c>remotetest diff</c> against a real in-process service: a table of what changed, exit 1 when anything did.</summary>
public sealed class CliDiffTests : CliServiceTest
{
    private async Task<string> RunDnsAsync(string file)
    {
        var submit = await Runner.RunAsync("dns", "check", file, "--no-wait");
        var id = submit.Out.Trim();
        var get = await Runner.RunAsync("task", "get", id, "--wait");
        Assert.True(get.ExitCode == ExitCodes.Passed, get.ToString());
        return id;
    }

    [Fact]
    public async Task Diff_prints_what_changed_and_exits_1_and_0_when_nothing_did()
    {
        var file = Runner.File("dns_data.json", """
            {"sip.example.test": {"original": ["192.0.2.10", "192.0.2.11"], "13056": ["192.0.2.12"]},
             "xsp.example.test": {"original": ["192.0.2.20"]}}
            """);
        var before = await RunDnsAsync(file);
        using (var pin = await Host.Http.PostAsync($"/task/{before}/baseline", new StringContent("""{"name": "pre-cutover"}""")))
        {
            Assert.Equal(HttpStatusCode.Created, pin.StatusCode);
        }
        Dns.Clear("sip.example.test");
        Dns.A("sip.example.test", "192.0.2.12");
        var after = await RunDnsAsync(file);

        var diff = await Runner.RunAsync("diff", after, before);
        Assert.True(diff.ExitCode == ExitCodes.Failed, diff.ToString());
        Assert.Contains("dns/sip.example.test", diff.Out);
        Assert.Contains("state", diff.Out);
        Assert.Contains("original", diff.Out);
        Assert.Contains("13056", diff.Out);
        Assert.DoesNotContain("dns/xsp.example.test", diff.Out);
        Assert.Contains("changed: 1  unchanged: 1  added: 0  removed: 0", diff.Out);
        Assert.Contains("CHANGED", diff.Out);

        var baseline = await Runner.RunAsync("diff", after, "--baseline", "pre-cutover");
        Assert.True(baseline.ExitCode == ExitCodes.Failed, baseline.ToString());
        Assert.Contains("baseline pre-cutover", baseline.Out);

        var same = await Runner.RunAsync("diff", after, after);
        Assert.True(same.ExitCode == ExitCodes.Passed, same.ToString());
        Assert.Contains("UNCHANGED", same.Out);

        var neither = await Runner.RunAsync("diff", after);
        Assert.True(neither.ExitCode == ExitCodes.Usage, neither.ToString());
        var unknown = await Runner.RunAsync("diff", after, "--baseline", "nope");
        Assert.True(unknown.ExitCode == ExitCodes.Usage, unknown.ToString());
        Assert.Contains("unknown baseline 'nope'", unknown.Err);
    }
}
