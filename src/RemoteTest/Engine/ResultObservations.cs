using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RemoteTest.Engine;

/// <summary>
/// The earliest expiry of the certificates a TLS endpoint sent (leaf and intermediates, as blackbox_exporter's
/// probe_ssl_earliest_cert_expiry), seen by a port test or an application test (OCI-P over TLS, SIP over TLS, HTTPS).
/// </summary>
/// <param name="Subject">The certificate that expires first, when it is not the leaf (an intermediate); else null.</param>
public sealed record CertificateObservation(string Host, string Port, DateTimeOffset NotAfter, double DaysLeft, string? Subject = null)
{
    public string Endpoint => $"{Host}:{Port}";
}

/// <summary>One probe's outcome: <c>ok</c> or its error_kind (<c>error</c> when it gave none).</summary>
public sealed record ProbeObservation(string Probe, string Outcome, double? Seconds);

/// <summary>
/// What operations care about in a task result, read from the result shapes every task shares (DESIGN.md)
/// rather than from the tasks' types, so that schedules, alerts and metrics know no task code:
/// <list type="bullet">
/// <item>dns: <c>results[domain].state</c>, judged by <see cref="Tasks.DnsVerdict"/></item>
/// <item>porttest: <c>results[host].failed_ports</c>, <c>results[host].ports[port].open/error_kind/connect_ms</c>,
/// and <c>.tls.expires_utc / not_after / days_left / error</c></item>
/// <item>apptest: <c>results[host][app].ok</c>, and every <c>tls.certificate</c> inside its <c>details</c></item>
/// </list>
/// </summary>
public sealed record ResultObservations(
    IReadOnlyDictionary<string, string> Outcome,
    IReadOnlyList<CertificateObservation> Certificates,
    IReadOnlyList<ProbeObservation> Probes)
{
    public static readonly ResultObservations Empty = new(new Dictionary<string, string>(), [], []);

    /// <summary>Reads a result; anything it does not recognise is skipped, never an error.</summary>
    public static ResultObservations From(string? resultJson, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(resultJson))
        {
            return Empty;
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(resultJson);
        }
        catch (JsonException)
        {
            return Empty;
        }
        if (root is not JsonObject top || top["results"] is not JsonObject results)
        {
            return Empty;
        }

        var outcome = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var certificates = new List<CertificateObservation>();
        var probes = new List<ProbeObservation>();
        foreach (var (host, value) in results)
        {
            if (value is not JsonObject entry)
            {
                continue;
            }
            if (Text(entry["state"]) is { } state)
            {
                // dns.check_records: the migration state this domain is in, by the one DNS rule (a resolver that
                // disagrees makes it "inconsistent", one that went silent is named beside the state).
                outcome[host] = Tasks.DnsVerdict.Outcome(entry);
                if (entry["by_nameserver"] is JsonObject servers)
                {
                    foreach (var (_, answer) in servers)
                    {
                        probes.Add(new ProbeObservation("dns", Text(answer?["error"]) is null ? "ok" : Text(answer?["error_kind"]) ?? "error", null));
                    }
                }
                else
                {
                    probes.Add(new ProbeObservation("dns", Text(entry["error"]) is null ? "ok" : Text(entry["error_kind"]) ?? "error", null));
                }
            }
            else if (entry["ports"] is JsonObject ports)
            {
                // porttest.run: the set of failed ports, and every certificate seen.
                outcome[$"{host} failed ports"] = FailedPorts(entry, ports);
                foreach (var (port, p) in ports)
                {
                    ReadPort(host, port, p as JsonObject, now, certificates, probes);
                }
            }
            else
            {
                // apptest.run: one object per application with its ok flag.
                foreach (var (app, a) in entry)
                {
                    if (a is JsonObject check && check["ok"] is JsonValue ok && ok.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                    {
                        var passed = ok.GetValue<bool>();
                        outcome[$"{host} {app}"] = passed ? "ok" : "failed";
                        probes.Add(new ProbeObservation("app", passed ? "ok" : Text(check["error_kind"]) ?? "error", null));
                        // The certificates its TLS checks saw (OCI-P on 2209, SIP over TLS, HTTPS): the same metric and alerts.
                        AppCertificates(host, check["details"], now, certificates);
                    }
                }
            }
        }
        // One observation per endpoint (several applications share a port): the earliest expiry wins.
        var earliest = certificates.GroupBy(c => c.Endpoint, StringComparer.Ordinal).Select(g => g.MinBy(c => c.NotAfter)!).ToList();
        return new ResultObservations(outcome, earliest, probes);
    }

    /// <summary>Every <c>{"tls": {"certificate": {...}}}</c> in an application's details, keyed by its port (or its URL's).</summary>
    private static void AppCertificates(string host, JsonNode? node, DateTimeOffset now, List<CertificateObservation> certificates, int depth = 0)
    {
        // Details are a few levels deep (check, scheme/variant, probe); the bound keeps a strange result cheap.
        if (node is not JsonObject o || depth > 6)
        {
            return;
        }
        var report = o["tls"] is JsonObject tls && tls["certificate"] is JsonObject cert ? cert : null;
        if (report is not null && Port(o) is { } port && Earliest(report, now) is { } seen)
        {
            certificates.Add(new CertificateObservation(host, port, seen.NotAfter, seen.DaysLeft, seen.Subject));
        }
        foreach (var (name, child) in o)
        {
            // "tls" is also a SIP transport's name in details: only a TLS report (with its certificate) is a leaf.
            if (!(name == "tls" && report is not null))
            {
                AppCertificates(host, child, now, certificates, depth + 1);
            }
        }
    }

    private static string? Port(JsonObject probe)
    {
        if (probe["port"] is JsonValue p && p.GetValueKind() == JsonValueKind.Number)
        {
            return p.ToJsonString();
        }
        return Text(probe["url"]) is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Port.ToString(CultureInfo.InvariantCulture) : null;
    }

    /// <summary>
    /// The earliest end of validity over the chain the server sent (<c>chain[].not_after</c>, <c>earliest_not_after</c>),
    /// else the leaf's; days left from it, and which certificate it is when not the leaf.
    /// </summary>
    private static (DateTimeOffset NotAfter, double DaysLeft, string? Subject)? Earliest(JsonObject tls, DateTimeOffset now)
    {
        if (NotAfter(tls) is not { } leaf)
        {
            return null;
        }
        var (end, subject) = (leaf, (string?)null);
        if (tls["chain"] is JsonArray chain)
        {
            foreach (var entry in chain.OfType<JsonObject>().Skip(1))
            {
                if (OpenSslTime(Text(entry["not_after"])) is { } t && t < end)
                {
                    (end, subject) = (t, Text(entry["subject"]));
                }
            }
        }
        if (OpenSslTime(Text(tls["earliest_not_after"])) is { } e && e < end)
        {
            (end, subject) = (e, subject ?? "a certificate of the chain");
        }
        var days = subject is null && tls["days_left"] is JsonValue d && d.GetValueKind() == JsonValueKind.Number ? d.GetValue<double>() : (end - now).TotalDays;
        return (end, days, subject);
    }

    private static string FailedPorts(JsonObject entry, JsonObject ports)
    {
        IEnumerable<string> failed = entry["failed_ports"] is JsonArray list
            ? list.Select(n => n is JsonValue v ? v.ToString() : "").Where(s => s.Length > 0)
            : ports.Where(p => p.Value?["open"] is JsonValue o && o.GetValueKind() == JsonValueKind.False).Select(p => p.Key);
        var sorted = failed.Distinct().OrderBy(p => int.TryParse(p, out var n) ? n : int.MaxValue).ThenBy(p => p, StringComparer.Ordinal).ToList();
        return sorted.Count == 0 ? "none" : string.Join(", ", sorted);
    }

    private static void ReadPort(string host, string port, JsonObject? p, DateTimeOffset now, List<CertificateObservation> certificates, List<ProbeObservation> probes)
    {
        if (p is null)
        {
            return;
        }
        var open = p["open"] is JsonValue o && o.GetValueKind() == JsonValueKind.True;
        double? connect = p["connect_ms"] is JsonValue ms && ms.GetValueKind() == JsonValueKind.Number ? ms.GetValue<double>() / 1000 : null;
        probes.Add(new ProbeObservation("tcp", open ? "ok" : Text(p["error_kind"]) ?? "error", connect));
        if (p["tls"] is not JsonObject tls)
        {
            return;
        }
        var tlsError = Text(tls["error"]);
        probes.Add(new ProbeObservation("tls", tlsError is null ? "ok" : Text(tls["error_kind"]) ?? "error", null));
        if (Earliest(tls, now) is { } seen)
        {
            certificates.Add(new CertificateObservation(host, port, seen.NotAfter, seen.DaysLeft, seen.Subject));
        }
    }

    /// <summary>The certificate's end of validity: <c>expires_utc</c> (ISO 8601) or the original's <c>not_after</c> ("Oct 29 04:00:00 2027 GMT").</summary>
    private static DateTimeOffset? NotAfter(JsonObject tls)
    {
        if (Text(tls["expires_utc"]) is { } iso && DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed;
        }
        return OpenSslTime(Text(tls["not_after"]));
    }

    private static DateTimeOffset? OpenSslTime(string? openssl)
    {
        if (openssl is null)
        {
            return null;
        }
        // OpenSSL pads single-digit days with a space: "Oct  9 04:00:00 2027 GMT".
        var normalised = string.Join(' ', openssl.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return DateTimeOffset.TryParseExact(normalised, "MMM d HH:mm:ss yyyy 'GMT'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var o)
            ? o
            : null;
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
