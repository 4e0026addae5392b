using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RemoteTest.Catalog;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>What every check of one task shares: the per-step timeout, the TLS policy, the body cap, the deadline.</summary>
public sealed record ApplicationCheckSettings(TimeSpan Timeout, TlsClientPolicy Tls, long MaxResponseBytes, TimeSpan Deadline)
{
    /// <summary>RFC 3263 resolution of a SIP domain (<c>test_data.sip_domain</c>), through the service's resolvers.</summary>
    public Func<string, CancellationToken, Task<SipResolutionResult>>? ResolveSip { get; init; }
}

/// <summary>
/// Runs one catalog application on one host: each check (and each scheme or transport of it) as one probe, all at
/// once, then combines them into the original's <c>{"ok", "error", "details"}</c>.
/// </summary>
public sealed class ApplicationCheckRunner(TargetConnector connector, ApplicationCatalog catalog, ApplicationCheckSettings settings, SemaphoreSlim gate)
{
    /// <summary>Which failure to report when several checks failed: the one that got furthest says the most.</summary>
    private static readonly string[] KindRank =
    [
        ErrorKind.AuthFailed, ErrorKind.MtlsRequired, ErrorKind.HttpStatus, ErrorKind.SipStatus, ErrorKind.ProtocolError, ErrorKind.TlsVerify,
        ErrorKind.TlsHandshake, ErrorKind.Timeout, ErrorKind.Refused, ErrorKind.Unreachable, ErrorKind.Dns,
    ];

    /// <summary>One probe's outcome: its label ("profile https"), its details, and its failure if any.</summary>
    private sealed record ProbeOutcome(string Check, string? Variant, JsonNode Details, ProbeFailure? Failure)
    {
        public string Label => Variant is null ? Check : $"{Check} {Variant}";
    }

