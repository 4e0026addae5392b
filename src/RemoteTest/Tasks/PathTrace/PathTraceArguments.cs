using System.Text.Json.Nodes;

namespace RemoteTest.Tasks;

/// <summary>path.trace's arguments: the schema <c>GET /tasks</c> shows, and parsing into <see cref="PathTraceArgs"/>.</summary>
public sealed partial class PathTrace
{
    public const double DefaultTimeout = 2.0;
    public const int DefaultMaxHops = 30;
    private static readonly string[] Protocols = ["tcp", "udp", "icmp"];

    public override IReadOnlyList<TaskParameter> Parameters { get; } =
    [
        new("data", true, "{host: {\"ports\": [...]}} as for porttest.run; ports are ignored for icmp; other fields are ignored.",
            new JsonObject
            {
                ["type"] = "object",
                ["additionalProperties"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        ["ports"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = 65535 } },
                    },
                },
            }),
        new("protocol", false, "tcp (SYN to the port, default), udp (datagram to the port) or icmp (echo).",
            new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("tcp", "udp", "icmp"), ["default"] = "tcp" }),
        new("max_hops", false, "Highest TTL probed (default 30).", new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["default"] = DefaultMaxHops }),
        new("count", false, "Probes per hop; above 1 the result carries MTR's loss and RTT statistics per hop (default 1).",
            new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["default"] = 1 }),
        new("timeout", false, "Seconds each probe's answer is waited for (default 2.0).", new JsonObject { ["type"] = "number", ["default"] = DefaultTimeout }),
        new("resolve_names", false, "Look up each hop's reverse name (bounded; default true).", new JsonObject { ["type"] = "boolean", ["default"] = true }),
    ];

    public override PathTraceArgs ParseArguments(TaskArguments arguments)
    {
        var limits = limitsOptions.Value;
        var settings = pathTraceOptions.Value;
        var protocol = "tcp";
        if (arguments.Has("protocol") && arguments["protocol"] is not null)
        {
            protocol = ArgumentReader.String(arguments["protocol"], "protocol", 8).ToLowerInvariant();
            if (!Protocols.Contains(protocol))
            {
                throw new TaskArgumentException("protocol", $"protocol '{protocol}' is not one of tcp, udp, icmp");
            }
        }
        var maxHops = arguments.Has("max_hops") ? ArgumentReader.Integer(arguments["max_hops"], "max_hops", 1, settings.MaxHops) : Math.Min(DefaultMaxHops, settings.MaxHops);
        var count = arguments.Has("count") ? ArgumentReader.Integer(arguments["count"], "count", 1, settings.MaxRounds) : 1;
        var timeout = arguments.Has("timeout") ? ArgumentReader.Number(arguments["timeout"], "timeout", 0.01, limits.MaxTimeoutSeconds) : DefaultTimeout;
        var resolveNames = !arguments.Has("resolve_names") || ArgumentReader.Boolean(arguments["resolve_names"], "resolve_names");

        var data = ArgumentReader.Object(arguments["data"], "data");
        if (data.Count > limits.MaxHostsPerTask)
        {
            throw new TaskArgumentException("data", $"data names {data.Count} hosts; at most {limits.MaxHostsPerTask} per task");
        }
        var hosts = new List<PathTraceHost>();
        foreach (var (key, value) in data)
        {
            var field = ArgumentReader.Member("data", key);
            var host = ArgumentReader.Host(key, field);
            var info = ArgumentReader.Object(value, field);
            List<int> ports = [0];
            if (protocol != "icmp")
            {
                var list = ArgumentReader.Array(info["ports"], $"{field}.ports");
                ports = list.Select((p, i) => ArgumentReader.Port(p, ArgumentReader.Element($"{field}.ports", i))).Distinct().ToList();
                if (ports.Count == 0)
                {
                    throw new TaskArgumentException($"{field}.ports", $"{field}.ports: a {protocol} trace needs at least one port");
                }
            }
            hosts.Add(new PathTraceHost(key, host, ports));
        }
        var traces = hosts.Sum(h => h.Ports.Count);
        if (traces == 0)
        {
            throw new TaskArgumentException("data", "data names no host to trace");
        }
        if (traces > settings.MaxTracesPerTask)
        {
            throw new TaskArgumentException("data", $"data asks for {traces} traces (host × port); at most {settings.MaxTracesPerTask} per task");
        }
        if ((long)traces * maxHops * count > settings.MaxProbesPerTask)
        {
            throw new TaskArgumentException("count",
                $"{traces} traces × max_hops {maxHops} × count {count} is more than {settings.MaxProbesPerTask} probes per task; lower count, max_hops or the targets");
        }
        return new PathTraceArgs(hosts, protocol, maxHops, count, timeout, resolveNames);
    }

}

/// <summary>Validated arguments of <c>path.trace</c>.</summary>
/// <param name="Protocol"><c>tcp</c>, <c>udp</c> or <c>icmp</c>.</param>
/// <param name="Count">Probes per hop: MTR mode above 1.</param>
/// <param name="Timeout">Seconds each probe's answer is waited for.</param>
/// <param name="ResolveNames">Look up each hop's reverse name.</param>
public sealed record PathTraceArgs(
    IReadOnlyList<PathTraceHost> Hosts, string Protocol, int MaxHops, int Count, double Timeout, bool ResolveNames) : Security.ITargetedArguments
{
    public int Traces => Hosts.Sum(h => h.Ports.Count);

    public string TargetField => "data";

    public IReadOnlyList<string> Targets => Hosts.Select(h => h.Host).ToList();
}

/// <summary>One host of <c>data</c>: its key as written, the host to resolve, and the ports to trace (one 0 for ICMP).</summary>
public sealed record PathTraceHost(string Key, string Host, IReadOnlyList<int> Ports);
