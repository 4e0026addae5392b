using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

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

/// <summary>The result: the original's <c>{"summary", "results"}</c> with fields added, none renamed.</summary>
public sealed record PortTestResult(PortTestSummary Summary, IReadOnlyDictionary<string, PortTestHostResult> Results);

/// <param name="Ok">Every host resolved and every port met its expectation (open ports' TLS accepted).</param>
/// <param name="PortsOpen">Host × port checks that connected.</param>
/// <param name="PortsFailed">Host × port checks listed in a <c>failed_ports</c>.</param>
public sealed record PortTestSummary(
    int Hosts,
    int PortsChecked,
    double DurationSec,
    IReadOnlyList<int> TlsPorts,
    bool VerifySsl,
    bool Ok,
    int PortsOpen,
    int PortsFailed,
    bool AllAddresses);

/// <summary>One host's ports.</summary>
/// <param name="Ports">By port as a string, as the original keyed them.</param>
/// <param name="FailedPorts">Closed ports, TLS ports whose certificate was not accepted, and ports in the wrong state.</param>
/// <param name="Addresses">What the name resolved to (once per task).</param>
/// <param name="Error">Why the host could not be checked at all (e.g. host not found), else null.</param>
/// <param name="ByAddress">With <c>all_addresses</c>: every address's own ports; <c>ports</c> then shows each port's worst address.</param>
public sealed record PortTestHostResult(
    IReadOnlyDictionary<string, PortCheckResult> Ports,
    IReadOnlyList<int> FailedPorts,
    IReadOnlyList<string> Addresses,
    string? Error,
    string? ErrorKind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, PortTestAddressResult>? ByAddress);

/// <summary>One address's ports, with <c>all_addresses</c>.</summary>
public sealed record PortTestAddressResult(IReadOnlyDictionary<string, PortCheckResult> Ports, IReadOnlyList<int> FailedPorts);

/// <summary>One host × port check.</summary>
/// <param name="Open">The TCP connect succeeded.</param>
/// <param name="Error">Why not open (or "expected closed, is open"); null for an open port, as in the original.</param>
/// <param name="Address">The address connected to (or last tried).</param>
/// <param name="Expected"><c>open</c>, <c>closed</c> or <c>any</c>.</param>
/// <param name="Ok">The port met its expectation (and, when open on a TLS port, its certificate was accepted).</param>
/// <param name="Tls">For an open port in <c>tls_ports</c> only; absent otherwise, as in the original.</param>
public sealed record PortCheckResult(
    bool Open,
    string? Error,
    string? ErrorKind,
    string? Address,
    double? ConnectMs,
    double? ConnectSeconds,
    double? TlsSeconds,
    string Expected,
    bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PortTlsResult? Tls)
{
    /// <summary>With <c>trace_failed</c>, for a port that timed out: path.trace's report of the path to it (where it was dropped).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PathTraceReport? Trace { get; init; }
}

/// <summary>
/// The <c>tls</c> object: the original's <c>loaded, cn, not_after, expires_utc, issuer, serial_number, error</c>,
/// then the added facts. Certificate fields are filled whenever the server sent a certificate, even when it
/// was refused, so the report shows which certificate is being served.
/// </summary>
/// <param name="Loaded">Handshake completed and certificate accepted (always accepted when verify_ssl is false).</param>
/// <param name="ServerName">The name sent as SNI and checked against the certificate (null for an IP target without sni).</param>
public sealed record PortTlsResult(
    bool Loaded,
    string? Cn,
    string? NotAfter,
    string? ExpiresUtc,
    string? Issuer,
    string? SerialNumber,
    string? Error,
    string? ErrorKind,
    string? Protocol,
    string? Cipher,
    string? Subject,
    IReadOnlyList<string>? Sans,
    string? NotBefore,
    int? DaysLeft,
    bool? NameMatch,
    bool? ChainValid,
    IReadOnlyList<string>? ChainErrors,
    string? FingerprintSha256,
    IReadOnlyList<TlsChainEntry>? Chain,
    string? EarliestNotAfter,
    bool? ChainOrderValid,
    bool? ChainComplete,
    string? ServerName)
{
    /// <summary>The report of a finished handshake probe.</summary>
    public static PortTlsResult From(TlsSession session, string? serverName)
    {
        var c = session.Certificate;
        return new PortTlsResult(
            session.Accepted, c?.Cn, c?.NotAfter, c?.ExpiresUtc, c?.Issuer, c?.SerialNumber, session.Error, session.ErrorKind,
            session.Protocol, session.Cipher, c?.Subject, c?.Sans, c?.NotBefore, c?.DaysLeft, c?.NameMatch, c?.ChainValid,
            c?.ChainErrors, c?.FingerprintSha256, c?.Chain, c?.EarliestNotAfter, c?.ChainOrderValid, c?.ChainComplete, serverName);
    }
}
