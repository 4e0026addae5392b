using System.Text.Json.Serialization;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>The result: the original's <c>{"summary", "results"}</c> with fields added, none renamed.</summary>
public sealed record PortTestResult(PortTestSummary Summary, IReadOnlyDictionary<string, PortTestHostResult> Results);

public sealed record PortTestSummary
{
    /// <summary>Hosts in the task.</summary>
    public required int Hosts { get; init; }

    /// <summary>Host × port checks in the task.</summary>
    public required int PortsChecked { get; init; }

    /// <summary>Wall time of the whole task, seconds (the original's field).</summary>
    public required double DurationSec { get; init; }

    /// <summary>The ports that got a TLS handshake after the connect.</summary>
    public required IReadOnlyList<int> TlsPorts { get; init; }

    /// <summary>Whether certificates were enforced (they are reported either way).</summary>
    public required bool VerifySsl { get; init; }

    /// <summary>Every host resolved and every port met its expectation (open ports' TLS accepted).</summary>
    public required bool Ok { get; init; }

    /// <summary>Host × port checks that connected.</summary>
    public required int PortsOpen { get; init; }

    /// <summary>Host × port checks listed in a <c>failed_ports</c>.</summary>
    public required int PortsFailed { get; init; }

    /// <summary>Every address behind a name was checked (<c>all_addresses</c>).</summary>
    public required bool AllAddresses { get; init; }
}

/// <summary>One host's ports.</summary>
public sealed record PortTestHostResult
{
    /// <summary>By port as a string, as the original keyed them.</summary>
    public required IReadOnlyDictionary<string, PortCheckResult> Ports { get; init; }

    /// <summary>Closed ports, TLS ports whose certificate was not accepted, and ports in the wrong state.</summary>
    public required IReadOnlyList<int> FailedPorts { get; init; }

    /// <summary>What the name resolved to (once per task).</summary>
    public required IReadOnlyList<string> Addresses { get; init; }

    /// <summary>Why the host could not be checked at all (e.g. host not found), else null.</summary>
    public string? Error { get; init; }

    /// <summary>The same in the shared vocabulary (<c>nxdomain</c>, <c>not_allowed</c>, ...).</summary>
    public string? ErrorKind { get; init; }

    /// <summary>With <c>all_addresses</c>: every address's own ports; <c>ports</c> then shows each port's worst address.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, PortTestAddressResult>? ByAddress { get; init; }
}

/// <summary>One address's ports, with <c>all_addresses</c>.</summary>
public sealed record PortTestAddressResult(IReadOnlyDictionary<string, PortCheckResult> Ports, IReadOnlyList<int> FailedPorts);

/// <summary>One host × port check.</summary>
public sealed record PortCheckResult
{
    /// <summary>The TCP connect succeeded.</summary>
    public required bool Open { get; init; }

    /// <summary>Why not open (or "expected closed, is open"); null for an open port, as in the original.</summary>
    public string? Error { get; init; }

    /// <summary>The error in the shared vocabulary (<c>refused</c>, <c>timeout</c>, <c>unreachable</c>, <c>unexpected_open</c>, ...), null when open.</summary>
    public string? ErrorKind { get; init; }

    /// <summary>The address connected to (or last tried).</summary>
    public string? Address { get; init; }

    /// <summary>Time to connect (or to give up), in milliseconds, as the original reported it.</summary>
    public double? ConnectMs { get; init; }

    /// <summary>The same in seconds.</summary>
    public double? ConnectSeconds { get; init; }

    /// <summary>How long the TLS handshake took, for a TLS port that connected.</summary>
    public double? TlsSeconds { get; init; }

    /// <summary><c>open</c>, <c>closed</c> or <c>any</c>.</summary>
    public required string Expected { get; init; }

    /// <summary>The port met its expectation (and, when open on a TLS port, its certificate was accepted).</summary>
    public required bool Ok { get; init; }

    /// <summary>For an open port in <c>tls_ports</c> only; absent otherwise, as in the original.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PortTlsResult? Tls { get; init; }

    /// <summary>With <c>trace_failed</c>, for a port that timed out: path.trace's report of the path to it (where it was dropped).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PathTraceReport? Trace { get; init; }
}

