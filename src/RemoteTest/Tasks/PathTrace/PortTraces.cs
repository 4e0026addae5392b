using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>porttest.run's <c>trace_failed</c>: a path.trace to every port that timed out, attached to that port's result.</summary>
internal static class PortTraces
{
    public static async Task<PortTestHostResult[]> AttachAsync(PathTrace tracer, PathTraceOptions limits, PortTestArgs args,
        PortTestHostResult[] hosts, CancellationToken cancellationToken)
    {
        // The ports to trace, bounded by path.trace's own limits (the first ones in the caller's order).
        var maxHops = Math.Min(PathTrace.DefaultMaxHops, limits.MaxHops);
        var budget = Math.Min(limits.MaxTracesPerTask, limits.MaxProbesPerTask / maxHops);
        var wanted = new List<PathTraceHost>();
        foreach (var (host, result) in args.Hosts.Zip(hosts))
        {
            var ports = result.Ports.Where(p => p.Value.ErrorKind == ErrorKind.Timeout).Select(p => int.Parse(p.Key)).Take(budget).ToList();
            budget -= ports.Count;
            if (ports.Count > 0 && result.ByAddress is null)
            {
                // The address the check used, so the trace follows the same path.
                var address = result.Ports[ports[0].ToString()].Address ?? host.Host;
                wanted.Add(new PathTraceHost(host.Key, address, ports));
            }
        }
        if (wanted.Count == 0)
        {
            return hosts;
        }
        // No reverse names: the porttest result names its hops by address, and the task stays about one timeout longer, not more.
        var traceArgs = new PathTraceArgs(wanted, "tcp", maxHops, 1, Math.Min(args.Timeout, PathTrace.DefaultTimeout), ResolveNames: false);
        var traced = (PathTraceResult)await tracer.RunAsync(traceArgs, new TaskContext(Guid.Empty), cancellationToken);

        var output = new PortTestHostResult[hosts.Length];
        for (var i = 0; i < hosts.Length; i++)
        {
            var key = args.Hosts[i].Key;
            if (!traced.Results.TryGetValue(key, out var traces))
            {
                output[i] = hosts[i];
                continue;
            }
            var ports = hosts[i].Ports.ToDictionary(p => p.Key, p => traces.Ports.TryGetValue(p.Key, out var t) ? p.Value with { Trace = t } : p.Value, StringComparer.Ordinal);
            output[i] = hosts[i] with { Ports = ports };
        }
        return output;
    }
}
