using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RemoteTest.Tasks;

/// <summary>Validated arguments of <c>apptest.run</c>.</summary>
/// <param name="CaRoots">Trust roots from the <c>ca_pem</c> kwarg (configured roots are added when the task runs).</param>
public sealed record AppTestArgs(IReadOnlyList<AppTestHost> Hosts, double Timeout, bool VerifySsl, X509Certificate2Collection CaRoots)
    : Security.ITargetedArguments
{
    public string TargetField => "data";

    public IReadOnlyList<string> Targets => Hosts.Select(h => h.Host).ToList();
}

/// <summary>One host of the payload: its key as given, the host to connect to, the applications and the test data.</summary>
public sealed record AppTestHost(string Key, string Host, IReadOnlyList<string> Applications, AppTestData TestData);

/// <summary>
/// A host's <c>test_data</c>: the test user, the DMS path, and per-host overrides of ports, context paths, HTTP
/// schemes and SIP transports for deployments that differ from the defaults.
/// </summary>
public sealed record AppTestData(
    string? UserId,
    string? Password,
    string? DmsUrl,
    IReadOnlyDictionary<string, int> Ports,
    IReadOnlyDictionary<string, string> ContextPaths,
    IReadOnlyList<string>? Schemes,
    IReadOnlyList<string>? SipTransports)
{
    public static AppTestData Empty { get; } = new(null, null, null, new Dictionary<string, int>(), new Dictionary<string, string>(), null, null);

    /// <summary>Device credentials for the DMS Digest check (<c>dms_user</c>, <c>dms_password</c>); a secret like the password.</summary>
    public string? DmsUser { get; init; }

    public string? DmsPassword { get; init; }

    /// <summary>A client certificate (PEM) for mutual-TLS interfaces (AuthenticationService).</summary>
    public string? ClientCertPem { get; init; }

    /// <summary>The client certificate's private key (PEM): a secret, masked and encrypted like the password.</summary>
    public string? ClientKeyPem { get; init; }

    /// <summary>A SIP domain: SipOptions resolves it (RFC 3263, NAPTR → SRV → A/AAAA) and probes every target.</summary>
    public string? SipDomain { get; init; }

    /// <summary>Every secret of this test data, for redacting what servers send back.</summary>
    public IReadOnlyList<string> Secrets => new[] { Password, DmsPassword, ClientKeyPem }.Where(s => !string.IsNullOrEmpty(s)).ToList()!;

    /// <summary>Never prints a secret, whoever formats this record (a log line, a debugger, an exception).</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        static string Masked(string? secret) => secret is null ? "null" : Store.ArgumentSecrets.Mask;
        builder.Append($"UserId = {UserId}, Password = {Masked(Password)}, DmsUrl = {DmsUrl}, DmsUser = {DmsUser}, DmsPassword = {Masked(DmsPassword)}, ");
        builder.Append($"ClientCertPem = {(ClientCertPem is null ? "null" : "(certificate)")}, ClientKeyPem = {Masked(ClientKeyPem)}, ");
        builder.Append($"Ports = [{string.Join(", ", Ports.Select(p => $"{p.Key}={p.Value}"))}], ContextPaths = [{string.Join(", ", ContextPaths.Select(p => $"{p.Key}={p.Value}"))}]");
        return true;
    }
}

/// <summary>The result: the original's <c>{"summary", "results"}</c>, with fields added and none renamed.</summary>
public sealed record AppTestResult(AppTestSummary Summary, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AppCheckResult>> Results);

/// <summary>The original's <c>hosts</c>, <c>apps_attempted</c>, <c>duration_sec</c>, <c>features</c>, and more.</summary>
/// <param name="Ok">Every application of every host passed.</param>
public sealed record AppTestSummary(
    int Hosts,
    int AppsAttempted,
    double DurationSec,
    IReadOnlyDictionary<string, bool> Features,
    bool Ok,
    int AppsOk,
    int AppsFailed,
    double Timeout,
    bool VerifySsl);

/// <summary>
/// One application on one host: the original's <c>{"ok", "error", "details"}</c>, with <c>error_kind</c> for every
/// failure, how sure the catalog is of this check, and which of its checks failed (also when others passed).
/// </summary>
public sealed record AppCheckResult(
    bool Ok,
    string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ErrorKind,
    JsonObject Details,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Confidence = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? FailedChecks = null);
