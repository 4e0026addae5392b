using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ARSoft.Tools.Net;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Probes;
using RemoteTest.Security;
using RemoteTest.Tasks;

namespace RemoteTest.Tests.PathTrace;

/// <summary>The lab for one test class: the namespaces, sockets made inside the client and target, and the target's listeners.</summary>
public sealed class PathTraceLab : IDisposable
{
    public const int OpenTcpPort = 443;
    public const int AnsweringUdpPort = 5060;
    public const int ClosedUdpPort = 5070;

    private readonly List<IDisposable> _owned = [];

    public PathTraceLab()
    {
        Unavailable = RoutedLab.Unavailable();
        if (Unavailable is not null)
        {
            return;
        }
        Lab = new RoutedLab();
        _owned.Add(Lab);
        ClientSockets = new NetnsSockets(Lab.ClientNs);
        _owned.Add(ClientSockets);
        var target = new NetnsSockets(Lab.TargetNs);
        _owned.Add(target);
        var listener = target.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(new IPEndPoint(IPAddress.Any, OpenTcpPort));
        listener.Listen(64);
        _owned.Add(listener);
        // A UDP service that answers (a SIP server would): its reply shows the target was reached.
        var udp = target.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        udp.Bind(new IPEndPoint(IPAddress.Any, AnsweringUdpPort));
        _owned.Add(udp);
        _ = Task.Run(async () =>
        {
            var buffer = new byte[1500];
            try
            {
                while (true)
                {
                    var got = await udp.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0));
                    await udp.SendToAsync(buffer.AsMemory(0, got.ReceivedBytes), got.RemoteEndPoint);
                }
            }
            catch (Exception)
            {
                // closed at the end of the class
            }
        });
    }

    public string? Unavailable { get; }

    public RoutedLab? Lab { get; }

    public NetnsSockets? ClientSockets { get; }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }
}

/// <summary>
/// path.trace through real routed paths: namespaces with two routers, a firewall that drops or rejects, a lossy link.
/// The traces run from inside the client namespace (sockets created there); skipped with a reason when not root.
/// </summary>
public sealed class PathTraceLabTests(PathTraceLab lab) : IClassFixture<PathTraceLab>
{
    internal static async Task<JsonObject> RunAsync(TraceSockets sockets, JsonObject data, JsonObject? kwargs = null,
        Action<RemoteTestOptions>? configure = null, TargetGuard? guard = null)
    {
        var options = new RemoteTestOptions();
        options.PathTrace.RoundInterval = TimeSpan.FromMilliseconds(20);
        configure?.Invoke(options);
        var task = new RemoteTest.Tasks.PathTrace(Options.Create(options.Dns), Options.Create(options.Limits), Options.Create(options.PathTrace), new SystemHostResolver(),
            sockets, TimeProvider.System, guard);
        var k = (JsonObject?)kwargs?.DeepClone() ?? [];
        k.TryAdd("resolve_names", false); // a PTR query must not leave the machine: names only with a loopback resolver
        if (k["resolve_names"]!.GetValue<bool>())
        {
            // With no resolver set the system's would be asked: refuse anything but loopback resolvers.
            Assert.NotEmpty(options.Dns.DefaultNameservers);
            Assert.All(options.Dns.DefaultNameservers, ns => Assert.True(IPAddress.IsLoopback(IPAddress.Parse(DnsQuery.ParseNameServer(ns)!.Address)), ns));
        }
        var arguments = TaskArguments.Bind(task.Parameters, [data.DeepClone()], k);
        var result = await task.RunAsync(task.ParseArguments(arguments), new TaskContext(Guid.NewGuid()), CancellationToken.None);
        return JsonSerializer.SerializeToNode(result, result.GetType(), RemoteTestJson.Options)!.AsObject();
    }

    private Task<JsonObject> TraceAsync(JsonObject data, JsonObject? kwargs = null, Action<RemoteTestOptions>? configure = null, TargetGuard? guard = null)
    {
        Skip.If(lab.Unavailable is not null, lab.Unavailable);
        return RunAsync(lab.ClientSockets!, data, kwargs, configure, guard);
    }

