using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RemoteTest.Api;
using RemoteTest.Fixtures;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Security;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Operations;

/// <summary>/metrics scraped and parsed, /healthz and /readyz, the API document, JSON logs with request-to-task correlation.</summary>
public sealed partial class ObservabilityTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();

    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>Parses the Prometheus text exposition format; every non-comment line must be a valid sample.</summary>
    internal static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a Prometheus sample: {line}");
            var labels = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["k"].Value, l => l.Groups["v"].Value);
            var value = m.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(m.Groups["name"].Value, labels, value));
        }
        return samples;
    }

    [Fact]
    public async Task A_real_porttest_feeds_the_certificate_metric_and_a_cert_expiry_alert()
    {
        using var pki = TestPki.Create();
        var notAfter = DateTimeOffset.UtcNow.AddDays(13.5);
        await using var tls = TlsTestServer.Start(pki.IssueServer("localhost", ["localhost", "127.0.0.1"], notAfter: notAfter), [pki.Intermediate]);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = await ServiceHost.StartAsync();
        using (var created = await host.Http.PostAsJsonAsync("/schedules", new JsonObject
        {
            ["name"] = "certs",
            ["task_name"] = "porttest.run",
            ["cron"] = "0 6 * * 1",
            ["webhook"] = receiver.Url,
            ["notify"] = "cert_expiry",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray(tls.Port) } }),
                ["kwargs"] = new JsonObject { ["tls_ports"] = new JsonArray(tls.Port), ["ca_pem"] = pki.RootPem, ["timeout"] = 5 },
            },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using var run = await host.Http.PostAsync("/schedules/certs/run", null);
        var id = (await run.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
        Assert.Equal("SUCCESS", (await host.WaitAsync(id))["state"]!.GetValue<string>());

        await receiver.WaitForAsync(1, Wait);
        var alert = Assert.Single(receiver.Received).Json;
        Assert.Equal("cert_expiry", alert["event"]!.GetValue<string>());
        Assert.StartsWith($"127.0.0.1:{tls.Port}: certificate expires in 13 days", alert["summary"]!.GetValue<string>());
        Assert.EndsWith("below 14 days", alert["summary"]!.GetValue<string>());

        var expiry = await Eventually.GetAsync(async () => Parse(await host.Http.GetStringAsync("/metrics"))
                .Where(s => s.Name == "remotetest_ssl_earliest_cert_expiry" && s.Labels.GetValueOrDefault("port") == tls.Port.ToString(CultureInfo.InvariantCulture)).ToList(),
            l => l.Count > 0, Wait, "the certificate series");
        var sample = Assert.Single(expiry);
        Assert.Equal("127.0.0.1", sample.Labels["host"]);
        Assert.Equal(notAfter.ToUnixTimeSeconds(), sample.Value);
    }

    [Fact]
    public async Task Healthz_is_alive_and_readyz_reports_storage_and_worker_and_fails_when_storage_fails()
    {
        await using var host = await ServiceHost.StartAsync();
        using (var live = await host.Http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        var ready = await Eventually.GetAsync(async () =>
        {
            using var r = await host.Http.GetAsync("/readyz");
            return ((int)r.StatusCode, (await r.Content.ReadFromJsonAsync<JsonObject>())!);
        }, r => r.Item1 == 200, Wait, "ready");
        Assert.Equal("healthy", ready.Item2["checks"]!["storage"]!["status"]!.GetValue<string>());
        Assert.Equal("healthy", ready.Item2["checks"]!["worker"]!["status"]!.GetValue<string>());

        // The store goes away under the running service, as a database connection that is lost would.
        ((SqliteTaskStore)host.Services.GetRequiredService<ITaskStore>()).Dispose();
        using (var notReady = await host.Http.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            var body = (await notReady.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal("unhealthy", body["checks"]!["storage"]!["status"]!.GetValue<string>());
            Assert.StartsWith("task store unreachable", body["checks"]!["storage"]!["description"]!.GetValue<string>());
        }
        using (var stillAlive = await host.Http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, stillAlive.StatusCode);
        }
    }

    [Fact]
    public async Task The_openapi_document_has_every_route_each_tasks_schema_and_the_readme_examples_and_docs_render()
    {
        await using var host = await ServiceHost.StartAsync();
        var doc = (await host.Http.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        Assert.StartsWith("3.", doc["openapi"]!.GetValue<string>());
        var paths = doc["paths"]!.AsObject();
        foreach (var route in new[] { "/", "/tasks", "/task", "/task/{id}", "/schedules", "/schedules/{name}", "/schedules/{name}/run" })
        {
            Assert.True(paths.ContainsKey(route), $"{route} missing from the document");
        }
        Assert.NotNull(paths["/task"]!["get"]);
        Assert.NotNull(paths["/task/{id}"]!["delete"]);
        var schemas = doc["components"]!["schemas"]!.AsObject();
        var dns = schemas["task.dns.check_records"]!;
        Assert.Equal("dns.check_records", dns["properties"]!["task_name"]!["const"]!.GetValue<string>());
        Assert.NotNull(dns["properties"]!["data"]!["properties"]!["kwargs"]!["properties"]!["timeout"]);
        Assert.NotNull(schemas["TaskStatus"]);
        var post = paths["/task"]!["post"]!;
        var example = post["requestBody"]!["content"]!["application/json"]!["examples"]!["dns.check_records"]!["value"]!;
        Assert.Equal("208.67.15.19", example["data"]!["args"]![0]!["akixi.altvoip.com"]!["original"]![0]!.GetValue<string>());

        using var docs = await host.Http.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        var html = await docs.Content.ReadAsStringAsync();
        Assert.Contains("RemoteTest API", html);
        Assert.Contains("openapi/v1.json", html);
    }

    [Fact]
    public async Task The_hangfire_dashboard_is_gone()
    {
        // Engine v2 has no Hangfire: GET /workers, the history, the UI and /metrics cover what the dashboard showed.
        await using var host = await ServiceHost.StartAsync();
        using var page = await host.Http.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
    }

    [Fact]
    public async Task A_task_writes_two_information_lines_its_audited_submission_and_its_end()
    {
        await using var host = await ServiceHost.StartAsync(services: TestTasks.Add);
        var id = await host.SubmitAsync(new JsonObject { ["task_name"] = "test.echo", ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = new JsonObject() } } });
        await host.WaitAsync(id);

        var events = await Eventually.GetAsync(
            () => Task.FromResult(host.Logs.Entries.Where(e => e.Category == "RemoteTest.TaskEvents" && e.Message.Contains(id)).ToList()),
            e => e.Count >= 3, TimeSpan.FromSeconds(30), "three task events");
        Assert.Equal(["TaskSubmitted", "TaskStarted", "TaskEnded"], events.Select(e => e.EventId.Name));
        Assert.Equal([LogLevel.Debug, LogLevel.Debug, LogLevel.Information], events.Select(e => e.Level));
        var audited = Assert.Single(host.Logs.Entries, e => e.Category == AuditLog.Category && e.EventId.Name == "TaskSubmitted" && e.Message.Contains(id));
        Assert.Equal(LogLevel.Information, audited.Level);
    }

    [Fact]
    public async Task Json_logs_carry_one_event_per_state_change_with_the_requests_trace_id()
    {
        await using var dns = DnsTestServer.Start().A("www.example.test", "192.0.2.1");
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["RemoteTest:Storage:Kind"] = "memory",
            ["RemoteTest:Observability:LogFormat"] = "json",
            // PENDING and STARTED are Debug events (the end is Information): an operator who wants all three asks for them.
            ["Logging:LogLevel:RemoteTest.TaskEvents"] = "Debug",
            ["RemoteTest:Dns:DefaultNameservers:0"] = dns.NameServer,
        }, startTimeout: TimeSpan.FromMinutes(2)); // a cold `dotnet` start on a busy 2-core machine
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/task")
        {
            Content = JsonContent.Create(new JsonObject
            {
                ["task_name"] = "dns.check_records",
                ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["www.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }) },
            }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..16]}-01");
        using var response = await service.Http.SendAsync(request);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
        Assert.Equal("SUCCESS", (await TaskPolling.WaitAsync(service.Http, id))["state"]!.GetValue<string>());

        var events = await Eventually.GetAsync(() => Task.FromResult(service.Output.Split('\n')
                .Where(l => l.StartsWith('{') && l.Contains("RemoteTest.TaskEvents") && l.Contains(id)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()),
            e => e.Count >= 3, Wait, "three task events");
        Assert.All(service.Output.Split('\n').Where(l => l.Trim().Length > 0), l => Assert.StartsWith("{", l.Trim()));
        Assert.Equal(["PENDING", "STARTED", "SUCCESS"], events.Select(e => e["State"]!["State"]!.GetValue<string>()));
        foreach (var e in events)
        {
            Assert.Equal(id, e["State"]!["TaskId"]!.GetValue<string>());
            Assert.Equal("dns.check_records", e["State"]!["TaskName"]!.GetValue<string>());
            // Correlation: the request's trace id is on the submit event and on the worker's events.
            Assert.Contains(e["Scopes"]!.AsArray(), s => s is JsonObject o && o["TraceId"]?.GetValue<string>() == traceId);
        }
        Assert.NotNull(events[2]["State"]!["DurationSeconds"]);
        Assert.NotNull(events[2]["State"]!["Worker"]);
    }
}

