using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using Microsoft.Extensions.Options;
using RemoteTest.Probes;
using RemoteTest.Security;

namespace RemoteTest.Tasks;

/// <summary>
/// <c>path.trace</c>: where on the way to a host's port the packets stop. Per host and port a traceroute (TCP SYN to
/// the port, UDP to the port, or ICMP echo) with per-hop round trips, MTR statistics over <c>count</c> rounds, and
/// the end: reached, filtered after the last answering hop, or rejected with an ICMP unreachable. Every trace of a
/// task runs at once under one deadline; destinations pass the target guard, hops are only listened to.
/// </summary>
public sealed partial class PathTrace(
    IOptions<Tasks.DnsCheckOptions> dnsOptions, IOptions<LimitsOptions> limitsOptions, IOptions<Tasks.PathTraceOptions> pathTraceOptions,
    IHostResolver resolver,
    TraceSockets sockets,
    TimeProvider time,
    TargetGuard? guard = null) : RemoteTask<PathTraceArgs>
{
    public override string Name => "path.trace";

    public override string Description =>
        "Traces the path to each host's ports (TCP SYN, UDP or ICMP traceroute; MTR statistics with count > 1) and tells where it ends: reached, filtered after a hop, or rejected.";

    public override async Task<object> RunAsync(PathTraceArgs args, TaskContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = pathTraceOptions.Value;
        var traceSettings = new TraceSettings(args.MaxHops, args.Count, TimeSpan.FromSeconds(args.Timeout), settings.ProbeSpacing, settings.RoundInterval);
        // One deadline for the task: every trace runs at once, so the task takes about one trace.
        var budget = args.Count * (args.MaxHops * settings.ProbeSpacing + traceSettings.ProbeTimeout)
                     + (args.Count - 1) * settings.RoundInterval + traceSettings.ProbeTimeout + TimeSpan.FromSeconds(1);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        context.Plan(args.Traces);
        var names = new ReverseNames(args.ResolveNames, dnsOptions.Value.DefaultNameservers, settings.NameTimeout);

        var hostTasks = args.Hosts.Select(async host =>
        {
            var resolution = await HostResolution.ResolveAsync(resolver, host.Host, traceSettings.ProbeTimeout, time, deadline.Token);
            var addresses = resolution.Addresses.Select(a => a.ToString()).ToList();
            if (!resolution.Resolved)
            {
                var failed = host.Ports.ToDictionary(PortKey, p => Failed(null, args, p, resolution.Error, resolution.ErrorKind));
                foreach (var _ in host.Ports)
                {
                    context.Complete();
                }
                return new PathTraceHostResult(failed, addresses, resolution.Error, resolution.ErrorKind);
            }
            // IPv4 first when a name has both; TCP and UDP trace IPv6 with raw IPv6 sockets, ICMP through the Ping fallback.
            var target = resolution.Addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                         ?? resolution.Addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6);
            var reports = await Task.WhenAll(host.Ports.Select(async port =>
            {
                var report = target is null
                    ? Failed(null, args, port, "no IPv4 or IPv6 address to trace", ErrorKind.NotCheckable)
                    : await TraceAsync(args, traceSettings, target, port, names, deadline.Token, cancellationToken);
                context.Complete();
                return report;
            }));
            return new PathTraceHostResult(host.Ports.Zip(reports).ToDictionary(x => PortKey(x.First), x => x.Second), addresses, null, null);
        }).ToList();
        var hosts = await Task.WhenAll(hostTasks);

        var results = new Dictionary<string, PathTraceHostResult>(StringComparer.Ordinal);
        foreach (var (host, result) in args.Hosts.Zip(hosts))
        {
            results[host.Key] = result;
        }
        var all = hosts.SelectMany(h => h.Ports.Values).ToList();
        var notPermitted = all.FirstOrDefault(r => r.ErrorKind == ErrorKind.NotPermitted);
        var summary = new PathTraceSummary
        {
            Hosts = args.Hosts.Count,
            Traces = all.Count,
            Reached = all.Count(r => r.Reached),
            Protocol = args.Protocol,
            MaxHops = args.MaxHops,
            Count = args.Count,
            DurationSec = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 2),
            Ok = all.All(r => r.Reached),
            Error = notPermitted?.Error,
            ErrorKind = notPermitted?.ErrorKind,
        };
        return new PathTraceResult(summary, results);
    }

    private async Task<PathTraceReport> TraceAsync(PathTraceArgs args, TraceSettings settings, IPAddress target, int port, ReverseNames names,
        CancellationToken deadline, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        if (guard?.Check(target) is { } refusal)
        {
            return Failed(target, args, port, refusal, ErrorKind.NotAllowed);
        }
        ITraceProbe probe;
        try
        {
            probe = args.Protocol switch
            {
                "tcp" => new TcpSynTrace(sockets, new IPEndPoint(target, port)),
                "udp" => new UdpTrace(sockets, new IPEndPoint(target, port)),
                _ when target.AddressFamily == AddressFamily.InterNetwork && sockets.RawAllowed() => new IcmpEchoTrace(sockets, target),
                _ => new IcmpPingTrace(target, settings.ProbeTimeout),
            };
        }
        catch (SocketException ex) when (TraceSockets.IsNotPermitted(ex))
        {
            return Failed(target, args, port,
                "raw sockets not permitted: this worker lacks CAP_NET_RAW (grant it, e.g. AmbientCapabilities=CAP_NET_RAW in the systemd unit)",
                ErrorKind.NotPermitted);
        }
        catch (SocketException ex)
        {
            var (error, kind) = TcpConnector.Describe(ex.SocketErrorCode, ex.Message, new IPEndPoint(target, port));
            return Failed(target, args, port, error, kind);
        }

        TraceRun run;
        using (probe)
        {
            // Politeness: a trace holds one of the target's connection slots for its whole run.
            using var lease = guard is null ? null : await guard.AcquireAsync(target, cancellationToken);
            run = await HopTracer.RunAsync(probe, settings, time, deadline);
        }
        cancellationToken.ThrowIfCancellationRequested(); // revoked: no result
        // Names are bounded by the task's deadline too (each lookup also by NameTimeout): a slow PTR leaves name null.
        var report = await BuildAsync(args, target, port, run.Probes, names, deadline);
        if (!report.Reached && run.SendError is { } sendError)
        {
            report = report with { Error = $"{report.Error}; {sendError}", ErrorKind = report.ErrorKind ?? ErrorKind.Unreachable };
        }
        return report with { DurationMs = Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 1) };
    }

    private static async Task<PathTraceReport> BuildAsync(PathTraceArgs args, IPAddress target, int port, IReadOnlyList<HopProbe> probes,
        ReverseNames names, CancellationToken cancellationToken)
    {
        var answered = probes.Where(p => p.Kind is not null).ToList();
        var endTtl = answered.Where(p => p.Kind != TraceAnswerKind.TimeExceeded).Select(p => p.Ttl).DefaultIfEmpty(int.MaxValue).Min();
        var lastAnswered = answered.Select(p => p.Ttl).DefaultIfEmpty(0).Max();
        // Silent hops after the last answer are one silent hop: the drop point is the hop before it.
        var shown = endTtl != int.MaxValue ? endTtl : Math.Min(lastAnswered + 1, args.MaxHops);
        // Every hop's lookup starts now, side by side (they are cached per address): n slow PTRs cost one NameTimeout, not n.
        foreach (var address in answered.Where(p => p.Ttl <= shown && p.From is not null).Select(p => p.From!.ToString()).Distinct())
        {
            _ = names.NameOfAsync(address, cancellationToken);
        }
        var hops = new List<PathTraceHop>();
        for (var ttl = 1; ttl <= shown; ttl++)
        {
            var mine = probes.Where(p => p.Ttl == ttl).OrderBy(p => p.Round).ToList();
            var from = mine.Where(p => p.From is not null).GroupBy(p => p.From!.ToString()).OrderByDescending(g => g.Count()).Select(g => g.Key).ToList();
            var rtts = mine.Where(p => p.RttMs is not null).Select(p => p.RttMs!.Value).ToList();
            var kind = mine.Where(p => p.Kind is not null).Select(p => p.Kind).FirstOrDefault(k => k != TraceAnswerKind.TimeExceeded)
                       ?? mine.Select(p => p.Kind).FirstOrDefault(k => k is not null);
            double? avg = rtts.Count > 0 ? rtts.Average() : null;
            hops.Add(new PathTraceHop
            {
                Ttl = ttl,
                Address = from.FirstOrDefault(),
                OtherAddresses = from.Count > 1 ? from.Skip(1).ToList() : null,
                Name = from.Count > 0 ? await names.NameOfAsync(from[0], cancellationToken) : null,
                Answer = kind switch
                {
                    TraceAnswerKind.TimeExceeded => "time_exceeded",
                    TraceAnswerKind.Reached => "reached",
                    TraceAnswerKind.Unreachable => "unreachable",
                    _ => null,
                },
                RttMs = mine.Select(p => p.RttMs).ToList(),
                Sent = mine.Count,
                Received = rtts.Count,
                LossPct = mine.Count == 0 ? 100 : Math.Round(100.0 * (mine.Count - rtts.Count) / mine.Count, 1),
                RttMin = rtts.Count > 0 ? rtts.Min() : null,
                RttAvg = avg is { } a ? Math.Round(a, 3) : null,
                RttMax = rtts.Count > 0 ? rtts.Max() : null,
                RttStdev = avg is { } m ? Math.Round(Math.Sqrt(rtts.Sum(r => (r - m) * (r - m)) / rtts.Count), 3) : null,
            });
        }

        var endProbe = answered.FirstOrDefault(p => p.Ttl == endTtl && p.Kind == TraceAnswerKind.Reached)
                       ?? answered.FirstOrDefault(p => p.Ttl == endTtl);
        string end;
        PathTraceHopRef? filteredAfter = null;
        PathTraceUnreachable? unreachable = null;
        string? error = null;
        string? errorKind = null;
        if (endProbe?.Kind == TraceAnswerKind.Reached)
        {
            end = "reached";
        }
        else if (endProbe is not null)
        {
            end = "unreachable";
            var name = IcmpPacket.UnreachableName(endProbe.IcmpCode);
            unreachable = new PathTraceUnreachable(endProbe.IcmpCode, name, endProbe.From!.ToString(), endProbe.Ttl);
            error = $"ICMP unreachable ({name}) from {endProbe.From} at hop {endProbe.Ttl}";
            errorKind = ErrorKind.Unreachable;
        }
        else
        {
            end = "filtered";
            var last = hops.LastOrDefault(h => h.Address is not null);
            filteredAfter = last is null ? null : new PathTraceHopRef(last.Ttl, last.Address!, last.Name);
            error = last is null
                ? $"no answer from any hop within {args.MaxHops} hops"
                : $"no answer after hop {last.Ttl} ({last.Address}): dropped there or just after";
            errorKind = ErrorKind.Timeout;
        }
        return new PathTraceReport
        {
            Address = target.ToString(),
            Protocol = args.Protocol,
            Port = port == 0 ? null : port,
            End = end,
            Reached = end == "reached",
            FilteredAfter = filteredAfter,
            Unreachable = unreachable,
            Hops = hops,
            Count = args.Count,
            Error = error,
            ErrorKind = errorKind,
        };
    }

    private static PathTraceReport Failed(IPAddress? target, PathTraceArgs args, int port, string? error, string? kind) =>
        new()
        {
            Address = target?.ToString(), Protocol = args.Protocol, Port = port == 0 ? null : port, Reached = false, Hops = [],
            Count = args.Count, Error = error, ErrorKind = kind,
        };

    private static string PortKey(int port) => port == 0 ? "icmp" : port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reverse names of hops, each address once per task, asked of the resolvers the DNS checks use, within a short timeout.</summary>
    private sealed class ReverseNames
    {
        private readonly bool _enabled;
        private readonly LookupClient? _client;
        private readonly TimeSpan _timeout;
        private readonly Dictionary<string, Task<string?>> _known = [];

        public ReverseNames(bool enabled, IReadOnlyList<string> nameservers, TimeSpan timeout)
        {
            _enabled = enabled;
            _timeout = timeout;
            if (enabled)
            {
                var servers = nameservers.Select(ns => DnsQuery.ParseNameServer(ns)!).ToArray();
                var lookup = servers.Length > 0 ? new LookupClientOptions(servers) : new LookupClientOptions();
                lookup.Timeout = timeout;
                lookup.Retries = 0;
                lookup.ThrowDnsErrors = false;
                _client = new LookupClient(lookup);
            }
        }

        public Task<string?> NameOfAsync(string address, CancellationToken cancellationToken)
        {
            if (!_enabled || _client is null)
            {
                return Task.FromResult<string?>(null);
            }
            lock (_known)
            {
                if (!_known.TryGetValue(address, out var task))
                {
                    task = LookupAsync(address, cancellationToken);
                    _known[address] = task;
                }
                return task;
            }
        }

        private async Task<string?> LookupAsync(string address, CancellationToken cancellationToken)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_timeout);
            try
            {
                var response = await _client!.QueryReverseAsync(IPAddress.Parse(address), deadline.Token);
                return response.Answers.PtrRecords().FirstOrDefault()?.PtrDomainName.Value.TrimEnd('.');
            }
            catch (Exception)
            {
                // No name is an answer, not a failure of the trace; also when the task's deadline cut the lookup short.
                return null;
            }
        }
    }
}
