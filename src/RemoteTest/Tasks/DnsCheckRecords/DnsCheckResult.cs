using System.Text.Json.Serialization;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>The result: the original's <c>{"summary", "results"}</c> with fields added, none renamed.</summary>
public sealed record DnsCheckResult(DnsCheckSummary Summary, IReadOnlyDictionary<string, DnsDomainResult> Results);

/// <param name="State">The state every domain agrees on, else null.</param>
/// <param name="Ok">Every domain is ok by <see cref="DnsVerdict"/>: every resolver answered, all agree, on a named state.</param>
public sealed record DnsCheckSummary(int Domains, double DurationSec, string? State, bool Ok, IReadOnlyList<string> Nameservers)
{
    /// <summary>The named resolver set asked (<c>nameservers: "public"</c>), else absent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ResolverSet { get; init; }

    /// <summary>True when every domain's authoritative servers were asked too.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Authoritative { get; init; }
}

/// <summary>One domain's live records and the state they match.</summary>
public sealed record DnsDomainResult
{
    /// <summary>The record type asked (A, SRV, ... or SIP).</summary>
    public required string RecordType { get; init; }

    /// <summary>The live values, sorted, each as one line (addresses, or dig +short-like record text).</summary>
    public required IReadOnlyList<string> Retrieved { get; init; }

    /// <summary>The named state the live values match, <c>unknown</c>, or <c>inconsistent</c> when resolvers disagree.</summary>
    public required string State { get; init; }

    /// <summary>Why the query failed (the original's wording), else null.</summary>
    public string? Error { get; init; }

    /// <summary>The original's human line (<c>include_text</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Text { get; init; }

    /// <summary>The DNS response code of the answer used (NOERROR, NXDOMAIN, ...); null when nothing answered.</summary>
    public string? Rcode { get; init; }

    /// <summary>The error in the shared vocabulary (<c>nxdomain</c>, <c>servfail</c>, <c>timeout</c>, ...).</summary>
    public string? ErrorKind { get; init; }

    /// <summary>Every record of the answer with its type, TTL and value.</summary>
    public required IReadOnlyList<DnsAnswer> Answers { get; init; }

    /// <summary>The CNAMEs followed to the values, in order.</summary>
    public required IReadOnlyList<string> CnameChain { get; init; }

    /// <summary>The smallest TTL of the answer, seconds.</summary>
    public int? Ttl { get; init; }

    /// <summary>Time for the query, seconds.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>When no state matched: the state sharing the most values.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClosestState { get; init; }

    /// <summary>The live values are two states at once (a migration half-way).</summary>
    public required bool Mixed { get; init; }

    /// <summary>Those two states.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? MixedStates { get; init; }

    /// <summary>With several resolvers: each one's answer, keyed <c>ip:port</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, DnsServerAnswer>? ByNameserver { get; init; }

    /// <summary>With several resolvers: all gave the same answer.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Consistent { get; init; }

    /// <summary>Every resolver answered, all agree, on a named state (<see cref="DnsVerdict"/>).</summary>
    public required bool Ok { get; init; }

    /// <summary>With <c>record_type: "SIP"</c>: the RFC 3263 tree (NAPTR → SRV → addresses) and its targets.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SipResolutionResult? Sip { get; init; }

    /// <summary>With <c>authoritative: true</c>: the zone, its NS set and every authoritative server's answer.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DnsAuthoritativeResult? Authoritative { get; init; }
}

/// <summary>
/// "Has my change reached every authoritative server?": the zone found through the resolver, its NS names, and
/// per server address (<c>ip:port</c>) its answer, rcode and the zone's SOA serial. Consistent only when every
/// server answered, with the same rcode, the same records and the same serial.
/// </summary>
public sealed record DnsAuthoritativeResult
{
    /// <summary>The zone found through the resolver (the closest SOA).</summary>
    public string? Zone { get; init; }

    /// <summary>The zone's NS names.</summary>
    public required IReadOnlyList<string> Nameservers { get; init; }

    /// <summary>Each authoritative server address's answer, keyed <c>ip:port</c>.</summary>
    public required IReadOnlyDictionary<string, DnsAuthoritativeAnswer> Servers { get; init; }

    /// <summary>The distinct SOA serials seen, ascending.</summary>
    public required IReadOnlyList<long> Serials { get; init; }

    /// <summary>Every server answered with the same rcode, records and serial.</summary>
    public required bool Consistent { get; init; }

    /// <summary>Why the zone or its servers could not be found, else null.</summary>
    public string? Error { get; init; }

    /// <summary>The same in the shared vocabulary.</summary>
    public string? ErrorKind { get; init; }
}

/// <summary>One authoritative server's answer, asked directly with recursion off.</summary>
public sealed record DnsAuthoritativeAnswer
{
    /// <summary>The NS name.</summary>
    public required string Name { get; init; }

    /// <summary>The address asked.</summary>
    public required string Address { get; init; }

    /// <summary>Its values, sorted.</summary>
    public required IReadOnlyList<string> Retrieved { get; init; }

    /// <summary>The named state they match, or <c>unknown</c>.</summary>
    public required string State { get; init; }

    /// <summary>Its response code; null when it did not answer.</summary>
    public string? Rcode { get; init; }

    /// <summary>The zone's SOA serial it serves.</summary>
    public long? SoaSerial { get; init; }

    /// <summary>Why it gave no usable answer, else null.</summary>
    public string? Error { get; init; }

    /// <summary>The same in the shared vocabulary.</summary>
    public string? ErrorKind { get; init; }

    /// <summary>Time for the query, seconds.</summary>
    public required double DurationSeconds { get; init; }
}

/// <summary>One resolver's answer when several were asked.</summary>
public sealed record DnsServerAnswer
{
    /// <summary>Its values, sorted.</summary>
    public required IReadOnlyList<string> Retrieved { get; init; }

    /// <summary>The named state they match, or <c>unknown</c>.</summary>
    public required string State { get; init; }

    /// <summary>Its response code; null when it did not answer.</summary>
    public string? Rcode { get; init; }

    /// <summary>Why it gave no usable answer, else null.</summary>
    public string? Error { get; init; }

    /// <summary>The same in the shared vocabulary.</summary>
    public string? ErrorKind { get; init; }

    /// <summary>The smallest TTL of its answer, seconds.</summary>
    public int? Ttl { get; init; }

    /// <summary>Time for the query, seconds.</summary>
    public required double DurationSeconds { get; init; }
}
