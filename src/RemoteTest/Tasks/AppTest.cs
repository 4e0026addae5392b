using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Catalog;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>
/// <c>apptest.run</c>: whether each BroadWorks application named for each host answers and accepts the test user.
/// The checks come from the application catalog; every probe of every host runs at once under one deadline.
/// </summary>
public sealed class AppTest(IOptions<RemoteTestOptions> options, ApplicationCatalog catalog, TargetConnector connector, TlsTrust trust, ILogger<AppTest> log)
    : RemoteTask<AppTestArgs>
{
    private static readonly string[] Schemes = ["http", "https"];
    private static readonly string[] SipTransports = ["udp", "tcp", "tls"];

    public override string Name => "apptest.run";

    public override string Description =>
        "Checks that each BroadWorks application named per host (OpenClientServer, OCIOverSoap, Xsi-Actions, ..., SipOptions) answers and accepts the test user.";

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
        var limits = options.Value.Limits;
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
    private Task<SipResolutionResult> ResolveSipAsync(string domain, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var servers = options.Value.Dns.DefaultNameservers.Select(ns => DnsQuery.ParseNameServer(ns)!).ToList();
        var lookup = DnsQuery.Client(servers, timeout);
        return SipResolution.ResolveAsync(lookup, servers, domain, timeout, DnsCheckRecords.MaxSipTargets, cancellationToken);
    }

    public override async Task<object> RunAsync(AppTestArgs arguments, TaskContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var o = options.Value.AppTest;
        var roots = trust.With(arguments.CaRoots);
        var timeout = TimeSpan.FromSeconds(arguments.Timeout);
        var deadlineAfter = timeout * o.DeadlineTimeouts + TimeSpan.FromSeconds(1);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(deadlineAfter);
        using var gate = new SemaphoreSlim(o.MaxConcurrentChecks);
        var settings = new ApplicationCheckSettings(timeout, new TlsClientPolicy(arguments.VerifySsl, roots), o.MaxResponseBytes, deadlineAfter)
        {
            ResolveSip = (domain, ct) => ResolveSipAsync(domain, timeout, ct),
        };

        var hosts = arguments.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal).ToList();
        context.Plan(hosts.Sum(h => h.Applications.Distinct().Count()));
        var work = hosts.Select(h => (Host: h, Apps: h.Applications.Distinct().Select(app => RunOneAsync(h, app)).ToList())).ToList();
        await Task.WhenAll(work.SelectMany(w => w.Apps));

        var results = new Dictionary<string, IReadOnlyDictionary<string, AppCheckResult>>();
        foreach (var (host, apps) in work)
        {
            var perHost = new Dictionary<string, AppCheckResult>();
            foreach (var app in apps)
            {
                var (name, result) = app.Result;
                perHost[name] = result;
            }
            results[host.Key] = perHost;
        }
        var all = results.Values.SelectMany(r => r.Values).ToList();
        var summary = new AppTestSummary(
            arguments.Hosts.Count,
            arguments.Hosts.Sum(h => h.Applications.Count),
            Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 2),
            new Dictionary<string, bool>
            {
                // The original reported whether its SOAP library was installed; OCI over SOAP needs none here.
                ["have_zeep"] = true,
                ["oci_soap"] = true,
                ["oci_p_tls"] = true,
                ["sip_options"] = true,
                // Added with issue 19: the Xsi-Events channel, the DMS Digest check, client certificates for mTLS.
                ["xsi_events_channel"] = true,
                ["dms_digest"] = true,
                ["mtls_client_certificate"] = true,
            },
            all.All(r => r.Ok),
            all.Count(r => r.Ok),
            all.Count(r => !r.Ok),
            arguments.Timeout,
            arguments.VerifySsl);
        return new AppTestResult(summary, results);

        async Task<(string, AppCheckResult)> RunOneAsync(AppTestHost host, string app)
        {
            var runner = new ApplicationCheckRunner(connector, catalog, settings, gate);
            var result = await runner.RunAsync(host, app, deadline.Token, cancellationToken);
            context.Complete();
            if (!result.Ok)
            {
                log.LogDebug("apptest {Host} {Application}: {ErrorKind}", host.Key, app, result.ErrorKind);
            }
            return (app, result);
        }
    }

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
        return new AppTestData(Text("user_id", 161), Text("password", 256), Text("dms_url", 2048), ports, contextPaths,
            Choices(td, field, "schemes", Schemes), Choices(td, field, "sip_transports", SipTransports))
        {
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