/// <summary>
/// The <c>tls</c> object: the original's <c>loaded, cn, not_after, expires_utc, issuer, serial_number, error</c>,
/// then the added facts. Certificate fields are filled whenever the server sent a certificate, even when it
/// was refused, so the report shows which certificate is being served.
/// </summary>
public sealed record PortTlsResult
{
    /// <summary>Handshake completed and certificate accepted (always accepted when verify_ssl is false).</summary>
    public required bool Loaded { get; init; }

    /// <summary>The leaf certificate's subject common name.</summary>
    public string? Cn { get; init; }

    /// <summary>The leaf's expiry in the original's format.</summary>
    public string? NotAfter { get; init; }

    /// <summary>The leaf's expiry, ISO 8601 UTC.</summary>
    public string? ExpiresUtc { get; init; }

    /// <summary>The leaf's issuer distinguished name.</summary>
    public string? Issuer { get; init; }

    /// <summary>The leaf's serial number (hex).</summary>
    public string? SerialNumber { get; init; }

    /// <summary>Why the handshake failed or the certificate was refused (a sentence), else null.</summary>
    public string? Error { get; init; }

    /// <summary>The same in the shared vocabulary: <c>tls_handshake</c> (including a server answering in plain text), <c>tls_verify</c>, <c>timeout</c></summary>
    public string? ErrorKind { get; init; }

    /// <summary>The negotiated protocol (e.g. Tls13).</summary>
    public string? Protocol { get; init; }

    /// <summary>The negotiated cipher suite.</summary>
    public string? Cipher { get; init; }

    /// <summary>The leaf's full subject distinguished name.</summary>
    public string? Subject { get; init; }

    /// <summary>The leaf's subject alternative names (DNS and IP).</summary>
    public IReadOnlyList<string>? Sans { get; init; }

    /// <summary>The leaf's start of validity.</summary>
    public string? NotBefore { get; init; }

    /// <summary>Whole days until the leaf expires (negative once expired).</summary>
    public int? DaysLeft { get; init; }

    /// <summary>The leaf covers <see cref="ServerName"/> (null when no name was checked).</summary>
    public bool? NameMatch { get; init; }

    /// <summary>The chain builds to a trusted root with every certificate in date.</summary>
    public bool? ChainValid { get; init; }

    /// <summary>Why the chain (or the name) was refused, one sentence each.</summary>
    public IReadOnlyList<string>? ChainErrors { get; init; }

    /// <summary>SHA-256 of the leaf, colon-separated hex.</summary>
    public string? FingerprintSha256 { get; init; }

    /// <summary>Every certificate the server sent, in its order.</summary>
    public IReadOnlyList<TlsChainEntry>? Chain { get; init; }

    /// <summary>The earliest expiry over the whole chain sent (an intermediate can expire first).</summary>
    public string? EarliestNotAfter { get; init; }

    /// <summary>Each certificate sent is issued by the next one.</summary>
    public bool? ChainOrderValid { get; init; }

    /// <summary>The server sent every intermediate up to (not necessarily including) the root.</summary>
    public bool? ChainComplete { get; init; }

    /// <summary>The name sent as SNI and checked against the certificate (null for an IP target without sni).</summary>
    public string? ServerName { get; init; }

    /// <summary>The report of a finished handshake probe.</summary>
    public static PortTlsResult From(TlsSession session, string? serverName)
    {
        var c = session.Certificate;
        return new PortTlsResult
        {
            Loaded = session.Accepted,
            Cn = c?.Cn,
            NotAfter = c?.NotAfter,
            ExpiresUtc = c?.ExpiresUtc,
            Issuer = c?.Issuer,
            SerialNumber = c?.SerialNumber,
            Error = session.Error,
            ErrorKind = session.ErrorKind,
            Protocol = session.Protocol,
            Cipher = session.Cipher,
            Subject = c?.Subject,
            Sans = c?.Sans,
            NotBefore = c?.NotBefore,
            DaysLeft = c?.DaysLeft,
            NameMatch = c?.NameMatch,
            ChainValid = c?.ChainValid,
            ChainErrors = c?.ChainErrors,
            FingerprintSha256 = c?.FingerprintSha256,
            Chain = c?.Chain,
            EarliestNotAfter = c?.EarliestNotAfter,
            ChainOrderValid = c?.ChainOrderValid,
            ChainComplete = c?.ChainComplete,
            ServerName = serverName,
        };
    }
}