    public async Task<AppCheckResult> RunAsync(AppTestHost host, string name, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var app = catalog.Find(name);
        if (app is null)
        {
            return new AppCheckResult { Ok = false, Error = "apptest missing", ErrorKind = ErrorKind.NotCheckable, Details = [] };
        }
        if (app.NotCheckable is { } why)
        {
            return new AppCheckResult { Ok = false, Error = $"not checkable remotely: {why}", ErrorKind = ErrorKind.NotCheckable, Details = [], Confidence = app.Confidence };
        }
        if (Missing(app, host.TestData) is { } missing)
        {
            return new AppCheckResult { Ok = false, Error = missing, ErrorKind = ErrorKind.MissingInput, Details = [], Confidence = app.Confidence };
        }

        // test_data.sip_domain: SIP OPTIONS go to every target the domain resolves to (RFC 3263), not to the host.
        SipResolutionResult? sip = null;
        var sipChecks = app.Checks.Where(c => c.Kind == CheckKind.SipOptions).ToList();
        if (host.TestData.SipDomain is { } sipDomain && sipChecks.Count > 0 && settings.ResolveSip is { } resolveSip)
        {
            sip = await resolveSip(sipDomain, deadline);
        }
        var probes = app.Checks.SelectMany(check => sip is not null && check.Kind == CheckKind.SipOptions
            ? PlanSipTargets(check, host.TestData, sip)
            : Plan(app, check, host)).ToList();
        if (sip is not null)
        {
            // The resolution tree beside the probes; a failed resolution is the failure of the application.
            var tree = JsonSerializer.SerializeToNode(sip, RemoteTestJson.Options)!;
            probes.Add(("resolution", null, _ => Task.FromResult<(JsonNode, ProbeFailure?)>((tree,
                sip.Error is null ? null : new ProbeFailure(sip.Error, sip.ErrorKind ?? ErrorKind.Dns)))));
        }
        if (probes.Count == 0)
        {
            return new AppCheckResult
            {
                Ok = false, Error = "nothing to check: test_data.schemes or test_data.sip_transports exclude every check",
                ErrorKind = ErrorKind.MissingInput, Details = [], Confidence = app.Confidence,
            };
        }
        var outcomes = await Task.WhenAll(probes.Select(p => GuardedAsync(p, deadline, cancellationToken)));

        var details = new JsonObject();
        foreach (var group in outcomes.GroupBy(o => o.Check))
        {
            details[group.Key] = group.All(o => o.Variant is not null)
                ? new JsonObject(group.Select(o => KeyValuePair.Create(o.Variant!, (JsonNode?)o.Details)))
                : group.First().Details;
        }
        // One check: its details are the application's, as the original shaped them ({"http", "https"} for DMS).
        // A detail-only check keeps that place too (Xsi-Events' versions GET, the original's whole check), the
        // check that decides sits beside it under its name ("channel").
        var detailOnly = app.Checks.Where(c => c.DetailOnly).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var flatten = app.Checks.Count == 1 ? app.Checks[0].Name : detailOnly.Count == 1 ? detailOnly.First() : null;
        if (flatten is not null && details[flatten] is JsonObject top)
        {
            details.Remove(flatten);
            var rest = details;
            details = top;
            foreach (var (key, value) in rest.ToList())
            {
                rest.Remove(key);
                details[key] = value;
            }
        }
        // An engineer reading a failure should know which expectations to double-check by hand.
        if (app.Confidence is "low" or "medium")
        {
            details["confidence"] = app.Confidence;
            details["confidence_note"] = app.ConfidenceNote;
        }

        // Probes redact what servers send back; this pass is the net under them, for any text a probe missed.
        var redactor = new SecretRedactor(host.TestData.Secrets, host.TestData.UserId);
        redactor.RedactAll(details);

        var counted = outcomes.Where(o => !detailOnly.Contains(o.Check)).ToList();
        var checkOk = counted.GroupBy(o => o.Check).Select(g => g.Any(o => o.Failure is null)).ToList();
        var ok = app.OkWhen == "all" ? checkOk.All(c => c) : checkOk.Any(c => c);
        if (sip is not null)
        {
            // Every resolved target must answer: a migration moves calls to all of them.
            ok = counted.Count > 0 && counted.All(o => o.Failure is null);
        }
        var failed = counted.Where(o => o.Failure is not null).ToList();
        var failedLabels = failed.Count == 0 ? null : failed.Select(o => o.Label).ToList();
        if (ok)
        {
            return new AppCheckResult { Ok = true, Details = details, Confidence = app.Confidence, FailedChecks = failedLabels };
        }
        var worst = failed.OrderBy(o => Rank(o.Failure!.Kind)).First();
        var more = failed.Count > 1 ? $" (and {failed.Count - 1} more failed)" : "";
        var text = app.Failure is null
            ? worst.Failure!.Error
            : $"{app.Failure}: {worst.Label}: {worst.Failure!.Error}{more}";
        if (worst.Failure!.Kind == ErrorKind.HttpStatus && text.Contains("404", StringComparison.Ordinal) && app.Confidence == "low")
        {
            text += $" (the catalog's context path for {app.Name} is a guess; set test_data.context_paths.{app.Name})";
        }
        else if (app.Confidence == "low")
        {
            text += $" (low-confidence check of {app.Name}: its path has no public evidence; check by hand)";
        }
        return new AppCheckResult
        {
            Ok = false, Error = redactor.Redact(text), ErrorKind = worst.Failure.Kind, Details = details, Confidence = app.Confidence,
            FailedChecks = failedLabels,
        };
    }

    private static int Rank(string kind)
    {
        var i = Array.IndexOf(KindRank, kind);
        return i < 0 ? KindRank.Length : i;
    }

    private static string? Missing(CatalogApplication app, AppTestData data)
    {
        if ((app.Requires.Contains("user_id") && string.IsNullOrEmpty(data.UserId)) || (app.Requires.Contains("password") && string.IsNullOrEmpty(data.Password)))
        {
            return "Missing user_id/password in test_data";
        }
        if (app.Requires.Contains("dms_url") && string.IsNullOrEmpty(data.DmsUrl))
        {
            return "Missing test_data.dms_url";
        }
        return null;
    }