    internal static JsonObject Target(params int[] ports) =>
        new() { [RoutedLab.Target] = new JsonObject { ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)p)]) } };

    internal static JsonObject Trace(JsonObject result, string key, string host = RoutedLab.Target) =>
        result["results"]![host]!["ports"]![key]!.AsObject();

    private static string Addresses(JsonObject trace) => string.Join(",", trace["hops"]!.AsArray().Select(h => h!["address"]?.GetValue<string>() ?? "*"));

    [SkippableFact]
    public async Task Hop_names_come_from_the_configured_resolver_and_a_silent_ptr_leaves_name_null_within_the_deadline()
    {
        Skip.If(lab.Unavailable is not null, lab.Unavailable);
        await using var dns = DnsTestServer.Start(IPAddress.Parse("127.0.0.7"));
        dns.Ptr(RoutedLab.Hop1, "r1.lab.test").Ptr(RoutedLab.Target, "target.lab.test");
        // Router 2's PTR never answers: its lookup times out.
        dns.Silent(IPAddress.Parse(RoutedLab.Hop2).GetReverseLookupDomain().ToString());
        var nameTimeout = TimeSpan.FromMilliseconds(400);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await TraceAsync(Target(PathTraceLab.OpenTcpPort), new JsonObject { ["timeout"] = 1.0, ["max_hops"] = 8, ["resolve_names"] = true },
            o =>
            {
                o.Dns.DefaultNameservers = [dns.NameServer];
                o.PathTrace.NameTimeout = nameTimeout;
            });
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        var hops = Trace(result, "443")["hops"]!.AsArray();
        Assert.Equal(["r1.lab.test", null, "target.lab.test"], hops.Select(h => h!["name"]?.GetValue<string>()));
        Assert.Equal("reached", Trace(result, "443")["end"]!.GetValue<string>());
        // The PTR questions went to the lab's server, each address once.
        Assert.Equal(1, dns.QueriesFor(IPAddress.Parse(RoutedLab.Hop1).GetReverseLookupDomain().ToString()));
        Assert.Equal(1, dns.QueriesFor(IPAddress.Parse(RoutedLab.Hop2).GetReverseLookupDomain().ToString()));
        // A reached trace takes milliseconds; the silent PTR adds at most one NameTimeout, well inside the task's deadline.
        Assert.True(elapsed < TimeSpan.FromSeconds(1.0) + nameTimeout + TimeSpan.FromMilliseconds(500), $"took {elapsed}");
    }

    [SkippableFact]
    public async Task Tcp_trace_to_an_open_port_is_reached_through_both_routers()
    {
        var result = await TraceAsync(Target(PathTraceLab.OpenTcpPort), new JsonObject { ["timeout"] = 1.0, ["max_hops"] = 8 });

        var trace = Trace(result, "443");
        Assert.Equal("reached", trace["end"]!.GetValue<string>());
        Assert.True(trace["reached"]!.GetValue<bool>());
        Assert.Null(trace["filtered_after"]);
        Assert.Null(trace["unreachable"]);
        Assert.Null(trace["error"]);
        Assert.Equal($"{RoutedLab.Hop1},{RoutedLab.Hop2},{RoutedLab.Target}", Addresses(trace));
        var hops = trace["hops"]!.AsArray();
        Assert.Equal(["time_exceeded", "time_exceeded", "reached"], hops.Select(h => h!["answer"]!.GetValue<string>()));
        Assert.All(hops, h => Assert.True(h!["rtt_ms"]![0]!.GetValue<double>() is > 0 and < 1000));
        Assert.Equal(1, result["summary"]!["reached"]!.GetValue<int>());
        Assert.True(result["summary"]!["ok"]!.GetValue<bool>());
        Assert.Equal("tcp", trace["protocol"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task Tcp_trace_to_a_closed_port_is_reached_by_the_targets_reset()
    {
        var result = await TraceAsync(Target(81), new JsonObject { ["timeout"] = 1.0, ["max_hops"] = 8 });

        var trace = Trace(result, "81");
        Assert.Equal("reached", trace["end"]!.GetValue<string>());
        Assert.Equal(3, trace["hops"]!.AsArray().Count);
    }

    [SkippableFact]
    public async Task Tcp_trace_dropped_at_hop_2_ends_filtered_after_hop_2()
    {
        var result = await TraceAsync(Target(RoutedLab.DroppedTcpPort), new JsonObject { ["timeout"] = 0.5, ["max_hops"] = 6 });

        var trace = Trace(result, "8443");
        Assert.Equal("filtered", trace["end"]!.GetValue<string>());
        Assert.False(trace["reached"]!.GetValue<bool>());
        Assert.Equal(2, trace["filtered_after"]!["ttl"]!.GetValue<int>());
        Assert.Equal(RoutedLab.Hop2, trace["filtered_after"]!["address"]!.GetValue<string>());
        Assert.Equal($"{RoutedLab.Hop1},{RoutedLab.Hop2},*", Addresses(trace)); // the first silent hop, then nothing
        Assert.Equal("timeout", trace["error_kind"]!.GetValue<string>());
        Assert.False(result["summary"]!["ok"]!.GetValue<bool>());
    }

    [SkippableFact]
    public async Task Tcp_trace_rejected_by_the_firewall_names_admin_prohibited_and_its_sender()
    {
        var result = await TraceAsync(Target(RoutedLab.RejectedTcpPort), new JsonObject { ["timeout"] = 1.0 });

        var trace = Trace(result, "8444");
        Assert.Equal("unreachable", trace["end"]!.GetValue<string>());
        var unreachable = trace["unreachable"]!;
        Assert.Equal(13, unreachable["code"]!.GetValue<int>());
        Assert.Equal("admin-prohibited", unreachable["name"]!.GetValue<string>());
        Assert.Equal(RoutedLab.Hop2, unreachable["from"]!.GetValue<string>());
        // TTL 2 expires at router2 before its forward chain; TTL 3 is the first probe the rule sees.
        Assert.Equal(3, unreachable["ttl"]!.GetValue<int>());
        Assert.Equal($"{RoutedLab.Hop1},{RoutedLab.Hop2},{RoutedLab.Hop2}", Addresses(trace));
        Assert.Equal("unreachable", trace["hops"]![2]!["answer"]!.GetValue<string>());
        Assert.Equal("unreachable", trace["error_kind"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task Mtr_mode_shows_the_lossy_hop_with_loss_and_rtt_statistics()
    {
        Skip.If(lab.Unavailable is not null, lab.Unavailable);
        JsonObject result;
        using (lab.Lab!.Loss(50))
        {
            result = await TraceAsync(Target(PathTraceLab.OpenTcpPort), new JsonObject { ["timeout"] = 0.3, ["max_hops"] = 6, ["count"] = 20 });
        }

        var trace = Trace(result, "443");
        Assert.Equal(20, trace["count"]!.GetValue<int>());
        var hops = trace["hops"]!.AsArray();
        Assert.Equal(3, hops.Count);
        var first = hops[0]!;
        Assert.Equal(20, first["sent"]!.GetValue<int>());
        Assert.Equal(0, first["loss_pct"]!.GetValue<double>());
        Assert.Equal(20, first["rtt_ms"]!.AsArray().Count);
        foreach (var name in new[] { "rtt_min", "rtt_avg", "rtt_max", "rtt_stdev" })
        {
            Assert.NotNull(first[name]);
        }
        Assert.True(first["rtt_min"]!.GetValue<double>() <= first["rtt_avg"]!.GetValue<double>());
        Assert.True(first["rtt_avg"]!.GetValue<double>() <= first["rtt_max"]!.GetValue<double>());
        // Behind the lossy link every hop loses probes (P(no loss in 20 at 50 %) ≈ 1e-6).
        Assert.InRange(hops[1]!["loss_pct"]!.GetValue<double>(), 5, 95);
        Assert.InRange(hops[2]!["loss_pct"]!.GetValue<double>(), 5, 100);
        Assert.Contains(hops[1]!["rtt_ms"]!.AsArray(), r => r is null);
        Assert.Equal("reached", trace["end"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task Udp_trace_is_reached_by_a_reply_or_port_unreachable_and_filtered_where_dropped()
    {
        var result = await TraceAsync(
            Target(PathTraceLab.AnsweringUdpPort, PathTraceLab.ClosedUdpPort, RoutedLab.DroppedUdpPort),
            new JsonObject { ["protocol"] = "udp", ["timeout"] = 0.5, ["max_hops"] = 6 });

        var answering = Trace(result, "5060");
        Assert.True(answering["end"]!.GetValue<string>() == "reached", result.ToJsonString());
        Assert.Equal("reached", answering["end"]!.GetValue<string>());
        Assert.Equal($"{RoutedLab.Hop1},{RoutedLab.Hop2},{RoutedLab.Target}", Addresses(answering));
        var closed = Trace(result, "5070");
        Assert.True(closed["end"]!.GetValue<string>() == "reached", result.ToJsonString());
        Assert.Equal("reached", closed["end"]!.GetValue<string>()); // the target's port unreachable
        var dropped = Trace(result, "5061");
        Assert.Equal("filtered", dropped["end"]!.GetValue<string>());
        Assert.Equal(RoutedLab.Hop2, dropped["filtered_after"]!["address"]!.GetValue<string>());
        Assert.Equal("udp", dropped["protocol"]!.GetValue<string>());
        Assert.Equal(2, result["summary"]!["reached"]!.GetValue<int>());
    }

    [SkippableFact]
    public async Task Icmp_trace_reaches_the_target_through_both_routers()
    {
        var data = new JsonObject { [RoutedLab.Target] = new JsonObject() };
        var result = await TraceAsync(data, new JsonObject { ["protocol"] = "icmp", ["timeout"] = 1.0, ["count"] = 3 });

        var trace = Trace(result, "icmp");
        Assert.Equal("reached", trace["end"]!.GetValue<string>());
        Assert.Null(trace["port"]);
        Assert.Equal($"{RoutedLab.Hop1},{RoutedLab.Hop2},{RoutedLab.Target}", Addresses(trace));
        Assert.All(trace["hops"]!.AsArray(), h => Assert.Equal(0, h!["loss_pct"]!.GetValue<double>()));
    }

    [SkippableFact]
    public async Task All_traces_of_a_task_run_at_once_under_one_deadline()
    {
        var result = await TraceAsync(Target(PathTraceLab.OpenTcpPort, RoutedLab.DroppedTcpPort, RoutedLab.RejectedTcpPort, 9000, 9001),
            new JsonObject { ["timeout"] = 1.0, ["max_hops"] = 5 });

        // The two dropped ports... one dropped port waits its timeout once; one after the other they would take ≥ 2 s.
        Assert.Equal(5, result["summary"]!["traces"]!.GetValue<int>());
        Assert.InRange(result["summary"]!["duration_sec"]!.GetValue<double>(), 0.5, 1.9);
        Assert.Equal("filtered", Trace(result, "8443")["end"]!.GetValue<string>());
        Assert.Equal("unreachable", Trace(result, "8444")["end"]!.GetValue<string>());
        Assert.Equal("reached", Trace(result, "9000")["end"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task A_target_the_guard_refuses_gets_not_allowed_and_no_probe()
    {
        var options = new RemoteTestOptions();
        options.Targets.Deny = ["10.201.3.0/24"];
        var guard = new TargetGuard(new TargetPolicy(options.Targets, false, () => new HashSet<IPAddress>()), Options.Create(options.Targets),
            NullLogger<TargetGuard>.Instance);

        var result = await TraceAsync(Target(PathTraceLab.OpenTcpPort), new JsonObject { ["timeout"] = 0.5 }, guard: guard);

        var trace = Trace(result, "443");
        Assert.Equal("not_allowed", trace["error_kind"]!.GetValue<string>());
        Assert.Empty(trace["hops"]!.AsArray());
        Assert.Null(trace["end"]);
    }
}