/// <summary>Tests whose process-wide measurements must not be shared with other hosts: run after the parallel ones, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Alone in the process";
}

/// <summary>A /metrics scrape with exact counts.</summary>
[Collection(AloneCollection.Name)]
public sealed class MetricsScrapeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static List<ObservabilityTests.Sample> Parse(string text) => ObservabilityTests.Parse(text);

    /// <summary>
    /// Runs alone (see <see cref="AloneCollection"/>): an OpenTelemetry meter provider listens to every meter of
    /// its name in the process, so hosts of tests running beside it would add to the exact counts checked here.
    /// </summary>
    [Fact]
    public async Task Metrics_are_scraped_in_prometheus_format_with_task_probe_queue_and_certificate_series()
    {
        await using var dns = DnsTestServer.Start().A("www.example.test", "192.0.2.1");
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Dns:DefaultNameservers:0"] = dns.NameServer }, TestTasks.Add);
        await host.RunAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["www.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }) },
        });
        var ports = ScheduleTests.PortResult(42.5, "adp50.example.test");
        await host.RunAsync(new JsonObject { ["task_name"] = "test.echo", ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = ports } } });
        var notAfter = DateTimeOffset.Parse(ports["results"]!["adp50.example.test"]!["ports"]!["443"]!["tls"]!["expires_utc"]!.GetValue<string>(), CultureInfo.InvariantCulture);

        // The exporter caches a scrape briefly: poll until this run's counts are in.
        List<ObservabilityTests.Sample> samples = await Eventually.GetAsync(async () =>
        {
            using var response = await host.Http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType);
            return Parse(await response.Content.ReadAsStringAsync());
        }, s => s.Where(x => x.Name == "remotetest_tasks_finished_total").Sum(x => x.Value) >= 2, Wait, "finished tasks in /metrics");

        double Value(string name, params (string K, string V)[] labels) =>
            samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.K) == l.V)).Sum(s => s.Value);

        Assert.Equal(1, Value("remotetest_tasks_submitted_total", ("task_name", "dns.check_records"), ("queue", "default")));
        Assert.Equal(1, Value("remotetest_tasks_finished_total", ("task_name", "dns.check_records"), ("state", "SUCCESS")));
        Assert.Equal(2, Value("remotetest_task_duration_seconds_count"));
        Assert.Equal(2, Value("remotetest_task_duration_seconds_bucket", ("le", "+Inf")));
        Assert.Equal(2, Value("remotetest_task_pickup_latency_seconds_count", ("queue", "default")));
        Assert.Equal(1, Value("remotetest_probes_total", ("probe", "dns"), ("outcome", "ok")));
        Assert.Equal(1, Value("remotetest_probes_total", ("probe", "tcp"), ("outcome", "refused")));
        Assert.Equal(1, Value("remotetest_probe_duration_seconds_count", ("probe", "tcp")));
        Assert.Equal(1, Value("remotetest_workers_alive"));
        Assert.Contains(samples, s => s.Name == "remotetest_queue_depth");
        Assert.Equal(0, Value("remotetest_tasks_running"));
        Assert.Equal(notAfter.ToUnixTimeSeconds(), Value("remotetest_ssl_earliest_cert_expiry", ("host", "adp50.example.test"), ("port", "443")));
        // ASP.NET Core and runtime metrics ride along.
        Assert.Contains(samples, s => s.Name.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.Name.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        // Prometheus naming: lower snake case, counters end in _total.
        Assert.All(samples.Where(s => s.Name.StartsWith("remotetest_", StringComparison.Ordinal)), s => Assert.Matches("^[a-z][a-z0-9_]*$", s.Name));
    }

    [Fact]
    public async Task Metrics_off_serves_no_scrape_and_collects_nothing()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Observability:Metrics"] = "false" });
        using var response = await host.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        // No meter provider listens: the per-request and runtime instruments are not aggregated at all.
        Assert.Null(host.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/healthz")).StatusCode);
    }
}
