using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>porttest.run's arguments: the schema <c>GET /tasks</c> shows, and parsing into <see cref="PortTestArgs"/>.</summary>
public sealed partial class PortTest
{
    /// <summary>The original's defaults: BroadWorks' HTTPS, OCI-over-TLS and XSI-over-TLS ports.</summary>
    public static readonly IReadOnlyList<int> DefaultTlsPorts = [443, 2209, 8012];

    private const int MaxPemLength = 256 * 1024;

    public override IReadOnlyList<TaskParameter> Parameters { get; } =
    [
        new("data", true,
            "{host: {\"ports\": [...], \"expect_open\": [...], \"expect_closed\": [...], \"sni\": \"name\"}}; other fields (applications, test_data) are ignored.",
            new JsonObject
            {
                ["type"] = "object",
                ["additionalProperties"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        ["ports"] = PortList(),
                        ["expect_open"] = PortList(),
                        ["expect_closed"] = PortList(),
                        ["sni"] = new JsonObject { ["type"] = "string" },
                    },
                },
            }),
        new("timeout", false, "Seconds for each connect and each TLS handshake (default 5.0).", new JsonObject { ["type"] = "number", ["default"] = 5.0 }),
        new("verify_ssl", false, "Validate certificate chains and names (default true); false still reports every certificate fact.",
            new JsonObject { ["type"] = "boolean", ["default"] = true }),
        new("tls_ports", false, "Ports where a TLS handshake follows the connect (default [443, 2209, 8012]).", PortList(DefaultTlsPorts)),
        new("max_workers", false, "Accepted for compatibility; every check runs at once (see RemoteTest:PortTest:MaxConcurrentChecks).",
            new JsonObject { ["type"] = "integer", ["default"] = 10 }),
        new("sni", false, "Server name sent to TLS ports and checked against certificates, instead of the host.", new JsonObject { ["type"] = "string" }),
        new("ca_pem", false, "PEM CA certificates trusted besides the system's (private CAs).", new JsonObject { ["type"] = "string" }),
        new("trace_failed", false, "Trace the path (TCP SYN traceroute, as path.trace) to every port that timed out; the trace is shown in the port's result (default false).",
            new JsonObject { ["type"] = "boolean", ["default"] = false }),
        new("all_addresses", false, "Check every A/AAAA address behind a name and report each (default false).",
            new JsonObject { ["type"] = "boolean", ["default"] = false }),
    ];

    public override PortTestArgs ParseArguments(TaskArguments arguments)
    {
        var limits = limitsOptions.Value;
        var data = ArgumentReader.Object(arguments["data"], "data");
        if (data.Count > limits.MaxHostsPerTask)
        {
            throw new TaskArgumentException("data", $"data names {data.Count} hosts; at most {limits.MaxHostsPerTask} per task");
        }
        var hosts = new List<PortTestHost>(data.Count);
        var checks = 0;
        foreach (var (key, value) in data)
        {
            var field = ArgumentReader.Member("data", key);
            var host = ArgumentReader.Host(key, field);
            var info = ArgumentReader.Object(value, field);
            var ports = Ports(info, "ports", field);
            var expectOpen = info.ContainsKey("expect_open") ? Ports(info, "expect_open", field) : null;
            var expectClosed = Ports(info, "expect_closed", field);
            foreach (var port in expectClosed.Where(p => expectOpen?.Contains(p) == true))
            {
                throw new TaskArgumentException($"{field}.expect_closed", $"{field}: port {port} is in both expect_open and expect_closed");
            }
            string? sni = null;
            if (info["sni"] is { } sniNode)
            {
                sni = ServerName(sniNode, $"{field}.sni");
            }

            var targets = new List<PortTarget>();
            foreach (var port in ports.Concat(expectOpen ?? []).Concat(expectClosed).Distinct())
            {
                var expected = expectClosed.Contains(port) ? PortExpectation.Closed
                    : expectOpen is null || expectOpen.Contains(port) ? PortExpectation.Open
                    : PortExpectation.Any;
                targets.Add(new PortTarget(port, expected));
            }
            if (targets.Count > limits.MaxPortsPerHost)
            {
                throw new TaskArgumentException(field, $"{field} names {targets.Count} ports; at most {limits.MaxPortsPerHost} per host");
            }
            checks += targets.Count;
            if (checks > limits.MaxChecksPerTask)
            {
                throw new TaskArgumentException("data", $"data asks for more than {limits.MaxChecksPerTask} host × port checks; at most {limits.MaxChecksPerTask} per task");
            }
            hosts.Add(new PortTestHost(key, host, targets, sni));
        }

        var timeout = arguments.Has("timeout") ? ArgumentReader.Number(arguments["timeout"], "timeout", 0.001, limits.MaxTimeoutSeconds) : 5.0;
        var verify = !arguments.Has("verify_ssl") || ArgumentReader.Boolean(arguments["verify_ssl"], "verify_ssl");
        var tlsPorts = arguments.Has("tls_ports") ? PortArray(arguments["tls_ports"], "tls_ports") : DefaultTlsPorts;
        var maxWorkers = arguments.Has("max_workers") ? ArgumentReader.Integer(arguments["max_workers"], "max_workers", 1, 100_000) : 10;
        var sniAll = arguments.Has("sni") && arguments["sni"] is not null ? ServerName(arguments["sni"], "sni") : null;
        X509Certificate2Collection? roots = null;
        if (arguments.Has("ca_pem") && arguments["ca_pem"] is not null)
        {
            try
            {
                roots = TlsTrust.ParsePem(ArgumentReader.String(arguments["ca_pem"], "ca_pem", MaxPemLength), "ca_pem");
            }
            catch (FormatException ex)
            {
                throw new TaskArgumentException("ca_pem", ex.Message);
            }
        }
        var allAddresses = arguments.Has("all_addresses") && ArgumentReader.Boolean(arguments["all_addresses"], "all_addresses");
        var traceFailed = arguments.Has("trace_failed") && ArgumentReader.Boolean(arguments["trace_failed"], "trace_failed");
        return new PortTestArgs(hosts, timeout, verify, tlsPorts, maxWorkers, sniAll, roots, allAddresses) { TraceFailed = traceFailed };
    }

    private static List<int> Ports(JsonObject info, string name, string hostField) =>
        info[name] is null && !info.ContainsKey(name) ? [] : PortArray(info[name], $"{hostField}.{name}");

    private static List<int> PortArray(JsonNode? node, string field)
    {
        var list = ArgumentReader.Array(node, field);
        return list.Select((p, i) => ArgumentReader.Port(p, ArgumentReader.Element(field, i))).Distinct().ToList();
    }

    private static string ServerName(JsonNode? node, string field)
    {
        var name = ArgumentReader.String(node, field, 253);
        if (!ArgumentReader.IsDnsName(name) || IPAddress.TryParse(name, out _))
        {
            throw new TaskArgumentException(field, $"{field}: '{name}' is not a DNS name (SNI carries names, not addresses)");
        }
        return name.TrimEnd('.');
    }

    private static JsonObject PortList(IReadOnlyList<int>? defaults = null)
    {
        var schema = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = 65535 } };
        if (defaults is not null)
        {
            schema["default"] = new JsonArray([.. defaults.Select(p => (JsonNode)p)]);
        }
        return schema;
    }
}

