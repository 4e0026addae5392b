using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>
/// The "done when" fuzz run: over ten thousand generated requests on every route (methods, paths, query strings,
/// headers, bodies) answer 2xx or 4xx, never 5xx; what is stored is exactly what was accepted; and the service
/// answers <c>GET /healthz</c> within a second throughout.
/// </summary>
public sealed class RouteFuzzTests
{
    private const int Requests = 10_500;
    private const int Clients = 4;
    private static readonly TimeSpan HealthBudget = TimeSpan.FromSeconds(1);

    private static readonly string[] Methods = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"];

    private static readonly string[] Paths =
    [
        "/", "/tasks", "/task", "/task/{id}", "/task/{id}/diff", "/task?{query}", "/task/{id}?{query}", "/schedules", "/schedules/{name}",
        "/schedules/{name}/run", "/schedules?{query}", "/workers", "/healthz", "/readyz", "/metrics", "/openapi/v1.json", "/ui/{junk}",
        "/baselines", "/baselines/{name}", "/{junk}", "/task/{junk}", "/schedules/{junk}/run",
    ];

    private static readonly string[] QueryKeys = ["state", "task_name", "queue", "schedule", "since", "until", "limit", "cursor", "include_result", "against", "owner", "x"];

    private static readonly string[] Junk =
    [
        "", "-1", "0", "1", "501", "SUCCESS", "PENDING", "porttest.run", "default", "nope", "%00", "%0d%0a", "%FF%FE", "..%2F..%2Fetc%2Fpasswd",
        "1e400", "NaN", "2026-13-45", "2026-01-01T00:00:00Z", "7d", "%7B%22a%22%3A1%7D", "%E2%80%AE", "'%20OR%201=1--", "<script>",
        new string('9', 300), new string('a', 2000),
    ];

    private sealed record Outcome(string Method, string Path, int Status);

