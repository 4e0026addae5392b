using System.Text.Json.Serialization;

namespace RemoteTest.Tasks;

/// <summary>The result: porttest's <c>{"summary", "results"}</c> shape.</summary>
public sealed record PathTraceResult(PathTraceSummary Summary, IReadOnlyDictionary<string, PathTraceHostResult> Results);

public sealed record PathTraceSummary
{
    /// <summary>Hosts in the task.</summary>
    public required int Hosts { get; init; }

    /// <summary>Host × port traces in the task.</summary>
    public required int Traces { get; init; }

    /// <summary>Traces that reached their target.</summary>
    public required int Reached { get; init; }

    /// <summary><c>tcp</c>, <c>udp</c> or <c>icmp</c>.</summary>
    public required string Protocol { get; init; }

    /// <summary>The highest TTL probed.</summary>
    public required int MaxHops { get; init; }

    /// <summary>Rounds per hop (MTR mode above 1).</summary>
    public required int Count { get; init; }

    /// <summary>Wall time of the whole task, seconds.</summary>
    public required double DurationSec { get; init; }

    /// <summary>Every trace reached its target.</summary>
    public required bool Ok { get; init; }

    /// <summary>Why no trace could run (e.g. no CAP_NET_RAW), else null.</summary>
    public string? Error { get; init; }

    /// <summary><c>not_permitted</c> when this worker lacks CAP_NET_RAW, else null.</summary>
    public string? ErrorKind { get; init; }
}

/// <summary>One host's traces.</summary>
/// <param name="Ports">By port as a string (<c>"icmp"</c> for an ICMP trace).</param>
public sealed record PathTraceHostResult(
    IReadOnlyDictionary<string, PathTraceReport> Ports, IReadOnlyList<string> Addresses, string? Error, string? ErrorKind);

/// <summary>
/// One trace to one host and port: the hops in TTL order and how it ended. <c>end</c> is <c>reached</c>,
/// <c>filtered</c> (silence after <c>filtered_after</c>, the drop point) or <c>unreachable</c> (an ICMP
/// unreachable, named in <c>unreachable</c>); null when the trace could not run (<c>error</c>).
/// </summary>
public sealed record PathTraceReport
{
    /// <summary>The address traced to (null when the name did not resolve).</summary>
    public string? Address { get; init; }

    /// <summary><c>tcp</c>, <c>udp</c> or <c>icmp</c>.</summary>
    public required string Protocol { get; init; }

    /// <summary>The port traced to; null for ICMP.</summary>
    public int? Port { get; init; }

    /// <summary><c>reached</c>, <c>filtered</c> or <c>unreachable</c>; null when the trace could not run.</summary>
    public string? End { get; init; }

    /// <summary>The target itself answered.</summary>
    public required bool Reached { get; init; }

    /// <summary>With <c>filtered</c>: the last hop that answered — the drop point is there or just after.</summary>
    public PathTraceHopRef? FilteredAfter { get; init; }

    /// <summary>With <c>unreachable</c>: the ICMP unreachable, its name and sender.</summary>
    public PathTraceUnreachable? Unreachable { get; init; }

    /// <summary>Every TTL probed, in order.</summary>
    public required IReadOnlyList<PathTraceHop> Hops { get; init; }

    /// <summary>Rounds per hop.</summary>
    public required int Count { get; init; }

    /// <summary>Wall time of this trace, milliseconds.</summary>
    public double DurationMs { get; init; }

    /// <summary>Why it did not reach, in words, else null.</summary>
    public string? Error { get; init; }

    /// <summary>The same in the shared vocabulary (<c>timeout</c>, <c>unreachable</c>, <c>not_allowed</c>, <c>not_permitted</c>, ...).</summary>
    public string? ErrorKind { get; init; }
}

/// <summary>The last hop that answered before the silence.</summary>
public sealed record PathTraceHopRef(int Ttl, string Address, string? Name);

/// <summary>An ICMP destination unreachable: its code, the code's name (<c>admin-prohibited</c>, ...) and its sender.</summary>
public sealed record PathTraceUnreachable(int Code, string Name, string From, int Ttl);

/// <summary>
/// One TTL: who answered, the round trip of each probe (null: lost), and MTR's statistics in milliseconds.
/// <c>answer</c> is <c>time_exceeded</c>, <c>reached</c>, <c>unreachable</c> or null (silent hop).
/// </summary>
public sealed record PathTraceHop
{
    /// <summary>The TTL (hop number).</summary>
    public required int Ttl { get; init; }

    /// <summary>Who answered most often at this TTL; null for a silent hop.</summary>
    public string? Address { get; init; }

    /// <summary>Others that answered at this TTL (load-balanced paths).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? OtherAddresses { get; init; }

    /// <summary>The reverse name of <see cref="Address"/>, when looked up and found.</summary>
    public string? Name { get; init; }

    /// <summary><c>time_exceeded</c>, <c>reached</c>, <c>unreachable</c> or null (silent).</summary>
    public string? Answer { get; init; }

    /// <summary>The round trip of each probe, milliseconds; null for a lost one.</summary>
    public required IReadOnlyList<double?> RttMs { get; init; }

    /// <summary>Probes sent.</summary>
    public required int Sent { get; init; }

    /// <summary>Answers received.</summary>
    public required int Received { get; init; }

    /// <summary>Lost probes, percent.</summary>
    public required double LossPct { get; init; }

    /// <summary>Fastest round trip, ms.</summary>
    public double? RttMin { get; init; }

    /// <summary>Mean round trip, ms.</summary>
    public double? RttAvg { get; init; }

    /// <summary>Slowest round trip, ms.</summary>
    public double? RttMax { get; init; }

    /// <summary>Standard deviation of the round trips, ms.</summary>
    public double? RttStdev { get; init; }
}
