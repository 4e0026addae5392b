using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Tests.Infrastructure;
using RemoteTest.Tests.Operations;

namespace RemoteTest.Tests.Security;

/// <summary>Schedules go through the per-owner limits of POST /task: saving, running now, firing, and their count.</summary>
public sealed class ScheduleLimitTests
{
    private static JsonObject Hang(string name, int port, string cron = "0 3 * * *") => new()
    {
        ["name"] = name,
        ["task_name"] = "test.hang",
        ["cron"] = cron,
        ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["port"] = port } },
    };

    private static Task<HttpResponseMessage> Send(ServiceHost host, HttpMethod method, string path, string token, JsonObject? body = null) =>
        host.Http.SendAsync(TestTokens.Request(method, path, token, body?.ToJsonString()));

    private static async Task<int> TasksOf(ServiceHost host, string token)
    {
        using var response = await Send(host, HttpMethod.Get, "/task?limit=100", token);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["tasks"]!.AsArray().Count;
    }

    [Fact]
    public async Task The_count_of_schedules_is_limited_per_owner_with_429_and_Retry_After()
    {
        var tokens = new TestTokens();
        await using var listener = new HoldingListener();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(new() { ["RemoteTest:Schedules:MaxSchedulesPerOwner"] = "2" }), TestTasks.Add);
        for (var i = 0; i < 2; i++)
        {
            using var ok = await Send(host, HttpMethod.Post, "/schedules", tokens.Alice, Hang($"alice-{i}", listener.Port));
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }
        using var third = await Send(host, HttpMethod.Post, "/schedules", tokens.Alice, Hang("alice-2", listener.Port));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        Assert.Equal("name", (await third.Content.ReadFromJsonAsync<JsonObject>())!["field"]!.GetValue<string>());
        using var bob = await Send(host, HttpMethod.Post, "/schedules", tokens.Bob, Hang("bob-0", listener.Port));
        Assert.Equal(HttpStatusCode.Created, bob.StatusCode);
    }

    [Fact]
    public async Task Saving_and_running_a_schedule_respect_the_owners_queue_limit()
    {
        var tokens = new TestTokens();
        await using var listener = new HoldingListener();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(new() { ["RemoteTest:Limits:MaxQueuedTasksPerToken"] = "1" }), TestTasks.Add);
        using (var saved = await Send(host, HttpMethod.Post, "/schedules", tokens.Alice, Hang("nightly", listener.Port)))
        {
            Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
        }
        using (var first = await Send(host, HttpMethod.Post, "/schedules/nightly/run", tokens.Alice))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }
        using var second = await Send(host, HttpMethod.Post, "/schedules/nightly/run", tokens.Alice);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.NotNull(second.Headers.RetryAfter);
        using var another = await Send(host, HttpMethod.Post, "/schedules", tokens.Alice, Hang("another", listener.Port));
        Assert.Equal(HttpStatusCode.TooManyRequests, another.StatusCode);
        Assert.Equal(1, await TasksOf(host, tokens.Alice));
    }

    [Fact]
    public async Task A_seconds_cron_does_not_queue_past_the_owners_limit()
    {
        var tokens = new TestTokens();
        await using var listener = new HoldingListener();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(new()
        {
            ["RemoteTest:Limits:MaxQueuedTasksPerToken"] = "1",
            ["RemoteTest:Schedules:PollInterval"] = "00:00:01",
        }), TestTasks.Add);
        using (var saved = await Send(host, HttpMethod.Post, "/schedules", tokens.Alice, Hang("flood", listener.Port, "* * * * * *")))
        {
            Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
        }
        await Eventually.GetAsync(() => TasksOf(host, tokens.Alice), n => n >= 1, TimeSpan.FromSeconds(20), "the first run");
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(1, await TasksOf(host, tokens.Alice));
        Assert.Contains(host.Logs.Lines, l => l.Contains("Schedule alice:flood") && l.Contains("skipped"));
    }
}
