using System.Diagnostics;
using Microsoft.Extensions.Options;
using RemoteTest.Catalog;
using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>
/// <c>apptest.run</c>: whether each BroadWorks application named for each host answers and accepts the test user.
/// The checks come from the application catalog; every probe of every host runs at once under one deadline.
/// </summary>
public sealed partial class AppTest(IOptions<Tasks.AppTestOptions> appTestOptions, IOptions<Tasks.DnsCheckOptions> dnsOptions, IOptions<LimitsOptions> limitsOptions, ApplicationCatalog catalog, TargetConnector connector, TlsTrust trust, ILogger<AppTest> log)
    : RemoteTask<AppTestArgs>
{
    public override string Name => "apptest.run";

    public override string Description =>
        "Checks that each BroadWorks application named per host (OpenClientServer, OCIOverSoap, Xsi-Actions, ..., SipOptions) answers and accepts the test user.";

    private Task<SipResolutionResult> ResolveSipAsync(string domain, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var servers = dnsOptions.Value.DefaultNameservers.Select(ns => DnsQuery.ParseNameServer(ns)!).ToList();
        var lookup = DnsQuery.Client(servers, timeout);
        return SipResolution.ResolveAsync(lookup, servers, domain, timeout, DnsCheckRecords.MaxSipTargets, cancellationToken);
    }

    public override async Task<object> RunAsync(AppTestArgs arguments, TaskContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var o = appTestOptions.Value;
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
        var summary = new AppTestSummary
        {
            Hosts = arguments.Hosts.Count,
            AppsAttempted = arguments.Hosts.Sum(h => h.Applications.Count),
            DurationSec = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 2),
            Features = new Dictionary<string, bool>
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
            Ok = all.All(r => r.Ok),
            AppsOk = all.Count(r => r.Ok),
            AppsFailed = all.Count(r => !r.Ok),
            Timeout = arguments.Timeout,
            VerifySsl = arguments.VerifySsl,
        };
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
}
