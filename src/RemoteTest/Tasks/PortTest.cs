using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>
/// <c>porttest.run</c>: which TCP ports of each host answer, and which certificate each TLS port serves. Every
/// host × port check of a task runs at once (up to <see cref="PortTestOptions.MaxConcurrentChecks"/>), each name
/// is resolved once, and a check's connect and handshake each have the task's timeout, so a task takes about one
/// timeout however many ports it holds (the original took one per port of a host).
/// </summary>
public sealed class PortTest(
    IOptions<RemoteTestOptions> options,
    IHostResolver resolver,
    TcpConnector connector,
    TlsTrust trust,
    TimeProvider time,
    PathTrace? tracer = null) : RemoteTask<PortTestArgs>
{
    /// <summary>The original's defaults: BroadWorks' HTTPS, OCI-over-TLS and XSI-over-TLS ports.</summary>
    public static readonly IReadOnlyList<int> DefaultTlsPorts = [443, 2209, 8012];

    private const int MaxPemLength = 256 * 1024;

    public override string Name => "porttest.run";

    public override string Description =>
        "Checks that each host's TCP ports answer and reports the certificate behind each TLS port (validity, chain, expiry).";

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
        var limits = options.Value.Limits;
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

    public override async Task<object> RunAsync(PortTestArgs args, TaskContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = options.Value.PortTest;
        var timeout = TimeSpan.FromSeconds(args.Timeout);
        var run = new Run(args, timeout, trust.With(args.ExtraRoots), new SemaphoreSlim(settings.MaxConcurrentChecks), settings.MaxAddressesPerHost, context);
        context.Plan(args.PortsChecked);

        // Each name once per task, however many hosts or ports share it.
        var resolutions = args.Hosts.Select(h => h.Host).Distinct(StringComparer.OrdinalIgnoreCase)
            .ToDictionary(h => h, h => ResolveAsync(run, h, cancellationToken), StringComparer.OrdinalIgnoreCase);
        var hosts = await Task.WhenAll(args.Hosts.Select(h => CheckHostAsync(run, h, resolutions[h.Host], cancellationToken)));
        run.Gate.Dispose();

        if (args.TraceFailed && tracer is not null)
        {
            hosts = await PortTraces.AttachAsync(tracer, options.Value.PathTrace, args, hosts, cancellationToken);
        }
        var results = new Dictionary<string, PortTestHostResult>(StringComparer.Ordinal);
        foreach (var (host, result) in args.Hosts.Zip(hosts))
        {
            results[host.Key] = result;
        }
        var summary = new PortTestSummary(
            Hosts: args.Hosts.Count,
            PortsChecked: args.PortsChecked,
            DurationSec: Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 2),
            TlsPorts: args.TlsPorts,
            VerifySsl: args.VerifySsl,
            Ok: hosts.All(h => h.Error is null && h.FailedPorts.Count == 0),
            PortsOpen: hosts.Sum(h => h.Ports.Values.Count(p => p.Open)),
            PortsFailed: hosts.Sum(h => h.FailedPorts.Count),
            AllAddresses: args.AllAddresses);
        return new PortTestResult(summary, results);
    }

    /// <summary>What every check of one task shares.</summary>
    private sealed record Run(
        PortTestArgs Args, TimeSpan Timeout, X509Certificate2Collection Roots, SemaphoreSlim Gate, int MaxAddresses, TaskContext Context);

    private async Task<HostResolution> ResolveAsync(Run run, string host, CancellationToken cancellationToken)
    {
        await run.Gate.WaitAsync(cancellationToken);
        try
        {
            return await HostResolution.ResolveAsync(resolver, host, run.Timeout, time, cancellationToken);
        }
        finally
        {
            run.Gate.Release();
        }
    }

    private async Task<PortTestHostResult> CheckHostAsync(Run run, PortTestHost host, Task<HostResolution> resolving, CancellationToken cancellationToken)
    {
        var resolution = await resolving;
        var addresses = resolution.Addresses.Select(a => a.ToString()).ToList();
        if (!resolution.Resolved)
        {
            var unresolved = host.Ports.ToDictionary(
                t => PortKey(t.Port),
                t => new PortCheckResult(false, resolution.Error, resolution.ErrorKind, null, null, null, null, Expectation(t.Expected), false, null));
            foreach (var _ in host.Ports)
            {
                run.Context.Complete();
            }
            return new PortTestHostResult(unresolved, host.Ports.Select(t => t.Port).ToList(), addresses, resolution.Error, resolution.ErrorKind, null);
        }

        if (!run.Args.AllAddresses || resolution.Addresses.Count == 1 || IPAddress.TryParse(host.Host, out _))
        {
            var checks = await Task.WhenAll(host.Ports.Select(async target =>
            {
                var result = await CheckPortAsync(run, host, resolution.Addresses, target, cancellationToken);
                run.Context.Complete();
                return result;
            }));
            return HostResult(host, checks, addresses, null);
        }

        // all_addresses: every address is a check of its own; the host's ports show each port's worst address.
        var perAddress = resolution.Addresses.Take(run.MaxAddresses).ToList();
        var grid = await Task.WhenAll(host.Ports.Select(async target =>
        {
            var results = await Task.WhenAll(perAddress.Select(a => CheckPortAsync(run, host, [a], target, cancellationToken)));
            run.Context.Complete();
            return results;
        }));
        var byAddress = new Dictionary<string, PortTestAddressResult>(StringComparer.Ordinal);
        for (var a = 0; a < perAddress.Count; a++)
        {
            var column = grid.Select(row => row[a]).ToArray();
            var ports = host.Ports.Zip(column).ToDictionary(x => PortKey(x.First.Port), x => x.Second);
            byAddress[perAddress[a].ToString()] = new PortTestAddressResult(ports, FailedPorts(host, column));
        }
        var worst = grid.Select(row => row.FirstOrDefault(r => !r.Ok) ?? row[0]).ToArray();
        return HostResult(host, worst, addresses, byAddress);
    }

    private static PortTestHostResult HostResult(PortTestHost host, IReadOnlyList<PortCheckResult> checks, IReadOnlyList<string> addresses,
        IReadOnlyDictionary<string, PortTestAddressResult>? byAddress)
    {
        var ports = host.Ports.Zip(checks).ToDictionary(x => PortKey(x.First.Port), x => x.Second, StringComparer.Ordinal);
        return new PortTestHostResult(ports, FailedPorts(host, checks), addresses, null, null, byAddress);
    }

    private static List<int> FailedPorts(PortTestHost host, IReadOnlyList<PortCheckResult> checks) =>
        host.Ports.Zip(checks).Where(x => !x.Second.Ok).Select(x => x.First.Port).ToList();

    /// <summary>
    /// One port: connect to the addresses in the resolver's order until one answers (as a client would), all within
    /// one timeout; then, on a TLS port, the handshake within another.
    /// </summary>
    private async Task<PortCheckResult> CheckPortAsync(Run run, PortTestHost host, IReadOnlyList<IPAddress> addresses, PortTarget target, CancellationToken cancellationToken)
    {
        await run.Gate.WaitAsync(cancellationToken);
        try
        {
            var started = time.GetTimestamp();
            TcpConnectResult? tcp = null;
            foreach (var address in addresses)
            {
                var left = run.Timeout - time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    break;
                }
                tcp?.Dispose();
                tcp = await connector.ConnectAsync(new IPEndPoint(address, target.Port), left, cancellationToken);
                if (tcp.Connected || tcp.ErrorKind == ErrorKind.Timeout)
                {
                    break;
                }
            }
            using var connection = tcp!;
            var error = connection.ErrorKind == ErrorKind.Timeout
                ? $"timed out after {ProbeText.Seconds(run.Timeout)} s" // the whole budget, whichever address used its end
                : connection.Error;

            PortTlsResult? tls = null;
            double? tlsSeconds = null;
            if (connection.Connected && run.Args.TlsPorts.Contains(target.Port))
            {
                var serverName = host.Sni ?? run.Args.Sni ?? host.Host;
                var request = new TlsHandshakeRequest(serverName, run.Args.VerifySsl, run.Roots, run.Timeout);
                await using var session = await TlsHandshake.RunAsync(connection.GetStream(), request, time, cancellationToken);
                tls = PortTlsResult.From(session, IPAddress.TryParse(serverName, out _) ? null : serverName);
                tlsSeconds = ProbeText.SecondsValue(session.Elapsed);
            }

            var open = connection.Connected;
            var errorKind = connection.ErrorKind;
            var ok = target.Expected switch
            {
                PortExpectation.Open => open && (tls is null || tls.Loaded),
                PortExpectation.Closed => !open && errorKind is ErrorKind.Refused or ErrorKind.Timeout or ErrorKind.Unreachable,
                _ => true,
            };
            if (open && target.Expected == PortExpectation.Closed)
            {
                error = "expected closed, is open";
                errorKind = ErrorKind.UnexpectedOpen;
            }
            return new PortCheckResult(
                open, error, errorKind, connection.Endpoint.Address.ToString(),
                ProbeText.Milliseconds(connection.Elapsed), ProbeText.SecondsValue(connection.Elapsed), tlsSeconds,
                Expectation(target.Expected), ok, tls);
        }
        finally
        {
            run.Gate.Release();
        }
    }

    private static string PortKey(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Expectation(PortExpectation expected) => expected switch
    {
        PortExpectation.Open => "open",
        PortExpectation.Closed => "closed",
        _ => "any",
    };

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
