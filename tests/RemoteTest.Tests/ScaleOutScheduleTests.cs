using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>
/// A schedule on a cluster (two API nodes, two workers, separate processes on real PostgreSQL and RabbitMQ):
/// every node's timer sees it due, yet each occurrence runs once.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ScaleOutScheduleTests(ServersFixture servers)
{
    [SkippableFact]
    public async Task A_seconds_schedule_fires_once_per_occurrence_across_nodes()
    {
        await using var dns = DnsTestServer.Start().A("up.test", "192.0.2.10");
        await using var cluster = await TestCluster.CreateAsync(servers, dns.NameServer);
        var fast = new Dictionary<string, string> { ["RemoteTest:Schedules:PollInterval"] = "00:00:01" };
        var api = await cluster.StartApiAsync(fast);
        var second = await cluster.StartApiAsync(fast);
        await cluster.StartWorkerAsync("w1", "Frankfurt", ["default"], fast);
        await cluster.StartWorkerAsync("w2", "Dallas", ["default"], fast);
        await TestCluster.WaitForWorkersAsync(api.Http, "w1", "w2");

        const int PeriodSeconds = 2;
        var body = new JsonObject
        {
            ["name"] = "every-2s",
            ["task_name"] = "dns.check_records",
            ["cron"] = $"*/{PeriodSeconds} * * * * *",
            ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["up.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.10") } }) },
        };
        var created = DateTimeOffset.UtcNow;
        using (var response = await api.Http.PostAsJsonAsync("/schedules", body))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        // The other API node sees the same schedule: it lives in the shared store.
        Assert.Equal("every-2s", (await second.Http.GetFromJsonAsync<JsonObject>("/schedules/every-2s"))!["name"]!.GetValue<string>());

        var runs = await Eventually.GetAsync(
            async () => (await api.Http.GetFromJsonAsync<JsonObject>("/task?schedule=every-2s&limit=500"))!["tasks"]!.AsArray(),
            r => r.Count >= 4, TimeSpan.FromSeconds(90), "four runs of the schedule");
        using (var deleted = await second.Http.DeleteAsync("/schedules/every-2s"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        var elapsed = DateTimeOffset.UtcNow - created;
        var submitted = (await api.Http.GetFromJsonAsync<JsonObject>("/task?schedule=every-2s&limit=500"))!["tasks"]!.AsArray()
            .Select(t => DateTimeOffset.Parse(t!["date_submitted"]!.GetValue<string>(), CultureInfo.InvariantCulture)).Order().ToList();

        // Once per node would give about four runs per occurrence; once per occurrence gives at most one per period
        // (plus the one due at creation). Two runs of one occurrence would be submitted moments apart.
        Assert.True(submitted.Count <= (int)(elapsed.TotalSeconds / PeriodSeconds) + 2,
            $"{submitted.Count} runs in {elapsed.TotalSeconds:0.0} s\n{cluster.Output}");
        var gaps = submitted.Zip(submitted.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
        Assert.True(gaps.All(g => g >= 0.5), $"runs too close together: {string.Join(", ", gaps.Select(g => g.ToString("0.000", CultureInfo.InvariantCulture)))}");
    }
}
