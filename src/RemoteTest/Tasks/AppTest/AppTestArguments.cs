using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using RemoteTest.Catalog;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>apptest.run's arguments: the schema <c>GET /tasks</c> shows, and parsing into <see cref="AppTestArgs"/>.</summary>
public sealed partial class AppTest
{
    private static readonly string[] Schemes = ["http", "https"];
    private static readonly string[] SipTransports = ["udp", "tcp", "tls"];

    public override IReadOnlyList<TaskParameter> Parameters { get; } =
    [
        new("data", true, "{host: {\"applications\": [names], \"test_data\": {\"user_id\", \"password\", \"dms_url\", \"dms_user\", \"dms_password\", \"client_cert_pem\", \"client_key_pem\", \"ports\": {oci, oci_tls, http, https, sip, sips}, \"context_paths\": {app: path}, \"schemes\": [..], \"sip_transports\": [..], \"sip_domain\": \"a SIP domain SipOptions resolves (RFC 3263) and probes at every target\"}}}; a host's \"ports\" list (porttest's) is ignored.",
            new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "object" } }),
        new("timeout", false, "Seconds each network step may take (default 5.0).", new JsonObject { ["type"] = "number", ["default"] = 5.0 }),
        new("verify_ssl", false, "Validate certificates (chain and name) on every TLS and HTTPS check (default true).", new JsonObject { ["type"] = "boolean", ["default"] = true }),
        new("ca_pem", false, "PEM with extra trust roots (private CAs) for every TLS and HTTPS check.", new JsonObject { ["type"] = "string" }),
    ];

    public override AppTestArgs ParseArguments(TaskArguments arguments)
    {
        var limits = limitsOptions.Value;
        var data = ArgumentReader.Object(arguments["data"], "data");
        if (data.Count > limits.MaxHostsPerTask)
        {
            throw new TaskArgumentException("data", $"data names {data.Count} hosts; at most {limits.MaxHostsPerTask} per task");
        }
        var hosts = new List<AppTestHost>();
        var checks = 0;
        foreach (var (key, value) in data)
        {
            var field = ArgumentReader.Member("data", key);
            var host = ArgumentReader.Host(key, field);
            var info = value is null ? new JsonObject() : ArgumentReader.Object(value, field);
            var applications = new List<string>();
            if (info["applications"] is { } apps)
            {
                var list = ArgumentReader.Array(apps, $"{field}.applications");
                for (var i = 0; i < list.Count; i++)
                {
                    applications.Add(ArgumentReader.String(list[i], ArgumentReader.Element($"{field}.applications", i), 100));
                }
            }
            if (applications.Count > limits.MaxApplicationsPerHost)
            {
                throw new TaskArgumentException($"{field}.applications", $"{field}.applications names {applications.Count} applications; at most {limits.MaxApplicationsPerHost} per host");
            }
            checks += applications.Count;
            var testData = info["test_data"] is JsonObject td ? ParseTestData(td, $"{field}.test_data")
                : info["test_data"] is null ? AppTestData.Empty
                : throw new TaskArgumentException($"{field}.test_data", $"{field}.test_data must be an object");
            hosts.Add(new AppTestHost(key, host, applications, testData));
        }
        if (checks > limits.MaxChecksPerTask)
        {
            throw new TaskArgumentException("data", $"{checks} host × application checks exceed the limit of {limits.MaxChecksPerTask} per task");
        }
        var timeout = arguments.Has("timeout") ? ArgumentReader.Number(arguments["timeout"], "timeout", 0.1, limits.MaxTimeoutSeconds) : 5.0;
        var verify = !arguments.Has("verify_ssl") || ArgumentReader.Boolean(arguments["verify_ssl"], "verify_ssl");
        var roots = arguments.Has("ca_pem") && arguments["ca_pem"] is not null
            ? ParsePem(ArgumentReader.String(arguments["ca_pem"], "ca_pem", 256 * 1024), "ca_pem")
            : [];
        return new AppTestArgs(hosts, timeout, verify, roots);
    }

    /// <summary>RFC 3263 through the service's resolvers (<c>Dns:DefaultNameservers</c>, else the system's).</summary>

    private static AppTestData ParseTestData(JsonObject td, string field)
    {
        // Every test_data value is written into OCI-P, SOAP, SIP or HTTP requests: no control characters (line injection).
        string? Text(string name, int max = 1024) => td[name] is null ? null : ArgumentReader.ProtocolString(td[name], $"{field}.{name}", max);

        var ports = new Dictionary<string, int>();
        if (td["ports"] is { } p)
        {
            foreach (var (name, value) in ArgumentReader.Object(p, $"{field}.ports"))
            {
                if (!ApplicationCatalog.PortNames.Contains(name))
                {
                    throw new TaskArgumentException($"{field}.ports.{name}", $"unknown port name '{name}'; known: {string.Join(", ", ApplicationCatalog.PortNames)}");
                }
                ports[name] = ArgumentReader.Port(value, $"{field}.ports.{name}");
            }
        }
        var contextPaths = new Dictionary<string, string>();
        if (td["context_paths"] is { } cp)
        {
            foreach (var (app, value) in ArgumentReader.Object(cp, $"{field}.context_paths"))
            {
                var path = ArgumentReader.ProtocolString(value, $"{field}.context_paths.{app}", 200).TrimEnd('/');
                if (path.Length > 0 && (!path.StartsWith('/') || path.Any(c => char.IsWhiteSpace(c) || c is '?' or '#')))
                {
                    throw new TaskArgumentException($"{field}.context_paths.{app}", $"'{path}' is not a context path (like /callcenter)");
                }
                contextPaths[app] = path;
            }
        }
        // PEM is multi-line by nature: read as plain strings, judged by the certificate parser.
        string? Pem(string name) => td[name] is null ? null : ArgumentReader.String(td[name], $"{field}.{name}", 64 * 1024);
        var certPem = Pem("client_cert_pem");
        var keyPem = Pem("client_key_pem");
        ValidateClientCertificate(certPem, keyPem, field);
        return new AppTestData
        {
            UserId = Text("user_id", 161),
            Password = Text("password", 256),
            DmsUrl = Text("dms_url", 2048),
            Ports = ports,
            ContextPaths = contextPaths,
            Schemes = Choices(td, field, "schemes", Schemes),
            SipTransports = Choices(td, field, "sip_transports", SipTransports),
            DmsUser = NoControl(Text("dms_user", 256), $"{field}.dms_user"),
            DmsPassword = NoControl(Text("dms_password", 256), $"{field}.dms_password"),
            ClientCertPem = certPem,
            ClientKeyPem = keyPem,
            SipDomain = SipDomain(Text("sip_domain", 253), $"{field}.sip_domain"),
        };
    }

    private static string? SipDomain(string? value, string field) =>
        value is not null && !ArgumentReader.IsDnsName(value) ? throw new TaskArgumentException(field, $"{field}: '{value}' is not a domain name") : value;

    /// <summary>Device credentials go into a Digest header: no control characters (a line break would end the header).</summary>
    private static string? NoControl(string? value, string field) =>
        value is not null && value.Any(char.IsControl)
            ? throw new TaskArgumentException(field, $"{field} contains a control character")
            : value;

    /// <summary>Both or neither, and a pair that makes a certificate with its key; a bad pair is a 400 naming the field.</summary>
    private static void ValidateClientCertificate(string? certPem, string? keyPem, string field)
    {
        if (certPem is null && keyPem is null)
        {
            return;
        }
        if (certPem is null || keyPem is null)
        {
            var missing = certPem is null ? "client_cert_pem" : "client_key_pem";
            throw new TaskArgumentException($"{field}.{missing}", $"{field}.client_cert_pem and client_key_pem go together; {missing} is missing");
        }
        try
        {
            ClientCertificate.FromPem(certPem, keyPem).Dispose();
        }
        catch (FormatException ex)
        {
            throw new TaskArgumentException($"{field}.client_cert_pem", ex.Message);
        }
    }

    private static IReadOnlyList<string>? Choices(JsonObject td, string field, string name, string[] allowed)
    {
        if (td[name] is not { } node)
        {
            return null;
        }
        var list = ArgumentReader.Array(node, $"{field}.{name}");
        var values = new List<string>();
        for (var i = 0; i < list.Count; i++)
        {
            var value = ArgumentReader.String(list[i], ArgumentReader.Element($"{field}.{name}", i), 10).ToLowerInvariant();
            if (!allowed.Contains(value))
            {
                throw new TaskArgumentException(ArgumentReader.Element($"{field}.{name}", i), $"'{value}' is not one of {string.Join(", ", allowed)}");
            }
            values.Add(value);
        }
        return values;
    }

    private static X509Certificate2Collection ParsePem(string pem, string field)
    {
        try
        {
            return TlsTrust.ParsePem(pem, field);
        }
        catch (FormatException ex)
        {
            throw new TaskArgumentException(field, ex.Message);
        }
    }
}

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
public sealed record AppTestData
{
    /// <summary>The test user (<c>user_id</c>).</summary>
    public string? UserId { get; init; }

    /// <summary>Its password: a secret, encrypted at rest and masked everywhere.</summary>
    public string? Password { get; init; }

    /// <summary>The DMS path for BroadworksDms.</summary>
    public string? DmsUrl { get; init; }

    /// <summary>Per-application port overrides.</summary>
    public required IReadOnlyDictionary<string, int> Ports { get; init; }

    /// <summary>Per-application context path overrides.</summary>
    public required IReadOnlyDictionary<string, string> ContextPaths { get; init; }

    /// <summary>The HTTP schemes to try (default both).</summary>
    public IReadOnlyList<string>? Schemes { get; init; }

    /// <summary>The SIP transports to try (default udp, tcp, tls).</summary>
    public IReadOnlyList<string>? SipTransports { get; init; }

    public static AppTestData Empty { get; } = new() { Ports = new Dictionary<string, int>(), ContextPaths = new Dictionary<string, string>() };

    /// <summary>Device credentials for the DMS Digest check (<c>dms_user</c>, <c>dms_password</c>); a secret like the password.</summary>
    public string? DmsUser { get; init; }

    /// <summary>The device password: a secret like the password.</summary>
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
