using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Cli;
using RemoteTest.Probes;
using RemoteTest.Tests.Infrastructure;
using RemoteTest.Tests.PathTrace;

namespace RemoteTest.Tests.Cli;

/// <summary><c>remotetest trace</c> against the in-process service whose traces start in the lab's client namespace.</summary>
public sealed class CliTraceTests(PathTraceLab lab) : IClassFixture<PathTraceLab>
{
    private async Task<(ServiceHost Host, CliRunner Cli)> StartAsync()
    {
        Skip.If(lab.Unavailable is not null, lab.Unavailable);
        var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:PathTrace:RoundInterval"] = "00:00:00.020" },
            s => s.AddSingleton<TraceSockets>(lab.ClientSockets!));
        return (host, new CliRunner(host.BaseAddress));
    }

    [SkippableFact]
    public async Task A_reached_port_prints_the_hop_table_and_exits_0()
    {
        var (host, cli) = await StartAsync();
        await using var _ = host;
        using var __ = cli;

        var run = await cli.RunAsync("trace", $"{RoutedLab.Target}:{PathTraceLab.OpenTcpPort}", "--count", "3", "--timeout", "1");

        Assert.True(run.ExitCode == ExitCodes.Passed, run.ToString());
        foreach (var column in new[] { "Hop", "Host", "Loss%", "Snt", "Last", "Avg", "Best", "Wrst", "StDev" })
        {
            Assert.Contains(column, run.Out);
        }
        Assert.Contains("reached", run.Out);
        var lines = run.Out.Split('\n');
        Assert.Contains(lines, l => l.Contains(RoutedLab.Hop1) && l.Contains("0.0%") && l.Contains(" 3 "));
        Assert.Contains(lines, l => l.Contains(RoutedLab.Hop2));
        Assert.Contains(lines, l => l.Contains(RoutedLab.Target) && l.TrimStart().StartsWith('3'));
    }

    [SkippableFact]
    public async Task A_dropped_port_marks_the_drop_point_and_exits_1()
    {
        var (host, cli) = await StartAsync();
        await using var _ = host;
        using var __ = cli;

        var run = await cli.RunAsync("trace", $"{RoutedLab.Target}:{RoutedLab.DroppedTcpPort}", "--max-hops", "5", "--timeout", "0.5");

        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString());
        Assert.Contains($"filtered after hop 2 ({RoutedLab.Hop2})", run.Out);
        Assert.Contains("dropped here", run.Out);
        Assert.Contains("FAILED", run.Out);
    }

    [SkippableFact]
    public async Task Udp_and_icmp_traces_and_an_admin_prohibited_reject()
    {
        var (host, cli) = await StartAsync();
        await using var _ = host;
        using var __ = cli;

        var udp = await cli.RunAsync("trace", $"{RoutedLab.Target}:{PathTraceLab.AnsweringUdpPort}", "--udp", "--timeout", "1");
        Assert.True(udp.ExitCode == ExitCodes.Passed, udp.ToString());
        Assert.Contains($"{PathTraceLab.AnsweringUdpPort} udp", udp.Out);

        var icmp = await cli.RunAsync("trace", RoutedLab.Target, "--icmp", "--timeout", "1");
        Assert.True(icmp.ExitCode == ExitCodes.Passed, icmp.ToString());
        Assert.Contains("icmp", icmp.Out);

        var rejected = await cli.RunAsync("trace", $"{RoutedLab.Target}:{RoutedLab.RejectedTcpPort}", "--timeout", "1");
        Assert.True(rejected.ExitCode == ExitCodes.Failed, rejected.ToString());
        Assert.Contains($"unreachable: admin-prohibited from {RoutedLab.Hop2}", rejected.Out);
    }

    [Fact]
    public async Task Udp_and_icmp_together_are_a_usage_error()
    {
        using var cli = new CliRunner(new Uri("http://127.0.0.1:9"));
        var run = await cli.RunAsync("trace", "192.0.2.1:5060", "--udp", "--icmp");
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("exclude each other", run.Err + run.Out);
    }
}