    /// <summary>The probes one check takes: one per scheme (http), per login (OCI-P), or the one SIP transport.</summary>
    private IEnumerable<(string Check, string? Variant, Func<CancellationToken, Task<(JsonNode, ProbeFailure?)>> Run)> Plan(
        CatalogApplication app, CatalogCheck check, AppTestHost host)
    {
        var data = host.TestData;
        int Port(string name) => data.Ports.TryGetValue(name, out var p) ? p : catalog.DefaultPorts[name];

        switch (check.Kind)
        {
            case CheckKind.OciP:
                yield return (check.Name, null, async ct =>
                {
                    var r = await OciPClient.LoginAsync(connector,
                        new OciLoginRequest(host.Host, Port(check.Port!), check.Tls, settings.Tls, data.UserId!, data.Password!, settings.Timeout, check.Login), ct);
                    return (Node(r), r.Ok ? null : new ProbeFailure(r.Error!, r.ErrorKind!));
                }
                );
                break;
            case CheckKind.SipOptions:
                if (data.SipTransports is { } only && !only.Contains(check.Transport!))
                {
                    yield break;
                }
                var transport = Enum.Parse<SipTransport>(check.Transport!, ignoreCase: true);
                yield return (check.Name, null, async ct =>
                {
                    var r = await SipOptionsProbe.PingAsync(connector, new SipOptionsRequest(host.Host, Port(check.Port!), transport, settings.Tls, settings.Timeout), ct);
                    return (Node(r), r.Ok ? null : new ProbeFailure(r.Error!, r.ErrorKind!));
                }
                );
                break;
            case CheckKind.OciSoap:
                var soapSchemes = SchemesFor(check, data);
                foreach (var scheme in soapSchemes)
                {
                    var url = Url(scheme, host.Host, Port(scheme), Path(app, check, data));
                    yield return (check.Name, soapSchemes.Count > 1 ? scheme : null, async ct =>
                    {
                        var r = await OciSoapClient.RunAsync(connector, new OciSoapRequest(url, settings.Tls, data.UserId!, data.Password!, settings.Timeout, settings.MaxResponseBytes), ct);
                        return (Node(r), r.Ok ? null : new ProbeFailure(r.Error!, r.ErrorKind!));
                    }
                    );
                }
                break;
            case CheckKind.Http:
                // With device credentials the Digest challenge is answered, so only a 200 is a pass; without, the challenge itself is.
                var digest = check.Auth == "digest" && !string.IsNullOrEmpty(data.DmsUser) && data.DmsPassword is not null;
                var expect = new HttpExpectation(check.ExpectStatus, check.BodyMarker,
                    check.RedirectWithin is null ? null : Expand(check.RedirectWithin, app, data), digest ? null : check.ChallengeOk);
                var basic = check.Auth == "basic";
                foreach (var scheme in SchemesFor(check, data))
                {
                    var url = Url(scheme, host.Host, Port(scheme), Path(app, check, data));
                    yield return (check.Name, scheme, async ct =>
                    {
                        using var clientCertificate = check.MutualTls && data.ClientCertPem is not null ? ClientCertificate.FromPem(data.ClientCertPem, data.ClientKeyPem!) : null;
                        using var session = new HttpProbeSession(connector, settings.Tls, new SecretRedactor(data.Secrets, data.UserId), settings.MaxResponseBytes,
                            configureHandler: handler =>
                            {
                                if (digest)
                                {
                                    handler.Credentials = DigestAuth.Credentials(url, data.DmsUser!, data.DmsPassword!);
                                }
                                if (clientCertificate is not null)
                                {
                                    handler.SslOptions.ClientCertificates = [clientCertificate];
                                }
                            });
                        var request = new HttpProbeRequest(new HttpMethod(check.Method ?? "GET"), url, basic ? data.UserId : null, basic ? data.Password : null);
                        var r = await session.SendAsync(request, expect, settings.Timeout, ct);
                        if (check.MutualTls && scheme == "https" && MutualTls.Refused(r, clientCertificate is not null) is { } refused)
                        {
                            r = r with { Error = refused, ErrorKind = ErrorKind.MtlsRequired };
                        }
                        return (Node(r), r.Ok ? null : new ProbeFailure(r.Error!, r.ErrorKind!));
                    }
                    );
                }
                break;
            case CheckKind.XsiEventsChannel:
                foreach (var scheme in SchemesFor(check, data))
                {
                    var port = Port(scheme);
                    var openUrl = Url(scheme, host.Host, port, Path(app, check, data));
                    var deletePath = Expand(check.DeletePath!, app, data);
                    yield return (check.Name, scheme, async ct =>
                    {
                        var r = await XsiEventsChannel.OpenAndDeleteAsync(connector, new XsiChannelRequest(openUrl,
                            id => Url(scheme, host.Host, port, deletePath.Replace("{channel_id}", Uri.EscapeDataString(id), StringComparison.Ordinal)),
                            data.UserId!, data.Password!, check.Expires ?? 60, settings.Tls, settings.Timeout, settings.MaxResponseBytes), ct);
                        return (Node(r), r.Ok ? null : new ProbeFailure(r.Error!, r.ErrorKind!));
                    }
                    );
                }
                break;
        }
    }

