using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Probes;
using RemoteTest.Tasks;

namespace RemoteTest.Tests.PathTrace;

/// <summary>porttest.run with <c>trace_failed</c>: the port that timed out carries the trace to it, the others none.</summary>
public sealed class PortTestTraceFailedTests(PathTraceLab lab) : IClassFixture<PathTraceLab>
{
    [SkippableFact]
    public async Task A_timed_out_port_gets_the_trace_to_it_beside_its_result()
    {
        Skip.If(lab.Unavailable is not null, lab.Unavailable);
        var options = new RemoteTestOptions();
        var tracer = new RemoteTest.Tasks.PathTrace(Options.Create(options.Dns), Options.Create(options.Limits), Options.Create(options.PathTrace),
            new SystemHostResolver(), lab.ClientSockets!, TimeProvider.System);
        var task = new PortTest(Options.Create(options.Limits), Options.Create(options.PathTrace), Options.Create(options.PortTest), new SystemHostResolver(),
            new TcpConnector(TimeProvider.System), new TlsTrust(Options.Create(options.Tls)), TimeProvider.System, tracer);
        var data = PathTraceLabTests.Target(PathTraceLab.OpenTcpPort, RoutedLab.DroppedTcpPort, RoutedLab.RejectedTcpPort);
        var arguments = TaskArguments.Bind(task.Parameters, [data], new JsonObject { ["timeout"] = 1.0, ["tls_ports"] = new JsonArray(), ["trace_failed"] = true });
        var parsed = task.ParseArguments(arguments);

        // The port checks' sockets are made when the task starts, on the namespace's thread: they connect from the client namespace.
        var result = await lab.ClientSockets!.Start(() => task.RunAsync(parsed, new TaskContext(Guid.NewGuid()), CancellationToken.None));
        var json = JsonSerializer.SerializeToNode(result, result.GetType(), RemoteTestJson.Options)!.AsObject();

        var ports = json["results"]![RoutedLab.Target]!["ports"]!;
        Assert.True(ports["443"]!["open"]!.GetValue<bool>());
        Assert.False(ports["443"]!.AsObject().ContainsKey("trace"));
        Assert.Equal("unreachable", ports["8444"]!["error_kind"]!.GetValue<string>());
        Assert.False(ports["8444"]!.AsObject().ContainsKey("trace")); // rejected at once: not a timeout, no trace
        var dropped = ports["8443"]!;
        Assert.Equal("timeout", dropped["error_kind"]!.GetValue<string>());
        var trace = dropped["trace"]!;
        Assert.Equal("filtered", trace["end"]!.GetValue<string>());
        Assert.Equal(RoutedLab.Hop2, trace["filtered_after"]!["address"]!.GetValue<string>());
        Assert.Equal(8443, trace["port"]!.GetValue<int>());
    }
}
