using System.Text.Json.Serialization;

namespace RemoteTest.Tasks;

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

/// <summary>The result: porttest's <c>{"summary", "results"}</c> shape.</summary>
public sealed record PathTraceResult(PathTraceSummary Summary, IReadOnlyDictionary<string, PathTraceHostResult> Results);

/// <param name="Ok">Every trace reached its target.</param>
/// <param name="ErrorKind"><c>not_permitted</c> when this worker lacks CAP_NET_RAW, else null.</param>
public sealed record PathTraceSummary(
    int Hosts, int Traces, int Reached, string Protocol, int MaxHops, int Count, double DurationSec, bool Ok, string? Error, string? ErrorKind);

/// <summary>One host's traces.</summary>
/// <param name="Ports">By port as a string (<c>"icmp"</c> for an ICMP trace).</param>
public sealed record PathTraceHostResult(
    IReadOnlyDictionary<string, PathTraceReport> Ports, IReadOnlyList<string> Addresses, string? Error, string? ErrorKind);

/// <summary>
/// One trace to one host and port: the hops in TTL order and how it ended. <c>end</c> is <c>reached</c>,
/// <c>filtered</c> (silence after <c>filtered_after</c>, the drop point) or <c>unreachable</c> (an ICMP
/// unreachable, named in <c>unreachable</c>); null when the trace could not run (<c>error</c>).
/// </summary>
public sealed record PathTraceReport(
    string? Address,
    string Protocol,
    int? Port,
    string? End,
    bool Reached,
    PathTraceHopRef? FilteredAfter,
    PathTraceUnreachable? Unreachable,
    IReadOnlyList<PathTraceHop> Hops,
    int Count,
    double DurationMs,
    string? Error,
    string? ErrorKind);

/// <summary>The last hop that answered before the silence.</summary>
public sealed record PathTraceHopRef(int Ttl, string Address, string? Name);

/// <summary>An ICMP destination unreachable: its code, the code's name (<c>admin-prohibited</c>, ...) and its sender.</summary>
public sealed record PathTraceUnreachable(int Code, string Name, string From, int Ttl);

/// <summary>
/// One TTL: who answered, the round trip of each probe (null: lost), and MTR's statistics in milliseconds.
/// <c>answer</c> is <c>time_exceeded</c>, <c>reached</c>, <c>unreachable</c> or null (silent hop).
/// </summary>
public sealed record PathTraceHop(
    int Ttl,
    string? Address,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? OtherAddresses,
    string? Name,
    string? Answer,
    IReadOnlyList<double?> RttMs,
    int Sent,
    int Received,
    double LossPct,
    double? RttMin,
    double? RttAvg,
    double? RttMax,
    double? RttStdev);
