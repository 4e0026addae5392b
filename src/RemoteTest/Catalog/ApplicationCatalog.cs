using System.Text.Json;
using System.Text.Json.Serialization;

namespace RemoteTest.Catalog;

/// <summary>
/// The BroadWorks applications <c>apptest.run</c> knows, loaded from <c>applications.json</c> (embedded): per
/// application the checks to run, where its facts come from and how sure we are of them.
/// </summary>
public sealed class ApplicationCatalog
{
    public const string ResourceName = "RemoteTest.Catalog.applications.json";

    /// <summary>The port names a check or <c>test_data.ports</c> may use.</summary>
    public static readonly IReadOnlyList<string> PortNames = ["oci", "oci_tls", "http", "https", "sip", "sips"];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private readonly Dictionary<string, CatalogApplication> _byName;

    private ApplicationCatalog(CatalogDocument document)
    {
        Document = document;
        _byName = document.Applications.ToDictionary(a => a.Name, StringComparer.Ordinal);
    }

    public CatalogDocument Document { get; }

    public IReadOnlyList<CatalogApplication> Applications => Document.Applications;

    public IReadOnlyDictionary<string, int> DefaultPorts => Document.DefaultPorts;

    /// <summary>The entry for an application name as clients spell it (exact, case-sensitive, as the original).</summary>
    public CatalogApplication? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The catalog shipped in this assembly.</summary>
    public static ApplicationCatalog LoadEmbedded()
    {
        using var stream = typeof(ApplicationCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        return Load(stream);
    }

    /// <summary>Reads and validates a catalog; every problem is named in the exception.</summary>
    /// <exception cref="InvalidDataException">The catalog is malformed.</exception>
    public static ApplicationCatalog Load(Stream json)
    {
        CatalogDocument document;
        try
        {
            document = JsonSerializer.Deserialize<CatalogDocument>(json, Json) ?? throw new InvalidDataException("catalog is empty");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"catalog is not valid: {ex.Message}", ex);
        }
        var problems = Validate(document).ToList();
        if (problems.Count > 0)
        {
            throw new InvalidDataException("catalog is not valid: " + string.Join("; ", problems));
        }
        return new ApplicationCatalog(document);
    }

    private static IEnumerable<string> Validate(CatalogDocument d)
    {
        foreach (var name in PortNames.Where(p => !d.DefaultPorts.ContainsKey(p)))
        {
            yield return $"default_ports lacks '{name}'";
        }
        foreach (var duplicate in d.Applications.GroupBy(a => a.Name).Where(g => g.Count() > 1))
        {
            yield return $"application '{duplicate.Key}' is listed twice";
        }
        foreach (var app in d.Applications)
        {
            if (app.Confidence is not ("high" or "medium" or "low"))
            {
                yield return $"{app.Name}: confidence must be high, medium or low";
            }
            if (app.Sources.Count == 0)
            {
                yield return $"{app.Name}: sources are required";
            }
            foreach (var source in app.Sources.Where(s => !d.Sources.ContainsKey(s)))
            {
                yield return $"{app.Name}: unknown source '{source}'";
            }
            if (app.NotCheckable is null && app.Checks.Count == 0)
            {
                yield return $"{app.Name}: no checks and no not_checkable reason";
            }
            if (app.OkWhen is not ("any" or "all"))
            {
                yield return $"{app.Name}: ok_when must be any or all";
            }
            foreach (var check in app.Checks)
            {
                if (check.Auth is not (null or "none" or "basic" or "digest"))
                {
                    yield return $"{app.Name}.{check.Name}: auth must be none, basic or digest";
                }
                if (check.ChallengeOk is not null && check.Kind != CheckKind.Http)
                {
                    yield return $"{app.Name}.{check.Name}: challenge_ok is for http checks";
                }
                foreach (var problem in ValidateCheck(app, check))
                {
                    yield return $"{app.Name}.{check.Name}: {problem}";
                }
            }
        }
    }

    private static IEnumerable<string> ValidateCheck(CatalogApplication app, CatalogCheck check)
    {
        switch (check.Kind)
        {
            case CheckKind.OciP or CheckKind.SipOptions when check.Port is null || !PortNames.Contains(check.Port):
                yield return $"port must be one of {string.Join(", ", PortNames)}";
                break;
            case CheckKind.SipOptions when check.Transport is not ("udp" or "tcp" or "tls"):
                yield return "transport must be udp, tcp or tls";
                break;
            case CheckKind.OciP when check.Login?.Any(l => l is not ("LoginRequest22V5" or "LoginRequest14sp4")) == true:
                yield return "login must list LoginRequest22V5 and/or LoginRequest14sp4";
                break;
            case CheckKind.OciP when check.Login?.Contains("LoginRequest22V5") == true && !check.Tls:
                // LoginRequest22V5 carries the password itself: never over plain TCP.
                yield return "LoginRequest22V5 sends the password in clear: only on a tls check";
                break;
            case CheckKind.XsiEventsChannel when check.DeletePath?.Contains("{channel_id}", StringComparison.Ordinal) != true:
                yield return "delete_path must contain {channel_id}";
                break;
            case CheckKind.Http or CheckKind.OciSoap or CheckKind.XsiEventsChannel:
                if (check.Path is null || !check.Path.StartsWith('/') && !check.Path.StartsWith("{context}", StringComparison.Ordinal))
                {
                    yield return "path must start with / or {context}";
                }
                if (check.Schemes.Count == 0 || check.Schemes.Any(s => s is not ("http" or "https")))
                {
                    yield return "schemes must be http and/or https";
                }
                if (check.Path?.Contains("{context}", StringComparison.Ordinal) == true && app.ContextPath is null)
                {
                    yield return "path uses {context} but the application has no context_path";
                }
                break;
        }
    }
}

