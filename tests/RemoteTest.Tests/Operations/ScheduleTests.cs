using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Engine;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Operations;

/// <summary>Schedules over HTTP: validation, storage, the engine's timer, firing, change and certificate alerts to a loopback receiver.</summary>
public sealed class ScheduleTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<ServiceHost> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["RemoteTest:Schedules:PollInterval"] = "00:00:01",
            ["RemoteTest:Webhooks:FirstRetryDelay"] = "00:00:00.05",
        };
        foreach (var (k, v) in settings ?? [])
        {
            all[k] = v;
        }
        return ServiceHost.StartAsync(all, TestTasks.Add);
    }

    private static JsonObject DnsSchedule(string name, string nameserver, string cron = "0 3 * * *", string? webhook = null, string? notify = null) => new()
    {
        ["name"] = name,
        ["task_name"] = "dns.check_records",
        ["cron"] = cron,
        ["time_zone"] = "Europe/Berlin",
        ["webhook"] = webhook,
        ["notify"] = notify,
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject
            {
                ["akixi.altvoip.com"] = new JsonObject
                {
                    ["original"] = new JsonArray("208.67.15.19"),
                    ["13056"] = new JsonArray("208.67.15.19", "208.67.15.18"),
                    ["13057"] = new JsonArray("208.67.15.18"),
                },
            }),
            ["kwargs"] = new JsonObject { ["timeout"] = 2, ["nameservers"] = new JsonArray(nameserver) },
        },
    };

    private static async Task<HttpResponseMessage> PostAsync(ServiceHost host, JsonObject body)
    {
        foreach (var key in body.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList())
        {
            body.Remove(key);
        }
        return await host.Http.PostAsJsonAsync("/schedules", body);
    }

    private static async Task<string> RunNowAsync(ServiceHost host, string name)
    {
        using var response = await host.Http.PostAsync($"/schedules/{name}/run", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
        Assert.Equal("SUCCESS", (await host.WaitAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    [Fact]
    public async Task Schedules_are_validated_created_listed_replaced_run_and_deleted()
    {
        await using var dns = DnsTestServer.Start().A("akixi.altvoip.com", "208.67.15.19");
        await using var host = await StartAsync();

        foreach (var (field, body) in new (string, JsonObject)[]
                 {
                     ("cron", DnsSchedule("a", dns.NameServer, cron: "61 * * * *")),
                     ("cron", DnsSchedule("a", dns.NameServer, cron: "* * *")),
                     ("time_zone", DnsSchedule("a", dns.NameServer).Also(o => o["time_zone"] = "Mars/Olympus")),
                     ("name", DnsSchedule("bad name!", dns.NameServer)),
                     ("task_name", DnsSchedule("a", dns.NameServer).Also(o => o["task_name"] = "nope.run")),
                     ("webhook", DnsSchedule("a", dns.NameServer, notify: "change")),
                     ("notify", DnsSchedule("a", dns.NameServer, webhook: "http://127.0.0.1:9/x", notify: "sometimes")),
                     ("thresholds", DnsSchedule("a", dns.NameServer).Also(o => o["thresholds"] = new JsonArray(-1))),
                     ("extra", DnsSchedule("a", dns.NameServer).Also(o => o["extra"] = 1)),
                 })
        {
            using var response = await PostAsync(host, body);
            var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}: {(int)response.StatusCode} {error}");
            Assert.StartsWith(field, error["field"]!.GetValue<string>());
        }

        using (var created = await PostAsync(host, DnsSchedule("migration", dns.NameServer, cron: "*/5 * * * *")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal("/schedules/migration", created.Headers.Location!.ToString());
            var body = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal("Europe/Berlin", body["time_zone"]!.GetValue<string>());
            Assert.NotNull(body["next_run"]);
        }
        using (var replaced = await PostAsync(host, DnsSchedule("migration", dns.NameServer, cron: "0 * * * *")))
        {
            Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        }
        var list = (await host.Http.GetFromJsonAsync<JsonObject>("/schedules"))!;
        Assert.Equal(1, list["count"]!.GetValue<int>());
        Assert.Equal("0 * * * *", list["schedules"]![0]!["cron"]!.GetValue<string>());

        // The next run is the cron's next occurrence in the schedule's time zone (what the engine's timer fires).
        var next = DateTimeOffset.Parse(list["schedules"]![0]!["next_run"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")).Minute);
        Assert.InRange(next - DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromHours(1));

        var id = await RunNowAsync(host, "migration");
        var one = (await host.Http.GetFromJsonAsync<JsonObject>("/schedules/migration"))!;
        Assert.Equal(id, one["last_runs"]![0]!["task_id"]!.GetValue<string>());
        Assert.Equal("original", one["last_outcome"]!["akixi.altvoip.com"]!.GetValue<string>());
        var task = (await host.Http.GetFromJsonAsync<JsonObject>($"/task/{id}"))!;
        Assert.Equal("migration", task["schedule"]!.GetValue<string>());

        using (var deleted = await host.Http.DeleteAsync("/schedules/migration"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        using (var gone = await host.Http.GetAsync("/schedules/migration"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        using (var again = await host.Http.DeleteAsync("/schedules/migration"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }
        using (var run = await host.Http.PostAsync("/schedules/migration/run", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, run.StatusCode);
        }
        // The past run stays in the history.
        Assert.Single((await host.Http.GetFromJsonAsync<JsonObject>("/task?schedule=migration"))!["tasks"]!.AsArray());
    }

    [Fact]
    public async Task A_seconds_cron_fires_by_itself()
    {
        await using var dns = DnsTestServer.Start().A("akixi.altvoip.com", "208.67.15.19");
        await using var host = await StartAsync();
        using (var created = await PostAsync(host, DnsSchedule("every-second", dns.NameServer, cron: "* * * * * *")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var runs = await Eventually.GetAsync(async () => (await host.Http.GetFromJsonAsync<JsonObject>("/task?schedule=every-second&state=SUCCESS"))!["tasks"]!.AsArray(),
            a => a.Count >= 2, Wait, "two fired runs");
        Assert.All(runs, r => Assert.Equal("dns.check_records", r!["task_name"]!.GetValue<string>()));
        using (await host.Http.DeleteAsync("/schedules/every-second"))
        {
        }
        var fired = (await host.Http.GetFromJsonAsync<JsonObject>("/schedules"))!;
        Assert.Equal(0, fired["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_occurrence_fired_by_several_nodes_runs_once()
    {
        await using var dns = DnsTestServer.Start().A("akixi.altvoip.com", "208.67.15.19");
        await using var host = await StartAsync();
        using (await PostAsync(host, DnsSchedule("once", dns.NameServer, cron: "0 0 1 1 *")))
        {
        }
        // Four "nodes" fire the same occurrence at once: the store lets exactly one of them submit.
        var schedules = host.Services.GetRequiredService<Schedules>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => schedules.FireAsync("once", CancellationToken.None))));
        var runs = (await host.Http.GetFromJsonAsync<JsonObject>("/task?schedule=once"))!["tasks"]!.AsArray();
        Assert.Single(runs);
    }

    [Fact]
    public async Task Schedules_survive_a_restart_and_are_registered_again_at_start()
    {
        var directory = Path.Combine(Path.GetTempPath(), "remotetest-sched-" + Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?> { ["RemoteTest:Storage:Kind"] = "embedded", ["RemoteTest:DataDirectory"] = directory };
        await using var dns = DnsTestServer.Start().A("akixi.altvoip.com", "208.67.15.19");
        try
        {
            await using (var first = await StartAsync(settings))
            {
                using var created = await PostAsync(first, DnsSchedule("kept", dns.NameServer, cron: "*/15 * * * *"));
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }
            await using var second = await StartAsync(settings);
            var kept = (await second.Http.GetFromJsonAsync<JsonObject>("/schedules/kept"))!;
            Assert.Equal("*/15 * * * *", kept["cron"]!.GetValue<string>());
            Assert.NotNull(kept["next_run"]);
            await RunNowAsync(second, "kept");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Change_notifications_post_only_when_the_dns_state_changes_with_a_summary()
    {
        await using var dns = DnsTestServer.Start().A("akixi.altvoip.com", "208.67.15.19");
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = await StartAsync(new() { ["RemoteTest:Webhooks:Secret"] = "s" });
        using (await PostAsync(host, DnsSchedule("migration", dns.NameServer, webhook: receiver.Url, notify: "change")))
        {
        }

        await RunNowAsync(host, "migration"); // first run: the baseline, nothing to compare with
        dns.A("akixi.altvoip.com", "208.67.15.19", "208.67.15.18");
        var changed = await RunNowAsync(host, "migration");
        await RunNowAsync(host, "migration"); // same state again: no post

        await receiver.WaitForAsync(1, Wait);
        // The unchanged third run has recorded its outcome by the time GET /schedules shows it; then nothing more may arrive.
        await Eventually.GetAsync(async () => (await host.Http.GetFromJsonAsync<JsonObject>("/task?schedule=migration"))!["tasks"]!.AsArray(),
            a => a.Count == 3 && a.All(t => t!["ready"]!.GetValue<bool>()), Wait, "three runs");
        var post = Assert.Single(receiver.Received).Json;
        Assert.Equal("change", post["event"]!.GetValue<string>());
        Assert.Equal("akixi.altvoip.com: original → 13056", post["summary"]!.GetValue<string>());
        Assert.Equal(changed, post["task_id"]!.GetValue<string>());
        Assert.Equal("migration", post["schedule"]!.GetValue<string>());
        var change = Assert.Single(post["changes"]!.AsArray())!;
        Assert.Equal("original", change["from"]!.GetValue<string>());
        Assert.Equal("13056", change["to"]!.GetValue<string>());
        Assert.Equal("13056", post["task"]!["result"]!["results"]!["akixi.altvoip.com"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Certificate_expiry_notifications_post_once_per_threshold_crossed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = await StartAsync();

        // The echo task returns a porttest-shaped result whose certificate has the given days left; replacing
        // the schedule keeps its outcome, as an operator's edit would.
        async Task RunWithDaysLeftAsync(double days)
        {
            using var saved = await PostAsync(host, new JsonObject
            {
                ["name"] = "certs",
                ["task_name"] = "test.echo",
                ["cron"] = "0 6 * * *",
                ["webhook"] = receiver.Url,
                ["notify"] = "cert_expiry",
                ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = PortResult(days) } },
            });
            Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());
            await RunNowAsync(host, "certs");
        }

        await RunWithDaysLeftAsync(30.5); // above every threshold (21, 14, 7)
        await RunWithDaysLeftAsync(20.5); // crosses 21
        await RunWithDaysLeftAsync(19.5); // still within 21: nothing new
        await RunWithDaysLeftAsync(13.5); // crosses 14
        await RunWithDaysLeftAsync(90.5); // renewed: levels reset, nothing to say
        await RunWithDaysLeftAsync(6.5);  // crosses 7 (and 21, 14 at once: the lowest is named)

        await receiver.WaitForAsync(3, Wait);
        await Eventually.GetAsync(async () => (await host.Http.GetFromJsonAsync<JsonObject>("/task?schedule=certs&state=SUCCESS"))!["count"]!.GetValue<int>(),
            n => n == 6, Wait, "six runs");
        var posts = receiver.Received.Select(r => r.Json).ToList();
        Assert.True(posts.Count == 3, string.Join("\n", posts.Select(p => p["summary"]?.ToString())));
        Assert.All(posts, p => Assert.Equal("cert_expiry", p["event"]!.GetValue<string>()));
        // Deliveries are jobs of their own and may arrive in any order.
        var bySummary = posts.ToDictionary(p => int.Parse(p["summary"]!.GetValue<string>().Split("below ")[1].Split(' ')[0]), p => p["summary"]!.GetValue<string>());
        Assert.Equal([7, 14, 21], bySummary.Keys.Order());
        Assert.StartsWith("adp50.example.test:443: certificate expires in 20 days (", bySummary[21]);
        Assert.StartsWith("adp50.example.test:443: certificate expires in 13 days (", bySummary[14]);
    }

    /// <summary>A porttest.run result as DESIGN.md describes it, for one TLS endpoint.</summary>
    internal static JsonObject PortResult(double daysLeft, string host = "adp50.example.test")
    {
        var notAfter = DateTimeOffset.UtcNow.AddDays(daysLeft);
        return new JsonObject
        {
            ["summary"] = new JsonObject { ["hosts"] = 1, ["ports_checked"] = 2 },
            ["results"] = new JsonObject
            {
                [host] = new JsonObject
                {
                    ["ports"] = new JsonObject
                    {
                        ["443"] = new JsonObject
                        {
                            ["open"] = true,
                            ["error"] = null,
                            ["connect_ms"] = 1.5,
                            ["tls"] = new JsonObject
                            {
                                ["loaded"] = true,
                                ["error"] = null,
                                ["not_after"] = notAfter.UtcDateTime.ToString("MMM d HH:mm:ss yyyy 'GMT'", System.Globalization.CultureInfo.InvariantCulture),
                                ["expires_utc"] = notAfter.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
                                ["days_left"] = Math.Floor(daysLeft),
                            },
                        },
                        ["5060"] = new JsonObject { ["open"] = false, ["error"] = "connection refused", ["error_kind"] = "refused" },
                    },
                    ["failed_ports"] = new JsonArray(5060),
                },
            },
        };
    }
}

internal static class JsonObjectExtensions
{
    public static JsonObject Also(this JsonObject o, Action<JsonObject> change)
    {
        change(o);
        return o;
    }
}
