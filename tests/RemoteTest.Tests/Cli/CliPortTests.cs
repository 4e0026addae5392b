using RemoteTest.Cli;
using RemoteTest.Fixtures;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Cli;

/// <summary><c>remotetest port</c> against the in-process service and loopback listeners.</summary>
public sealed class CliPortTests : IAsyncLifetime
{
    private ServiceHost _host = null!;
    private CliRunner _cli = null!;

    public async Task InitializeAsync()
    {
        _host = await ServiceHost.StartAsync();
        _cli = new CliRunner(_host.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _cli.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Open_ports_pass_and_a_closed_one_fails_with_exit_1()
    {
        await using var open = OpenPortListener.Start();
        await using var open2 = OpenPortListener.Start();
        using var closed = new ClosedPort();

        var pass = await _cli.RunAsync("port", $"127.0.0.1:{open.Port},{open2.Port}", "--tls-ports", "443", "--timeout", "2");
        Assert.True(pass.ExitCode == ExitCodes.Passed, pass.ToString());
        Assert.Contains(open.Port.ToString(), pass.Out);
        Assert.Contains("open", pass.Out);

        var fail = await _cli.RunAsync("port", $"127.0.0.1:{open.Port},{closed.Port}", "--timeout", "2");
        Assert.True(fail.ExitCode == ExitCodes.Failed, fail.ToString());
        Assert.Contains("refused", fail.Out);
        Assert.Contains("FAILED", fail.Out);
    }

    [Fact]
    public async Task Tls_ports_show_the_certificate_and_insecure_skips_verification()
    {
        using var certificate = TestPki.SelfSigned("self.example.test", ["127.0.0.1"]);
        await using var tls = TlsTestServer.Start(certificate);

        var verified = await _cli.RunAsync("port", $"127.0.0.1:{tls.Port}", "--tls-ports", tls.Port.ToString(), "--timeout", "2");
        Assert.True(verified.ExitCode == ExitCodes.Failed, verified.ToString()); // self-signed: verification fails
        Assert.Contains("self.example.test", verified.Out);

        var insecure = await _cli.RunAsync("port", $"127.0.0.1:{tls.Port}", "--tls-ports", tls.Port.ToString(), "--insecure", "--timeout", "2", "--json");
        var status = System.Text.Json.Nodes.JsonNode.Parse(insecure.Out)!;
        var port = status["result"]!["results"]!["127.0.0.1"]!["ports"]![tls.Port.ToString()]!;
        Assert.Equal("self.example.test", port["tls"]!["cn"]!.GetValue<string>());
        Assert.False(status["result"]!["summary"]!["verify_ssl"]!.GetValue<bool>());
    }
}