/// <summary>The catalog file.</summary>
public sealed record CatalogDocument(
    [property: JsonPropertyName("$comment")] string? Comment,
    IReadOnlyDictionary<string, int> DefaultPorts,
    IReadOnlyDictionary<string, string> Sources,
    IReadOnlyList<CatalogApplication> Applications);

/// <summary>One application: what is checked, how the checks combine, and how sure we are.</summary>
/// <param name="ContextPath">Where the application is deployed by default ("" for the root); per host overridable.</param>
/// <param name="Requires">test_data members the checks need (user_id, password, dms_url).</param>
/// <param name="OkWhen"><c>any</c>: ok when one check passes (http or https, 2208 or 2209); <c>all</c>: every check.</param>
/// <param name="Failure">The error text prefix when the application fails (the original's wording where it had one).</param>
/// <param name="NotCheckable">Why the application cannot be checked from outside; no checks then.</param>
public sealed record CatalogApplication(
    string Name,
    string Summary,
    string? ContextPath,
    IReadOnlyList<string>? Requires,
    string? OkWhen,
    string? Failure,
    string Confidence,
    string ConfidenceNote,
    IReadOnlyList<string> Sources,
    string? NotCheckable,
    IReadOnlyList<CatalogCheck> Checks)
{
    public IReadOnlyList<string> Requires { get; init; } = Requires ?? [];
    public string OkWhen { get; init; } = OkWhen ?? "any";
}

/// <summary>The protocols a catalog check can speak.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CheckKind>))]
public enum CheckKind
{
    [JsonStringEnumMemberName("http")] Http,
    [JsonStringEnumMemberName("oci_p")] OciP,
    [JsonStringEnumMemberName("oci_soap")] OciSoap,
    [JsonStringEnumMemberName("sip_options")] SipOptions,

    /// <summary>Opens an Xsi-Events channel (a streamed answer read up to its first element), then deletes it.</summary>
    [JsonStringEnumMemberName("xsi_events_channel")] XsiEventsChannel,
}

/// <summary>One check of an application.</summary>
/// <param name="Port">For oci_p and sip_options: which named port (test_data.ports overrides it per host).</param>
/// <param name="Schemes">For http and oci_soap: the schemes to try, each on its named port (http, https).</param>
/// <param name="Path">For http and oci_soap: the request path with placeholders.</param>
/// <param name="Auth"><c>basic</c> (the test user's credentials), <c>digest</c> (test_data.dms_user/dms_password when given) or <c>none</c>.</param>
/// <param name="RedirectWithin">A redirect into this path prefix counts as success.</param>
/// <param name="ChallengeOk">For http: a 401 offering this authentication scheme (Digest) counts as "deployed, credentials required".</param>
/// <param name="Login">For oci_p: the login forms to try in order (LoginRequest22V5, LoginRequest14sp4); the next one only after an ErrorResponse.</param>
/// <param name="MutualTls">For https: the server wants a client certificate; a failed handshake is reported as mtls_required.</param>
/// <param name="DetailOnly">Reported in details but not counted for ok (the Xsi-Events versions GET beside the channel).</param>
/// <param name="DeletePath">For xsi_events_channel: where the channel is deleted, with {channel_id}.</param>
/// <param name="Expires">For xsi_events_channel: the channel's lifetime in seconds, should the delete not arrive.</param>
public sealed record CatalogCheck(
    string Name,
    CheckKind Kind,
    string? Port,
    bool Tls,
    string? Transport,
    IReadOnlyList<string>? Schemes,
    string? Path,
    string? Method,
    string? Auth,
    IReadOnlyList<int>? ExpectStatus,
    string? BodyMarker,
    string? RedirectWithin,
    string? ChallengeOk = null,
    IReadOnlyList<string>? Login = null,
    bool MutualTls = false,
    bool DetailOnly = false,
    string? DeletePath = null,
    int? Expires = null)
{
    public IReadOnlyList<string> Schemes { get; init; } = Schemes ?? [];
    public IReadOnlyList<int> ExpectStatus { get; init; } = ExpectStatus ?? [200];
}
