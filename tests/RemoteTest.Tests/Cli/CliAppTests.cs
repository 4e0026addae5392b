using System.Text.Json.Nodes;
using RemoteTest.Cli;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Cli;

/// <summary><c>remotetest app</c> against the fake BroadWorks servers and the lab's service.</summary>
public sealed class CliAppTests(BroadWorksLab lab) : IClassFixture<BroadWorksLab>, IDisposable
{
    private readonly CliRunner _cli = new(lab.Service.BaseAddress);

    public void Dispose() => _cli.Dispose();

    private string HostsFile(params string[] applications) => _cli.File("hosts.json", new JsonObject
    {
        ["127.0.0.1"] = new JsonObject
        {
            ["ports"] = new JsonArray(80, 443),
            ["applications"] = new JsonArray([.. applications.Select(a => (JsonNode)a)]),
            // The original's files carry a masked password: the CLI fills the real one in from stdin.
            ["test_data"] = new JsonObject { ["user_id"] = "someone-else", ["password"] = "******", ["ports"] = lab.Ports() },
        },
    }.ToJsonString());

    [Fact]
    public async Task The_password_comes_from_stdin_and_passing_applications_exit_0()
    {
        lab.Heal();
        var run = await _cli.RunWithAsync(BroadWorksLab.Password + "\n", null,
            "app", HostsFile("OpenClientServer", "Xsi-Actions"), "--user", BroadWorksLab.User, "--password-stdin", "--insecure", "--timeout", "5");
        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        Assert.Contains("OpenClientServer", run.Out);
        Assert.Contains("ok", run.Out);
        Assert.DoesNotContain(BroadWorksLab.Password, run.Out + run.Err);
    }

    [Fact]
    public async Task A_failing_application_exits_1_with_its_error()
    {
        lab.Heal();
        _cli.Variables["REMOTETEST_APP_PASSWORD"] = "not-the-password";
        var run = await _cli.RunAsync("app", HostsFile("OpenClientServer"), "--user", BroadWorksLab.User, "--insecure", "--timeout", "5");
        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString());
        Assert.Contains("auth_failed", run.Out);
        Assert.DoesNotContain("not-the-password", run.Out + run.Err);
        // One line per host × application: state fail and the service's reason in words, not only its kind.
        var line = run.Out.Split('\n').Single(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^127\.0\.0\.1\s+OpenClientServer\s"));
        var cells = System.Text.RegularExpressions.Regex.Split(line.TrimEnd('\r'), @"\s{2,}");
        Assert.Equal("fail", cells[2]);
        Assert.StartsWith("auth_failed: ", cells[3]);
        Assert.True(cells[3].Length > "auth_failed: ".Length + 5, line);

        var table = await _cli.RunAsync("app", HostsFile("OpenClientServer"), "--user", BroadWorksLab.User, "--insecure", "--timeout", "5", "--format", "table");
        Assert.Contains("REASON", table.Out);
        Assert.Contains("│", table.Out);
    }

    [Fact]
    public async Task Without_a_password_app_is_a_usage_error_and_submits_nothing()
    {
        lab.Heal();
        // The hosts file carries only the original's masked placeholder; neither stdin nor the variable gives one.
        var run = await _cli.RunAsync("app", HostsFile("OpenClientServer"), "--user", BroadWorksLab.User, "--insecure", "--timeout", "5", "--no-wait");
        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        Assert.Contains("no password for the test user of 127.0.0.1", run.Err);
        Assert.Contains("--password-stdin", run.Err);
        Assert.Equal("", run.Out.Trim()); // --no-wait prints the task id of a submitted task: none was
    }
}