/// <summary>Validated arguments of <c>porttest.run</c>.</summary>
/// <param name="Hosts">The hosts in the caller's order.</param>
/// <param name="MaxWorkers">The original's thread count: accepted and reported, not used (every check runs at once).</param>
/// <param name="Sni">Server name sent to every TLS port instead of the host (a host's own <c>sni</c> wins).</param>
/// <param name="ExtraRoots">The task's <c>ca_pem</c> roots, added to the configured and system roots.</param>
/// <param name="AllAddresses">Check every A/AAAA address behind a name, not just the first that answers.</param>
public sealed record PortTestArgs(
    IReadOnlyList<PortTestHost> Hosts,
    double Timeout,
    bool VerifySsl,
    IReadOnlyList<int> TlsPorts,
    int MaxWorkers,
    string? Sni,
    X509Certificate2Collection? ExtraRoots,
    bool AllAddresses) : Security.ITargetedArguments
{
    /// <summary><c>trace_failed</c>: trace the path (TCP SYN, path.trace) to every port that timed out.</summary>
    public bool TraceFailed { get; init; }

    /// <summary>Host × port checks the task asks for.</summary>
    public int PortsChecked => Hosts.Sum(h => h.Ports.Count);

    public string TargetField => "data";

    public IReadOnlyList<string> Targets => Hosts.Select(h => h.Host).ToList();
}

/// <summary>What a port is expected to be; a port in the wrong state fails.</summary>
public enum PortExpectation
{
    Open,
    Closed,

    /// <summary>Reported, never failed: a port listed when <c>expect_open</c> names others.</summary>
    Any,
}

/// <summary>One host of <c>data</c>.</summary>
/// <param name="Key">The host as the caller wrote it: the key of its result.</param>
/// <param name="Host">The normalised name or IP literal that is resolved and connected to.</param>
/// <param name="Ports">Every port to check, in the caller's order, each once.</param>
public sealed record PortTestHost(string Key, string Host, IReadOnlyList<PortTarget> Ports, string? Sni);

/// <summary>A port to check and the state it should be in.</summary>
public sealed record PortTarget(int Port, PortExpectation Expected);
