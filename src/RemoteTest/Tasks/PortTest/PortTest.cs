using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>
/// <c>porttest.run</c>: which TCP ports of each host answer, and which certificate each TLS port serves. Every
/// host × port check of a task runs at once (up to <see cref="PortTestOptions.MaxConcurrentChecks"/>), each name
/// is resolved once, and a check's connect and handshake each have the task's timeout, so a task takes about one
/// timeout however many ports it holds (the original took one per port of a host).
/// </summary>
public sealed partial class PortTest(
    IOptions<LimitsOptions> limitsOptions, IOptions<Tasks.PathTraceOptions> pathTraceOptions, IOptions<Tasks.PortTestOptions> portTestOptions,
    IHostResolver resolver,
    TcpConnector connector,
    TlsTrust trust,
    TimeProvider time,
    PathTrace? tracer = null) : RemoteTask<PortTestArgs>
{
    public override string Name => "porttest.run";

    public override string Description =>
        "Checks that each host's TCP ports answer and reports the certificate behind each TLS port (validity, chain, expiry).";

    public override async Task<object> RunAsync(PortTestArgs args, TaskContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = portTestOptions.Value;
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
            hosts = await PortTraces.AttachAsync(tracer, pathTraceOptions.Value, args, hosts, cancellationToken);
        }
        var results = new Dictionary<string, PortTestHostResult>(StringComparer.Ordinal);
        foreach (var (host, result) in args.Hosts.Zip(hosts))
        {
            results[host.Key] = result;
        }
        var summary = new PortTestSummary
        {
            Hosts = args.Hosts.Count,
            PortsChecked = args.PortsChecked,
            DurationSec = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 2),
            TlsPorts = args.TlsPorts,
            VerifySsl = args.VerifySsl,
            Ok = hosts.All(h => h.Error is null && h.FailedPorts.Count == 0),
            PortsOpen = hosts.Sum(h => h.Ports.Values.Count(p => p.Open)),
            PortsFailed = hosts.Sum(h => h.FailedPorts.Count),
            AllAddresses = args.AllAddresses,
        };
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
                t => new PortCheckResult
                {
                    Open = false, Error = resolution.Error, ErrorKind = resolution.ErrorKind, Expected = Expectation(t.Expected), Ok = false,
                });
            foreach (var _ in host.Ports)
            {
                run.Context.Complete();
            }
            return new PortTestHostResult
            {
                Ports = unresolved, FailedPorts = host.Ports.Select(t => t.Port).ToList(), Addresses = addresses,
                Error = resolution.Error, ErrorKind = resolution.ErrorKind,
            };
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
        return new PortTestHostResult { Ports = ports, FailedPorts = FailedPorts(host, checks), Addresses = addresses, ByAddress = byAddress };
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
            return new PortCheckResult
            {
                Open = open,
                Error = error,
                ErrorKind = errorKind,
                Address = connection.Endpoint.Address.ToString(),
                ConnectMs = ProbeText.Milliseconds(connection.Elapsed),
                ConnectSeconds = ProbeText.SecondsValue(connection.Elapsed),
                TlsSeconds = tlsSeconds,
                Expected = Expectation(target.Expected),
                Ok = ok,
                Tls = tls,
            };
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
}
