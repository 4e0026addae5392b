using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Probes;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.PathTrace;

/// <summary>Sockets as a worker without CAP_NET_RAW gets them: raw ones refused with EPERM.</summary>
public sealed class NoRawSockets : TraceSockets
{
    public override Socket Create(AddressFamily family, SocketType type, ProtocolType protocol) =>
        type == SocketType.Raw ? throw new SocketException((int)SocketError.AccessDenied) : base.Create(family, type, protocol);
}

/// <summary>path.trace through the API: its listing, argument errors, a worker without CAP_NET_RAW, and fan-out to two vantage points.</summary>
public sealed class PathTraceApiTests(PathTraceLab lab) : IClassFixture<PathTraceLab>
{
    private static JsonObject Submit(JsonObject data, JsonObject kwargs, JsonNode? queues = null)
    {
        var payload = new JsonObject { ["task_name"] = "path.trace", ["data"] = new JsonObject { ["args"] = new JsonArray(data), ["kwargs"] = kwargs } };
        if (queues is not null)
        {
            payload["queues"] = queues;
        }
        return payload;
    }

    [Fact]
    public async Task Tasks_lists_path_trace_with_its_schema()
    {
        await using var host = await ServiceHost.StartAsync();
        var body = (await host.Http.GetFromJsonAsync<JsonObject>("/tasks"))!;
        Assert.Contains("path.trace", body["task_names"]!.AsArray().Select(n => n!.GetValue<string>()));
        var trace = body["tasks"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "path.trace")!;
        var properties = trace["args_schema"]!["properties"]!;
        Assert.Equal(["tcp", "udp", "icmp"], properties["protocol"]!["enum"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(30, properties["max_hops"]!["default"]!.GetValue<int>());
        Assert.Equal("integer", properties["count"]!["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("protocol", "\"sctp\"", "protocol")]
    [InlineData("max_hops", "65", "max_hops")]
    [InlineData("max_hops", "0", "max_hops")]
    [InlineData("count", "101", "count")]
    [InlineData("count", "60", "count")] // 30 hops × 60 rounds × 12 ports is above MaxProbesPerTask
    public async Task Bad_arguments_are_400_naming_the_field_and_nothing_is_stored(string name, string value, string field)
    {
        await using var host = await ServiceHost.StartAsync();
        var data = new JsonObject { ["192.0.2.1"] = new JsonObject { ["ports"] = new JsonArray([.. Enumerable.Range(1, 12).Select(p => (JsonNode)p)]) } };
        using var response = await host.PostTaskAsync(Submit(data, new JsonObject { [name] = JsonNode.Parse(value) }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonObject>())!["field"]!.GetValue<string>());
        var history = (await host.Http.GetFromJsonAsync<JsonObject>("/task"))!;
        Assert.DoesNotContain("path.trace", history.ToJsonString());
    }

    [Fact]
    public async Task A_tcp_trace_without_ports_is_400_naming_the_hosts_ports()
    {
        await using var host = await ServiceHost.StartAsync();
        using var response = await host.PostTaskAsync(Submit(new JsonObject { ["192.0.2.1"] = new JsonObject { ["ports"] = new JsonArray() } }, []));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("data[\"192.0.2.1\"].ports", (await response.Content.ReadFromJsonAsync<JsonObject>())!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_CAP_NET_RAW_the_start_up_log_says_so_and_the_result_is_not_permitted()
    {
        await using var host = await ServiceHost.StartAsync(services: s => s.AddSingleton<TraceSockets, NoRawSockets>());
        Assert.Contains(host.Logs.Lines, l => l.Contains("raw sockets NOT permitted", StringComparison.Ordinal) && l.Contains("CAP_NET_RAW", StringComparison.Ordinal));

        var result = await host.RunAsync(Submit(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray(443) } },
            new JsonObject { ["timeout"] = 0.5, ["resolve_names"] = false }));

        Assert.Equal("not_permitted", result["summary"]!["error_kind"]!.GetValue<string>());
        Assert.Contains("CAP_NET_RAW", result["summary"]!["error"]!.GetValue<string>());
        var trace = result["results"]!["127.0.0.1"]!["ports"]!["443"]!;
        Assert.Equal("not_permitted", trace["error_kind"]!.GetValue<string>());
        Assert.False(trace["reached"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Without_CAP_NET_RAW_an_icmp_trace_falls_back_to_ping_sockets()
    {
        var result = await PathTraceLabTests.RunAsync(new NoRawSockets(), new JsonObject { ["127.0.0.1"] = new JsonObject() },
            new JsonObject { ["protocol"] = "icmp", ["timeout"] = 1.0, ["count"] = 2 });

        var trace = PathTraceLabTests.Trace(result, "icmp", "127.0.0.1");
        Assert.Equal("reached", trace["end"]!.GetValue<string>());
        var hop = Assert.Single(trace["hops"]!.AsArray())!;
        Assert.Equal("127.0.0.1", hop["address"]!.GetValue<string>());
        Assert.Equal(2, hop["received"]!.GetValue<int>());
        Assert.Null(result["summary"]!["error_kind"]);
    }

    [SkippableFact]
    public async Task Fan_out_to_two_queues_traces_from_each_and_shows_them_side_by_side()
    {
        Skip.If(lab.Unavailable is not null, lab.Unavailable);
        var settings = new Dictionary<string, string?>
        {
            ["RemoteTest:Worker:Queues:0"] = "fra",
            ["RemoteTest:Worker:Queues:1"] = "dfw",
            ["RemoteTest:PathTrace:RoundInterval"] = "00:00:00.020",
        };
        // This worker's probes start in the lab's client namespace: its sockets are made there.
        await using var host = await ServiceHost.StartAsync(settings, s => s.AddSingleton<TraceSockets>(lab.ClientSockets!));
        using var response = await host.PostTaskAsync(Submit(PathTraceLabTests.Target(PathTraceLab.OpenTcpPort, RoutedLab.DroppedTcpPort),
            new JsonObject { ["timeout"] = 0.5, ["max_hops"] = 5, ["resolve_names"] = false }, new JsonArray("fra", "dfw")));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var group = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["dfw", "fra"], group["tasks"]!.AsObject().Select(kv => kv.Key).Order());

        var done = await host.WaitAsync(group["task_id"]!.GetValue<string>(), TimeSpan.FromSeconds(30));
        Assert.Equal("SUCCESS", done["state"]!.GetValue<string>());
        foreach (var queue in new[] { "fra", "dfw" })
        {
            var child = await host.WaitAsync(group["tasks"]![queue]!.GetValue<string>());
            var result = child["result"]!.AsObject();
            Assert.Equal("reached", PathTraceLabTests.Trace(result, "443")["end"]!.GetValue<string>());
            Assert.Equal(RoutedLab.Hop2, PathTraceLabTests.Trace(result, "8443")["filtered_after"]!["address"]!.GetValue<string>());
        }
    }
}