    /// <summary>Runs one probe within the concurrency gate; the task deadline turns into a timeout result, not an exception.</summary>
    /// <summary>One SIP OPTIONS probe per resolved target of this check's transport, keyed <c>address:port</c>.</summary>
    private IEnumerable<(string Check, string? Variant, Func<CancellationToken, Task<(JsonNode, ProbeFailure?)>> Run)> PlanSipTargets(
        CatalogCheck check, AppTestData data, SipResolutionResult sip)
    {
        if (data.SipTransports is { } only && !only.Contains(check.Transport!))
        {
            yield break;
        }
        var transport = Enum.Parse<SipTransport>(check.Transport!, ignoreCase: true);
        foreach (var target in sip.Targets.Where(t => t.Transport == check.Transport))
        {
            var endpoint = target.Address.Contains(':') ? $"[{target.Address}]:{target.Port}" : $"{target.Address}:{target.Port}";
            yield return (check.Name, endpoint, async ct =>
            {
                var r = await SipOptionsProbe.PingAsync(connector,
                    new SipOptionsRequest(target.Address, target.Port, transport, settings.Tls, settings.Timeout) { Domain = data.SipDomain }, ct);
                var node = Node(r);
                if (node is JsonObject o)
                {
                    o["target"] = target.Host;
                }
                return (node, r.Ok ? null : new ProbeFailure(r.Error!, r.ErrorKind!));
            }
            );
        }
    }

    private async Task<ProbeOutcome> GuardedAsync((string Check, string? Variant, Func<CancellationToken, Task<(JsonNode, ProbeFailure?)>> Run) probe,
        CancellationToken deadline, CancellationToken cancellationToken)
    {
        try
        {
            await gate.WaitAsync(deadline);
            try
            {
                var (details, failure) = await probe.Run(deadline);
                return new ProbeOutcome(probe.Check, probe.Variant, details, failure);
            }
            finally
            {
                gate.Release();
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var failure = new ProbeFailure(
                $"task deadline of {settings.Deadline.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s reached before this check finished",
                ErrorKind.Timeout);
            return new ProbeOutcome(probe.Check, probe.Variant, new JsonObject { ["ok"] = false, ["error"] = failure.Error, ["error_kind"] = failure.Kind }, failure);
        }
    }

    /// <summary>The host's <c>test_data.schemes</c> when given (a SOAP service on plain http, an https-only site), else the catalog's.</summary>
    private static IReadOnlyList<string> SchemesFor(CatalogCheck check, AppTestData data) => data.Schemes is { Count: > 0 } only ? only : check.Schemes;

    private static string Path(CatalogApplication app, CatalogCheck check, AppTestData data) => Expand(check.Path!, app, data);

    private static string Expand(string template, CatalogApplication app, AppTestData data)
    {
        var context = data.ContextPaths.GetValueOrDefault(app.Name, app.ContextPath ?? "");
        // '@' stays literal in the user id, as the original sent it (Xsi user ids are user@domain).
        var user = data.UserId is null ? "" : Uri.EscapeDataString(data.UserId).Replace("%40", "@", StringComparison.Ordinal);
        return template.Replace("{context}", context, StringComparison.Ordinal)
            .Replace("{user_id}", user, StringComparison.Ordinal)
            .Replace("{dms_url}", (data.DmsUrl ?? "").TrimStart('/'), StringComparison.Ordinal);
    }

    private static Uri Url(string scheme, string host, int port, string path)
    {
        var authority = host.Contains(':') ? $"[{host}]" : host;
        return new Uri($"{scheme}://{authority}:{port.ToString(CultureInfo.InvariantCulture)}{path}");
    }

    private static JsonNode Node<T>(T value) => JsonSerializer.SerializeToNode(value, RemoteTestJson.Options)!;
}