    [Fact]
    public async Task Ten_thousand_generated_requests_never_get_a_5xx_store_only_what_was_accepted_and_healthz_stays_fast()
    {
        await using var dns = DnsTestServer.Start().A("www.example.test", "192.0.2.1");
        await using var host = await ServiceHost.StartSealedAsync(dns.NameServer);
        var seed = Environment.TickCount;
        var outcomes = new ConcurrentBag<Outcome>();
        var failures = new ConcurrentQueue<string>();
        var acceptedTasks = new ConcurrentDictionary<string, byte>();
        var savedSchedules = new ConcurrentDictionary<string, byte>();
        var next = -1;

        // Warm up the health route and the probe's connection, so the budget measures the service under load, not JIT.
        using (var warm = await host.Http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }
        using var stop = new CancellationTokenSource();
        var slowest = TimeSpan.Zero;
        var healthChecks = 0;
        var health = Task.Run(async () =>
        {
            using var probe = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            (await probe.GetAsync("/healthz", CancellationToken.None)).Dispose();
            while (!stop.IsCancellationRequested)
            {
                var clock = Stopwatch.StartNew();
                using var response = await probe.GetAsync("/healthz", CancellationToken.None);
                var took = clock.Elapsed;
                slowest = took > slowest ? took : slowest;
                healthChecks++;
                if (response.StatusCode != HttpStatusCode.OK || took > HealthBudget)
                {
                    failures.Enqueue($"/healthz answered {(int)response.StatusCode} in {took.TotalMilliseconds:0} ms");
                }
                await Task.Delay(50, CancellationToken.None);
            }
        });

        var clients = Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(seed + client);
            var payloads = new MalformedPayloads(seed + client);
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            {
                BaseAddress = host.BaseAddress,
                Timeout = TimeSpan.FromSeconds(30),
            };
            int i;
            while ((i = Interlocked.Increment(ref next)) < Requests)
            {
                using var request = Generate(random, payloads, host.BaseAddress.Port, i);
                var description = $"request {i} (seed {seed}): {request.Method} {request.RequestUri} [{string.Join("; ", request.Headers.Select(h => h.Key))}]";
                HttpResponseMessage response;
                try
                {
                    response = await http.SendAsync(request);
                }
                catch (HttpRequestException ex)
                {
                    // Kestrel may close the connection on a request it refuses at the protocol level; that is not a 5xx.
                    outcomes.Add(new Outcome(request.Method.Method, request.RequestUri!.ToString(), 0));
                    _ = ex;
                    continue;
                }
                using (response)
                {
                    var status = (int)response.StatusCode;
                    var text = await response.Content.ReadAsStringAsync();
                    outcomes.Add(new Outcome(request.Method.Method, request.RequestUri!.AbsolutePath, status));
                    if (status >= 500)
                    {
                        failures.Enqueue($"{description}: {status} {text[..Math.Min(300, text.Length)]}");
                    }
                    // Routing ignores a trailing slash ("/task/" is "/task"): compare paths without it.
                    var route = request.RequestUri!.AbsolutePath.TrimEnd('/');
                    if (request.Method == HttpMethod.Post && status == 202 && (route == "/task" || route.EndsWith("/run", StringComparison.Ordinal)))
                    {
                        acceptedTasks[JsonNode.Parse(text)!["task_id"]!.GetValue<string>()] = 0;
                    }
                    if (request.Method == HttpMethod.Post && route == "/schedules" && status is 200 or 201)
                    {
                        savedSchedules[JsonNode.Parse(text)!["name"]!.GetValue<string>()] = 0;
                    }
                    if (request.Method == HttpMethod.Delete && route.StartsWith("/schedules/", StringComparison.Ordinal) && status == 204)
                    {
                        savedSchedules.TryRemove(Uri.UnescapeDataString(route["/schedules/".Length..]), out _);
                    }
                }
            }
        })).ToList();
        await Task.WhenAll(clients);
        await stop.CancelAsync();
        await health;

        Assert.True(failures.IsEmpty, $"{failures.Count} failures, first: {string.Join("\n", failures.Take(10))}");
        Assert.True(outcomes.Count >= 10_000, $"{outcomes.Count} requests");
        Assert.True(healthChecks > 10, $"{healthChecks} health checks");

        // Stored is exactly what was accepted: no refused request left a task or a schedule behind.
        var store = host.Services.GetRequiredService<ITaskStore>();
        var stored = new List<string>();
        TaskCursor? after = null;
        while (true)
        {
            var page = await store.ListAsync(new TaskQuery(After: after, Limit: 500), CancellationToken.None);
            stored.AddRange(page.Tasks.Select(t => t.Id.ToString()));
            if (page.Tasks.Count < 500 || page.Next is null)
            {
                break;
            }
            after = page.Next;
        }
        Assert.Equal(acceptedTasks.Keys.Order(), stored.Order());
        var schedules = await store.ListSchedulesAsync(CancellationToken.None);
        Assert.Equal(savedSchedules.Keys.Order(), schedules.Select(s => s.Name).Order());
        Assert.DoesNotContain(host.Logs.Lines, l => l.StartsWith("Critical "));
        // Every method was tried, and both answers occurred: some requests were accepted (so the storage check has
        // something to compare) and most were refused.
        Assert.Equal(Methods.Length, outcomes.Select(o => o.Method).Distinct().Count());
        Assert.NotEmpty(acceptedTasks);
        Assert.Contains(outcomes, o => o.Status is >= 400 and < 500);
        Assert.Contains(outcomes, o => o.Status is >= 200 and < 300);
    }

    private static HttpRequestMessage Generate(Random random, MalformedPayloads payloads, int port, int index)
    {
        var method = Methods[random.Next(Methods.Length)];
        var path = Paths[random.Next(Paths.Length)]
            .Replace("{id}", random.Next(3) switch { 0 => Guid.NewGuid().ToString(), 1 => Pick(random, Junk), _ => "00000000-0000-0000-0000-000000000000" })
            .Replace("{name}", random.Next(2) == 0 ? $"fuzz-{random.Next(20)}" : Pick(random, Junk))
            .Replace("{junk}", Pick(random, Junk))
            .Replace("{query}", string.Join("&", Enumerable.Range(0, random.Next(1, 5)).Select(_ => $"{Pick(random, QueryKeys)}={Pick(random, Junk)}")));
        if (path.Length == 0 || path[0] != '/')
        {
            path = "/" + path;
        }
        var request = new HttpRequestMessage(new HttpMethod(method), path);

        if (method is "POST" or "PUT" or "PATCH" || random.Next(4) == 0)
        {
            request.Content = new ByteArrayContent(Body(random, payloads, path, index));
            var type = random.Next(6) switch
            {
                0 => "text/plain",
                1 => "application/x-www-form-urlencoded",
                2 => "multipart/form-data; boundary=x",
                3 => "application/json; charset=latin1",
                4 => null,
                _ => "application/json",
            };
            if (type is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
            if (random.Next(20) == 0)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Encoding", "gzip");
            }
        }
        // Headers a browser, a proxy or an attacker might send.
        var headers = new (string Name, Func<string> Value)[]
        {
            ("Origin", () => random.Next(4) switch { 0 => "null", 1 => "https://evil.example", 2 => $"http://127.0.0.1:{port}", _ => Pick(random, Junk) }),
            ("Host", () => random.Next(3) switch { 0 => $"localhost:{port}", 1 => "rebind.evil.example", _ => $"[::1]:{port}" }),
            ("Authorization", () => random.Next(3) switch { 0 => "Bearer " + Pick(random, Junk), 1 => "Basic YTpi", _ => Pick(random, Junk) }),
            ("Accept", () => random.Next(2) == 0 ? "text/html" : "*/*;q=" + Pick(random, Junk)),
            ("X-Forwarded-For", () => Pick(random, Junk)),
            ("X-Forwarded-Proto", () => "javascript"),
            ("Sec-Fetch-Site", () => random.Next(2) == 0 ? "cross-site" : "same-origin"),
            ("If-None-Match", () => "\"" + Pick(random, Junk) + "\""),
            ("Range", () => "bytes=" + Pick(random, Junk)),
            ("Cookie", () => "a=" + Pick(random, Junk)),
            ("traceparent", () => Pick(random, Junk)),
            ("X-Long", () => new string('x', random.Next(1, 12_000))),
        };
        foreach (var (name, value) in headers)
        {
            if (random.Next(5) == 0)
            {
                if (name == "Host")
                {
                    request.Headers.Host = value();
                }
                else
                {
                    request.Headers.TryAddWithoutValidation(name, value());
                }
            }
        }
        return request;
    }

    private static byte[] Body(Random random, MalformedPayloads payloads, string path, int index)
    {
        switch (random.Next(4))
        {
            case 0:
                return payloads.Next().Body;
            case 1 when path.StartsWith("/schedules", StringComparison.Ordinal):
                // A schedule that may well be valid (its cron never fires during the test), with one member changed.
                var schedule = new JsonObject
                {
                    ["name"] = $"fuzz-{random.Next(20)}",
                    ["task_name"] = "dns.check_records",
                    ["cron"] = random.Next(3) == 0 ? Pick(random, Junk) : "0 3 1 1 *",
                    ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["www.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }) },
                };
                if (random.Next(2) == 0)
                {
                    schedule[Pick(random, ["name", "task_name", "cron", "time_zone", "queue", "webhook", "notify", "thresholds", "data"])] = Pick(random, Junk);
                }
                return Encoding.UTF8.GetBytes(schedule.ToJsonString());
            case 1:
            case 2:
                // A valid dns.check_records task (answered by the loopback DNS server), sometimes with one value changed.
                var task = new JsonObject
                {
                    ["task_name"] = "dns.check_records",
                    ["data"] = new JsonObject
                    {
                        ["args"] = new JsonArray(new JsonObject { ["www.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }),
                        ["kwargs"] = new JsonObject { ["timeout"] = 1 },
                    },
                };
                if (random.Next(2) == 0)
                {
                    var kwargs = task["data"]!["kwargs"]!.AsObject();
                    kwargs[Pick(random, ["timeout", "include_text", "record_type", "nameservers", "queue", "x"])] = Pick(random, Junk);
                }
                if (random.Next(4) == 0)
                {
                    task["queue"] = Pick(random, Junk);
                }
                return Encoding.UTF8.GetBytes(task.ToJsonString());
            default:
                var bytes = new byte[random.Next(0, 64)];
                random.NextBytes(bytes);
                return bytes;
        }
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];
}
