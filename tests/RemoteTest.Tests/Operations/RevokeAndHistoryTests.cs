using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Operations;

/// <summary>DELETE /task/{id} and GET /task against real listeners: loopback TCP and DNS servers the tests start.</summary>
public sealed class RevokeAndHistoryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static JsonObject Hang(int port, string? token = null)
    {
        var kwargs = new JsonObject { ["port"] = port };
        if (token is not null)
        {
            kwargs["api_token"] = token;
        }
        return new JsonObject { ["task_name"] = "test.hang", ["data"] = new JsonObject { ["kwargs"] = kwargs } };
    }

    private static Task<ServiceHost> StartAsync(Dictionary<string, string?>? settings = null) =>
        ServiceHost.StartAsync(settings ?? new Dictionary<string, string?>(), TestTasks.Add);

    private static async Task<JsonObject> StatusAsync(ServiceHost host, string id) => (await host.Http.GetFromJsonAsync<JsonObject>($"/task/{id}"))!;

    [Fact]
    public async Task Revoking_a_running_task_closes_its_socket_and_shows_REVOKED_with_progress_and_dates_before()
    {
        await using var listener = new HoldingListener();
        await using var host = await StartAsync();
        var id = await host.SubmitAsync(Hang(listener.Port));
        var closed = await listener.NextConnectionAsync(Wait);

        // While STARTED: progress (one of two probes done), date_started and the worker are shown.
        var running = await Eventually.GetAsync(() => StatusAsync(host, id), s => s["progress"]?["done"]?.GetValue<int>() == 1, Wait, "progress 1 of 2");
        Assert.Equal("STARTED", running["state"]!.GetValue<string>());
        Assert.Equal(1, running["progress"]!["done"]!.GetValue<int>());
        Assert.Equal(2, running["progress"]!["total"]!.GetValue<int>());
        Assert.NotNull(running["date_started"]);
        Assert.NotNull(running["date_submitted"]);
        Assert.Null(running["date_done"]);
        Assert.False(string.IsNullOrEmpty(running["worker"]?.GetValue<string>()));
        Assert.False(closed.IsCompleted);

        using var revoke = await host.Http.DeleteAsync($"/task/{id}");
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var body = (await revoke.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("REVOKED", body["state"]!.GetValue<string>());
        Assert.True(body["ready"]!.GetValue<bool>());
        Assert.NotNull(body["date_done"]);

        // The cancellation reached the open socket: the peer sees the connection close.
        Assert.Same(closed, await Task.WhenAny(closed, Task.Delay(Wait)));
        var final = await host.WaitAsync(id);
        Assert.Equal("REVOKED", final["state"]!.GetValue<string>());
        Assert.Null(final["result"]);
        Assert.Contains("revoked", final["error"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        await Eventually.GetAsync(() => Task.FromResult(host.Logs.All), l => l.Contains($"Task {id} cancelled"), Wait, "the worker's cancellation");

        // A finished task cannot be revoked again: 409 with its state.
        using var again = await host.Http.DeleteAsync($"/task/{id}");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("REVOKED", (await again.Content.ReadFromJsonAsync<JsonObject>())!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_revoked_queued_task_never_runs()
    {
        await using var listener = new HoldingListener();
        // One worker slot: the first task holds it, so the second waits in the queue.
        await using var host = await StartAsync(new() { ["RemoteTest:Worker:Concurrency"] = "1" });
        var first = await host.SubmitAsync(Hang(listener.Port));
        var firstClosed = await listener.NextConnectionAsync(Wait);
        var queued = await host.SubmitAsync(Hang(listener.Port));
        Assert.Equal("PENDING", (await StatusAsync(host, queued))["state"]!.GetValue<string>());

        using (var r = await host.Http.DeleteAsync($"/task/{queued}"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        using (var r = await host.Http.DeleteAsync($"/task/{first}"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        await firstClosed;

        // The queue is FIFO with one slot: once a third task connects, the revoked one's job has been taken and skipped.
        var third = await host.SubmitAsync(Hang(listener.Port));
        await listener.NextConnectionAsync(Wait);
        Assert.Equal(2, listener.Accepted);
        var skipped = await StatusAsync(host, queued);
        Assert.Equal("REVOKED", skipped["state"]!.GetValue<string>());
        Assert.Null(skipped["date_started"]);
        Assert.Null(skipped["worker"]);
        using (var r = await host.Http.DeleteAsync($"/task/{third}"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
    }

    [Fact]
    public async Task A_task_revoked_through_the_store_by_another_node_is_cancelled_by_the_worker_poll()
    {
        await using var listener = new HoldingListener();
        await using var host = await StartAsync(new() { ["RemoteTest:Worker:RevocationPollInterval"] = "00:00:00.1" });
        var id = await host.SubmitAsync(Hang(listener.Port));
        var closed = await listener.NextConnectionAsync(Wait);

        // What an API node elsewhere does: write REVOKED to the shared store, without access to this process.
        var store = host.Services.GetRequiredService<ITaskStore>();
        Assert.Equal(RevokeOutcome.Revoked, await store.RevokeAsync(Guid.Parse(id), "{}", "TaskRevokedError: revoked by request", DateTimeOffset.UtcNow, CancellationToken.None));

        Assert.Same(closed, await Task.WhenAny(closed, Task.Delay(Wait)));
        await Eventually.GetAsync(() => Task.FromResult(host.Logs.All), l => l.Contains($"Task {id} revoked elsewhere"), Wait, "the watcher's log line");
        Assert.Equal("REVOKED", (await StatusAsync(host, id))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Revoking_a_dns_check_stuck_on_a_silent_server_ends_it_long_before_its_timeout()
    {
        await using var dns = DnsTestServer.Start().Silent("silent.example.test");
        await using var host = await StartAsync(new() { ["RemoteTest:Dns:DefaultNameservers:0"] = dns.NameServer });
        var id = await host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["silent.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }),
                ["kwargs"] = new JsonObject { ["timeout"] = 50 },
            },
        });
        await Eventually.GetAsync(() => Task.FromResult(dns.QueriesFor("silent.example.test")), n => n > 0, Wait, "the DNS query");
        var started = DateTime.UtcNow;
        using var revoke = await host.Http.DeleteAsync($"/task/{id}");
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var final = await host.WaitAsync(id);
        Assert.Equal("REVOKED", final["state"]!.GetValue<string>());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), "revoke must not wait for the 50 s timeout");
    }

    [Fact]
    public async Task Revoke_of_an_unknown_or_malformed_id_is_404_and_of_a_finished_task_409()
    {
        await using var host = await StartAsync();
        using (var r = await host.Http.DeleteAsync($"/task/{Guid.NewGuid()}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
        using (var r = await host.Http.DeleteAsync("/task/not-a-uuid"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
        var id = await host.SubmitAsync(new JsonObject { ["task_name"] = "test.echo", ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = new JsonObject { ["results"] = new JsonObject() } } } });
        Assert.Equal("SUCCESS", (await host.WaitAsync(id))["state"]!.GetValue<string>());
        using var conflict = await host.Http.DeleteAsync($"/task/{id}");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var body = (await conflict.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("SUCCESS", body["state"]!.GetValue<string>());
        Assert.Equal("SUCCESS", (await StatusAsync(host, id))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task History_is_newest_first_paged_filtered_and_masks_secrets()
    {
        await using var listener = new HoldingListener();
        await using var host = await StartAsync();
        var echoes = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            echoes.Add(await host.SubmitAsync(new JsonObject
            {
                ["task_name"] = "test.echo",
                ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = new JsonObject { ["n"] = i } } },
            }));
            // Submission times have millisecond resolution (ties are ordered by id): keep the five apart.
            await Task.Delay(5);
        }
        foreach (var id in echoes)
        {
            await host.WaitAsync(id);
        }
        var hanging = await host.SubmitAsync(Hang(listener.Port, token: "s3cret-value"));
        await listener.NextConnectionAsync(Wait);

        // Paging: 2 + 2 + 2 covers all six once, newest first.
        var seen = new List<string>();
        string? next = "/task?limit=2";
        for (var page = 0; next is not null && page < 10; page++)
        {
            var body = (await host.Http.GetFromJsonAsync<JsonObject>(next))!;
            var tasks = body["tasks"]!.AsArray();
            Assert.True(tasks.Count <= 2);
            Assert.Equal(tasks.Count, body["count"]!.GetValue<int>());
            seen.AddRange(tasks.Select(t => t!["task_id"]!.GetValue<string>()));
            next = body["next"]?.GetValue<string>();
        }
        Assert.Equal(6, seen.Count);
        Assert.Equal(hanging, seen[0]);
        Assert.Equal(echoes.AsEnumerable().Reverse(), seen.Skip(1));

        // Filters.
        var success = (await host.Http.GetFromJsonAsync<JsonObject>("/task?state=success&task_name=test.echo&include_result=true"))!["tasks"]!.AsArray();
        Assert.Equal(5, success.Count);
        Assert.All(success, t => Assert.NotNull(t!["result"]));
        var started = (await host.Http.GetFromJsonAsync<JsonObject>("/task?state=STARTED"))!["tasks"]!.AsArray();
        Assert.Equal(hanging, Assert.Single(started)!["task_id"]!.GetValue<string>());
        Assert.Empty((await host.Http.GetFromJsonAsync<JsonObject>("/task?queue=elsewhere"))!["tasks"]!.AsArray());
        Assert.Empty((await host.Http.GetFromJsonAsync<JsonObject>($"/task?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("o"))}"))!["tasks"]!.AsArray());
        Assert.Equal(6, (await host.Http.GetFromJsonAsync<JsonObject>($"/task?since={DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds()}"))!["tasks"]!.AsArray().Count);
        Assert.Empty((await host.Http.GetFromJsonAsync<JsonObject>($"/task?until={DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds()}"))!["tasks"]!.AsArray());
        var window = $"since={DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds()}&until={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("o"))}";
        Assert.Equal(6, (await host.Http.GetFromJsonAsync<JsonObject>($"/task?{window}"))!["tasks"]!.AsArray().Count);
        Assert.Null((await host.Http.GetFromJsonAsync<JsonObject>("/task"))!["tasks"]![1]!["result"]);

        // Secrets: never in the listing, not even while the task runs (stored encrypted, shown masked).
        var raw = await host.Http.GetStringAsync("/task?state=STARTED");
        Assert.DoesNotContain("s3cret-value", raw);
        Assert.Equal("******", JsonNode.Parse(raw)!["tasks"]![0]!["args"]!["api_token"]!.GetValue<string>());

        foreach (var bad in new[] { "state=DONE", "limit=0", "limit=501", "limit=x", "since=yesterday", "until=tomorrow", "cursor=abc" })
        {
            using var response = await host.Http.GetAsync($"/task?{bad}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(bad.Split('=')[0], (await response.Content.ReadFromJsonAsync<JsonObject>())!["field"]!.GetValue<string>());
        }
        using (await host.Http.DeleteAsync($"/task/{hanging}"))
        {
        }
    }

    [Fact]
    public async Task Every_state_change_is_one_task_event()
    {
        await using var listener = new HoldingListener();
        await using var host = await StartAsync();
        var echo = await host.SubmitAsync(new JsonObject { ["task_name"] = "test.echo", ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = new JsonObject() } } });
        await host.WaitAsync(echo);
        var hang = await host.SubmitAsync(Hang(listener.Port));
        await listener.NextConnectionAsync(Wait);
        using (await host.Http.DeleteAsync($"/task/{hang}"))
        {
        }

        string[] Events(string id) => host.Logs.Lines.Where(l => l.Contains("RemoteTest.TaskEvents:") && l.Contains($"Task {id} ")).ToArray();
        var echoEvents = await Eventually.GetAsync(() => Task.FromResult(Events(echo)), e => e.Length >= 3, Wait, "three events");
        Assert.Equal(3, echoEvents.Length);
        Assert.Contains("PENDING (test.echo, queue default)", echoEvents[0]);
        Assert.Contains("STARTED (test.echo, queue default) on ", echoEvents[1]);
        Assert.Contains("SUCCESS (test.echo, queue default) on ", echoEvents[2]);
        var hangEvents = Events(hang);
        Assert.Equal(["PENDING", "STARTED", "REVOKED"], hangEvents.Select(e => e.Split(' ')[4]));
    }
}
