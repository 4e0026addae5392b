using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using RabbitMQ.Client;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>
/// Many nodes as separate processes on real PostgreSQL and RabbitMQ: vantage-point queues, fan-out groups,
/// and crash safety — a SIGKILLed worker, an API node killed under load or between insert and publish, the
/// database or the broker restarted under load, a worker stopped with SIGTERM, revocation across nodes.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ScaleOutTests(ServersFixture servers) : IAsyncLifetime
{
    private DnsTestServer _dns = null!;

    public Task InitializeAsync()
    {
        _dns = DnsTestServer.Start().A("up.test", "192.0.2.10");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private static JsonObject Check(string domain, double timeout, string? queue = null, JsonNode? queues = null)
    {
        var payload = new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { [domain] = new JsonObject { ["original"] = new JsonArray("192.0.2.10") } }),
                ["kwargs"] = new JsonObject { ["timeout"] = timeout },
            },
        };
        if (queue is not null)
        {
            payload["queue"] = queue;
        }
        if (queues is not null)
        {
            payload["queues"] = queues;
        }
        return payload;
    }

    /// <summary>
    /// Four clients each submitting a task every 20 ms (2,000 at most) until <paramref name="stop"/>; the ids of every
    /// 202 they got. A refused submission (a backend down) is not counted: only a 202 is a promise.
    /// </summary>
    private static (Task Load, System.Collections.Concurrent.ConcurrentBag<string> Accepted) SubmitUntil(HttpClient api, CancellationToken stop)
    {
        var accepted = new System.Collections.Concurrent.ConcurrentBag<string>();
        async Task Client()
        {
            for (var i = 0; i < 2000 && !stop.IsCancellationRequested; i++)
            {
                var (status, body) = await PostAsync(api, Check("up.test", 2));
                if (status == HttpStatusCode.Accepted)
                {
                    accepted.Add(body["task_id"]!.GetValue<string>());
                }
                await Task.Delay(20);
            }
        }
        return (Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Client())), accepted);
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(HttpClient api, JsonObject payload)
    {
        using var response = await api.PostAsync("/task", new StringContent(payload.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        // A 5xx during an outage may carry no JSON at all.
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : new JsonObject { ["raw"] = text });
    }

    private static async Task<string> SubmitAsync(HttpClient api, JsonObject payload)
    {
        var (status, body) = await PostAsync(api, payload);
        Assert.True(status == HttpStatusCode.Accepted, $"expected 202, got {(int)status}: {body.ToJsonString()}");
        return body["task_id"]!.GetValue<string>();
    }

    /// <summary>Upper bound of every wait: generous, because other builds may load the machine.</summary>
    private static TimeSpan Bound => TimeSpan.FromSeconds(90);

    [SkippableFact]
    public async Task Tasks_run_only_on_their_queue_and_a_fan_out_shows_each_location_side_by_side()
    {
        // Two vantage points that see different DNS: Frankfurt's resolver answers .10, Dallas's answers .20.
        await using var dallasDns = DnsTestServer.Start().A("up.test", "192.0.2.20");
        await using var cluster = await TestCluster.CreateAsync(servers, _dns.NameServer);
        var api = await cluster.StartApiAsync();
        var lenient = await cluster.StartApiAsync(new Dictionary<string, string> { ["RemoteTest:Cluster:AllowQueuesWithoutWorkers"] = "true" });
        await cluster.StartWorkerAsync("fra-1", "Frankfurt", ["fra"]);
        await cluster.StartWorkerAsync("dfw-1", "Dallas", ["dfw"], new Dictionary<string, string> { ["RemoteTest:Dns:DefaultNameservers:0"] = dallasDns.NameServer });

        var workers = await TestCluster.WaitForWorkersAsync(api.Http, "dfw-1", "fra-1");
        var dfw = workers["workers"]!.AsArray().Single(w => w!["name"]!.GetValue<string>() == "dfw-1")!;
        Assert.Equal("Dallas", dfw["location"]!.GetValue<string>());
        Assert.Equal(["dfw"], dfw["queues"]!.AsArray().Select(q => q!.GetValue<string>()));
        Assert.NotNull(dfw["last_heartbeat"]);
        Assert.Equal("fra-1", workers["queues"]!["fra"]![0]!.GetValue<string>());

        // A task for queue dfw never runs on fra-1: every one is stamped by the Dallas worker and sees its DNS.
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await SubmitAsync(api.Http, Check("up.test", 2, queue: "dfw")));
        }
        foreach (var id in ids)
        {
            var status = await TestCluster.WaitForStateAsync(api.Http, id, "SUCCESS", Bound);
            Assert.Equal("dfw-1", status["worker"]!.GetValue<string>());
            Assert.Equal("dfw", status["queue"]!.GetValue<string>());
            var summary = status["result"]!["summary"]!;
            Assert.Equal("dfw-1", summary["worker"]!.GetValue<string>());
            Assert.Equal("Dallas", summary["location"]!.GetValue<string>());
            Assert.Equal("192.0.2.20", status["result"]!["results"]!["up.test"]!["retrieved"]![0]!.GetValue<string>());
        }

        // No live worker serves "sin": refused, and nothing is stored; unless the node allows waiting for one.
        var (unknown, error) = await PostAsync(api.Http, Check("up.test", 2, queue: "sin"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Equal("queue", error["field"]!.GetValue<string>());
        Assert.Contains("dfw, fra", error["error"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(api.Http, Check("up.test", 2, queues: new JsonArray("fra", "sin")))).Status);

        // Fan-out: one child per queue, side by side, with what the locations saw differently.
        var (accepted, group) = await PostAsync(api.Http, Check("up.test", 2, queues: new JsonArray("fra", "dfw")));
        Assert.Equal(HttpStatusCode.Accepted, accepted);
        var groupId = group["task_id"]!.GetValue<string>();
        Assert.Equal(["dfw", "fra"], group["tasks"]!.AsObject().Select(kv => kv.Key).Order());
        var done = await TestCluster.WaitForStateAsync(api.Http, groupId, "SUCCESS", Bound);
        Assert.True(done["group"]!.GetValue<bool>());
        Assert.Equal("finished", done["children"]!["fra"]!["status"]!.GetValue<string>());
        Assert.Equal("Frankfurt", done["children"]!["fra"]!["location"]!.GetValue<string>());
        Assert.Equal("Dallas", done["children"]!["dfw"]!["location"]!.GetValue<string>());
        Assert.Equal(group["tasks"]!["fra"]!.GetValue<string>(), done["children"]!["fra"]!["task_id"]!.GetValue<string>());
        var retrieved = done["differences"]!.AsArray().Single(d => d!["path"]!.AsArray().Select(p => p!.GetValue<string>()).SequenceEqual(["results", "up.test", "retrieved"]))!;
        Assert.Equal("192.0.2.10", retrieved["values"]!["fra"]![0]!.GetValue<string>());
        Assert.Equal("192.0.2.20", retrieved["values"]!["dfw"]![0]!.GetValue<string>());
        Assert.DoesNotContain(done["differences"]!.AsArray(), d => d!["path"]!.AsArray().Any(p => p!.GetValue<string>() is "duration_sec" or "worker" or "location"));
        // Each child is an ordinary task too.
        Assert.Equal("SUCCESS", (await api.Http.GetFromJsonAsync<JsonObject>($"/task/{group["tasks"]!["dfw"]}"))!["state"]!.GetValue<string>());

        // "*" reaches every live queue.
        var (_, all) = await PostAsync(api.Http, Check("up.test", 2, queues: "*"));
        Assert.Equal(["dfw", "fra"], all["tasks"]!.AsObject().Select(kv => kv.Key).Order());
        await TestCluster.WaitForStateAsync(api.Http, all["task_id"]!.GetValue<string>(), "SUCCESS", Bound);

        // A queue no worker ever declared is refused by the broker (mandatory publish), even on a lenient node.
        var (undeclared, refusal) = await PostAsync(lenient.Http, Check("up.test", 2, queue: "never"));
        Assert.Equal(HttpStatusCode.BadRequest, undeclared);
        Assert.Equal("queue", refusal["field"]!.GetValue<string>());
        Assert.Contains("'never'", refusal["error"]!.GetValue<string>());
        // Refused before anything is stored: no FAILURE row is left behind for it.
        var stored = await lenient.Http.GetFromJsonAsync<JsonObject>("/task?queue=never");
        Assert.Empty(stored!["tasks"]!.AsArray());

        // A lenient node accepts a queue whose worker is gone (it declared the queue): that child waits, shown
        // "offline", the others finish.
        var sin = await cluster.StartWorkerAsync("sin-1", "Singapore", ["sin"]);
        await TestCluster.WaitForWorkersAsync(api.Http, "dfw-1", "fra-1", "sin-1");
        await sin.TerminateAsync(TimeSpan.FromSeconds(30));
        await TestCluster.WaitForWorkersAsync(api.Http, "dfw-1", "fra-1");
        var (waiting, partial) = await PostAsync(lenient.Http, Check("up.test", 2, queues: new JsonArray("fra", "sin")));
        Assert.Equal(HttpStatusCode.Accepted, waiting);
        var partialId = partial["task_id"]!.GetValue<string>();
        await TestCluster.WaitForStateAsync(api.Http, partial["tasks"]!["fra"]!.GetValue<string>(), "SUCCESS", Bound);
        var view = (await api.Http.GetFromJsonAsync<JsonObject>($"/task/{partialId}"))!;
        Assert.Equal("STARTED", view["state"]!.GetValue<string>());
        Assert.False(view["ready"]!.GetValue<bool>());
        Assert.Equal("offline", view["children"]!["sin"]!["status"]!.GetValue<string>());
        Assert.Equal(1, view["summary"]!["offline"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("10001")]
    public void A_thread_pool_minimum_outside_its_range_stops_the_start_naming_the_setting(string value)
    {
        var ex = Assert.Throws<StartupException>(() => Program.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?> { ["RemoteTest:Storage:Kind"] = "memory", ["RemoteTest:Cluster:MinThreads"] = value })));
        Assert.Contains($"RemoteTest:Cluster:MinThreads: {value} is outside 0-10000", ex.Message);
    }

    [SkippableFact]
    public async Task A_task_of_a_SIGKILLed_worker_is_finished_by_another_worker_within_seconds_with_one_stored_result()
    {
        _dns.Silent("hold.test");
        await using var cluster = await TestCluster.CreateAsync(servers, _dns.NameServer);
        // Heartbeats expire only after a minute here: a finish within seconds comes from the broker's redelivery.
        var slowSweep = new Dictionary<string, string> { ["RemoteTest:Cluster:WorkerTimeout"] = "00:01:00" };
        var api = await cluster.StartApiAsync(slowSweep);
        var one = await cluster.StartWorkerAsync("w1", "Frankfurt", ["default"], slowSweep);
        var two = await cluster.StartWorkerAsync("w2", "Frankfurt", ["default"], slowSweep);
        await TestCluster.WaitForWorkersAsync(api.Http, "w1", "w2");

        var id = await SubmitAsync(api.Http, Check("hold.test", 30));
        var running = await TestCluster.WaitForStateAsync(api.Http, id, "STARTED", Bound);
        var victim = running["worker"]!.GetValue<string>();
        // The worker's heartbeat reports the task it runs.
        await Eventually.GetAsync(async () => (await api.Http.GetFromJsonAsync<JsonObject>("/workers"))!["workers"]!.AsArray(),
            ws => ws.Any(w => w!["name"]!.GetValue<string>() == victim && w["running"]!.GetValue<int>() == 1
                && w["running_tasks"]!.AsArray().Any(t => t!.GetValue<string>() == id)), Bound, $"{victim} to report {id} running");
        var (killed, survivor, survivorName) = victim == "w1" ? (one, two, "w2") : (two, one, "w1");
        var killedAt = DateTime.UtcNow;
        await killed.KillAsync();
        _dns.Unsilence("hold.test").A("hold.test", "192.0.2.10");

        var done = await TestCluster.WaitForStateAsync(api.Http, id, "SUCCESS", Bound);
        var took = DateTime.UtcNow - killedAt;
        Assert.True(done["worker"]!.GetValue<string>() == survivorName, cluster.Output);
        Assert.True(took < TimeSpan.FromSeconds(10), $"finished {took.TotalSeconds:0.0} s after the kill\n{cluster.Output}");
        Assert.Equal("original", done["result"]!["results"]!["hold.test"]!["state"]!.GetValue<string>());
        // Exactly one run stored its result: the survivor's, once. (Its log line may trail the stored state.)
        var line = $"Task {id} SUCCESS (dns.check_records, queue default)";
        for (var i = 0; i < 100 && Occurrences(survivor.Output, line) == 0; i++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(1, Occurrences(survivor.Output, line));
        Assert.Equal(0, Occurrences(killed.Output, line));
    }

    [SkippableFact]
    public async Task Every_task_accepted_by_an_API_node_killed_under_load_completes()
    {
        await using var cluster = await TestCluster.CreateAsync(servers, _dns.NameServer);
        var doomed = await cluster.StartApiAsync();
        var other = await cluster.StartApiAsync();
        await cluster.StartWorkerAsync("w1", "Frankfurt", ["default"], new Dictionary<string, string> { ["RemoteTest:Worker:Concurrency"] = "16" });
        await TestCluster.WaitForWorkersAsync(other.Http, "w1");

        var accepted = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        async Task Load()
        {
            for (var i = 0; i < 500 && !stop.IsCancellationRequested; i++)
            {
                try
                {
                    using var response = await doomed.Http.PostAsync("/task",
                        new StringContent(Check("up.test", 5).ToJsonString(), System.Text.Encoding.UTF8, "application/json"), stop.Token);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        accepted.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync(stop.Token))!["task_id"]!.GetValue<string>());
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                {
                    return;   // the node is gone: whatever had no 202 was never promised
                }
            }
        }
        var load = Enumerable.Range(0, 8).Select(_ => Load()).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (accepted.Count < 60 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        await doomed.KillAsync();
        await Task.WhenAll(load);
        Assert.True(accepted.Count >= 60, $"only {accepted.Count} tasks accepted before the kill");

        foreach (var id in accepted)
        {
            await TestCluster.WaitForStateAsync(other.Http, id, "SUCCESS", Bound);
        }
    }

    [SkippableFact]
    public async Task Nodes_reconnect_by_themselves_after_PostgreSQL_restarts_and_every_task_accepted_under_load_ends_SUCCESS()
    {
        Skip.If(TestServers.Skipped, TestServers.SkipReason);
        await using var pg = await PostgresServer.StartAsync();
        await using var cluster = TestCluster.Create(await pg.CreateDatabaseAsync(), (await servers.RabbitMqAsync()).ConnectionString, _dns.NameServer);
        var api = await cluster.StartApiAsync();
        await cluster.StartWorkerAsync("w1", "Frankfurt", ["default"]);
        await TestCluster.WaitForWorkersAsync(api.Http, "w1");
        await TestCluster.WaitForStateAsync(api.Http, await SubmitAsync(api.Http, Check("up.test", 2)), "SUCCESS", Bound);

        // Under load: clients keep submitting while the database stops and starts again; every 202 ends SUCCESS.
        using var stop = new CancellationTokenSource();
        var (load, accepted) = SubmitUntil(api.Http, stop.Token);
        await Task.Delay(1000);
        await pg.StopAsync();
        // While the database is down nothing is accepted: a 202 would be a promise the store cannot keep.
        var (during, _) = await PostAsync(api.Http, Check("up.test", 2));
        Assert.NotEqual(HttpStatusCode.Accepted, during);
        await pg.StartAgainAsync();

        var id = await SubmitWhenBackAsync(api.Http);
        await Task.Delay(1000);
        await stop.CancelAsync();
        await load;
        Assert.True(accepted.Count >= 20, $"only {accepted.Count} tasks accepted");
        await TestCluster.WaitForStateAsync(api.Http, id, "SUCCESS", Bound);
        foreach (var task in accepted)
        {
            await TestCluster.WaitForStateAsync(api.Http, task, "SUCCESS", Bound);
        }
        await TestCluster.WaitForWorkersAsync(api.Http, "w1");
        Assert.All(cluster.Nodes, n => Assert.False(n.HasExited, n.Output));
    }

    [SkippableFact]
    public async Task Every_task_accepted_while_RabbitMQ_restarts_under_load_ends_SUCCESS_and_queued_tasks_survive()
    {
        Skip.If(TestServers.Skipped, TestServers.SkipReason);
        await using var broker = await RabbitMqServer.StartAsync();
        await using var cluster = TestCluster.Create(await (await servers.PostgresAsync()).CreateDatabaseAsync(), broker.ConnectionString, _dns.NameServer);
        // Lenient: it accepts a task while no worker is up, which this test needs. The reconciler looks soon.
        var fast = new Dictionary<string, string> { ["RemoteTest:Cluster:RequeuePendingAfter"] = "00:00:05" };
        var api = await cluster.StartApiAsync(new Dictionary<string, string>(fast) { ["RemoteTest:Cluster:AllowQueuesWithoutWorkers"] = "true" });
        var worker = await cluster.StartWorkerAsync("w1", "Frankfurt", ["default"], fast);
        await TestCluster.WaitForWorkersAsync(api.Http, "w1");
        await TestCluster.WaitForStateAsync(api.Http, await SubmitAsync(api.Http, Check("up.test", 2)), "SUCCESS", Bound);

        // Queue a task with no worker to take it, restart the broker, then bring a worker: the quorum queue kept it.
        await worker.TerminateAsync(TimeSpan.FromSeconds(30));
        await TestCluster.WaitForWorkersAsync(api.Http);
        var queued = await SubmitAsync(api.Http, Check("up.test", 2));
        await broker.StopAsync();
        await broker.StartAgainAsync();
        await cluster.StartWorkerAsync("w2", "Frankfurt", ["default"], fast);
        await TestCluster.WaitForStateAsync(api.Http, queued, "SUCCESS", Bound);

        // Under load: clients keep submitting while the broker stops and starts again; every 202 ends SUCCESS.
        using var stop = new CancellationTokenSource();
        var (load, accepted) = SubmitUntil(api.Http, stop.Token);
        await Task.Delay(1000);
        await broker.StopAsync();
        await Task.Delay(2000);
        await broker.StartAgainAsync();
        await Task.Delay(3000);
        await stop.CancelAsync();
        await load;
        Assert.True(accepted.Count >= 20, $"only {accepted.Count} tasks accepted");
        foreach (var id in accepted)
        {
            await TestCluster.WaitForStateAsync(api.Http, id, "SUCCESS", Bound);
        }
        Assert.All(cluster.Nodes.Where(n => n.Pid != worker.Pid), n => Assert.False(n.HasExited, n.Output));
    }

    [SkippableFact]
    public async Task A_consumer_channel_closed_by_the_broker_for_a_long_unacknowledged_task_is_rebuilt_and_the_task_ends_once()
    {
        Skip.If(TestServers.Skipped, TestServers.SkipReason);
        _dns.Silent("long.test");
        // consumer_timeout far below the task's run time: the pitfall of acks_late with the broker's default 30 min.
        await using var broker = await RabbitMqServer.StartAsync(consumerTimeout: TimeSpan.FromSeconds(3));
        await using var cluster = TestCluster.Create(await (await servers.PostgresAsync()).CreateDatabaseAsync(), broker.ConnectionString, _dns.NameServer);
        var api = await cluster.StartApiAsync();
        var worker = await cluster.StartWorkerAsync("w1", "Frankfurt", ["default"]);
        await TestCluster.WaitForWorkersAsync(api.Http, "w1");

        // A task that holds its message for about 8 s: the broker closes the consumer channel after ~3-4 s.
        var id = await SubmitAsync(api.Http, Check("long.test", 8));
        await TestCluster.WaitForStateAsync(api.Http, id, "STARTED", Bound);
        await Eventually.GetAsync(() => Task.FromResult(worker.Output), o => o.Contains("RabbitMQ closed the consumer channel"), Bound, "the worker to see its channel closed");

        // The worker opened a new channel: the next task runs while the long one still does; the long one ends once.
        var next = await SubmitAsync(api.Http, Check("up.test", 2));
        await TestCluster.WaitForStateAsync(api.Http, next, "SUCCESS", Bound);
        var done = await TestCluster.WaitForStateAsync(api.Http, id, "SUCCESS", Bound);
        Assert.Equal("timeout", done["result"]!["results"]!["long.test"]!["error_kind"]!.GetValue<string>());
        await Task.Delay(1000);
        Assert.Equal(1, Occurrences(cluster.Output, $"Task {id} STARTED"));
        Assert.Equal(1, Occurrences(cluster.Output, $"Task {id} SUCCESS"));
    }

    [SkippableFact]
    public async Task A_revoke_on_the_API_node_cancels_the_task_running_on_a_worker_within_a_second()
    {
        _dns.Silent("hold.test");
        await using var cluster = await TestCluster.CreateAsync(servers, _dns.NameServer);
        var api = await cluster.StartApiAsync();
        // The store poll is slowed to a minute: only the broadcast can reach the worker within a second.
        var worker = await cluster.StartWorkerAsync("w1", "Frankfurt", ["default"], new Dictionary<string, string> { ["RemoteTest:Worker:RevocationPollInterval"] = "00:01:00" });
        await TestCluster.WaitForWorkersAsync(api.Http, "w1");
        var id = await SubmitAsync(api.Http, Check("hold.test", 30));
        await TestCluster.WaitForStateAsync(api.Http, id, "STARTED", Bound);

        var line = $"Task {id} revoked elsewhere; cancelled here";
        var revokedAt = DateTime.UtcNow;
        using (var revoked = await api.Http.DeleteAsync($"/task/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }
        while (!worker.Output.Contains(line) && DateTime.UtcNow - revokedAt < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }
        var took = DateTime.UtcNow - revokedAt;
        Assert.True(worker.Output.Contains(line), worker.Output);
        Assert.True(took < TimeSpan.FromSeconds(1), $"cancelled {took.TotalMilliseconds:0} ms after the revoke");
        Assert.Equal("REVOKED", (await api.Http.GetFromJsonAsync<JsonObject>($"/task/{id}"))!["state"]!.GetValue<string>());
        // The worker is free again: the next task runs.
        await TestCluster.WaitForStateAsync(api.Http, await SubmitAsync(api.Http, Check("up.test", 2)), "SUCCESS", Bound);
    }

    [SkippableFact]
    public async Task SIGTERM_lets_a_running_task_finish_within_the_grace_period_or_hands_it_back()
    {
        _dns.Silent("slow.test").Silent("hold.test");
        await using var cluster = await TestCluster.CreateAsync(servers, _dns.NameServer);
        var api = await cluster.StartApiAsync();
        var patient = await cluster.StartWorkerAsync("patient", "Frankfurt", ["default"], new Dictionary<string, string> { ["RemoteTest:Worker:ShutdownGrace"] = "00:00:20" });
        await TestCluster.WaitForWorkersAsync(api.Http, "patient");

        // Within the grace period: the task finishes on the stopping worker (a 3 s DNS timeout is a result).
        var quick = await SubmitAsync(api.Http, Check("slow.test", 3));
        await TestCluster.WaitForStateAsync(api.Http, quick, "STARTED", Bound);
        await patient.TerminateAsync(TimeSpan.FromSeconds(30));
        var finished = await TestCluster.WaitForStateAsync(api.Http, quick, "SUCCESS", Bound);
        Assert.Equal("patient", finished["worker"]!.GetValue<string>());
        Assert.Equal("timeout", finished["result"]!["results"]!["slow.test"]!["error_kind"]!.GetValue<string>());

        // Longer than the grace period: handed back to the queue at once, and another worker finishes it.
        var hasty = await cluster.StartWorkerAsync("hasty", "Frankfurt", ["default"], new Dictionary<string, string> { ["RemoteTest:Worker:ShutdownGrace"] = "00:00:01" });
        await TestCluster.WaitForWorkersAsync(api.Http, "hasty");
        var held = await SubmitAsync(api.Http, Check("hold.test", 40));
        await TestCluster.WaitForStateAsync(api.Http, held, "STARTED", Bound);
        var stopping = DateTime.UtcNow;
        await hasty.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.True(DateTime.UtcNow - stopping < TimeSpan.FromSeconds(20), "the worker did not stop within its grace period");
        Assert.Equal("PENDING", (await api.Http.GetFromJsonAsync<JsonObject>($"/task/{held}"))!["state"]!.GetValue<string>());
        Assert.Contains("handed back", hasty.Output);

        _dns.Unsilence("hold.test").A("hold.test", "192.0.2.10");
        await cluster.StartWorkerAsync("next", "Frankfurt", ["default"]);
        var done = await TestCluster.WaitForStateAsync(api.Http, held, "SUCCESS", Bound);
        Assert.Equal("next", done["worker"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task A_task_stored_but_never_published_is_finished_a_task_with_two_messages_runs_once_and_a_finished_tasks_message_is_dropped()
    {
        _dns.Silent("hold.test");
        await using var cluster = await TestCluster.CreateAsync(servers, _dns.NameServer);
        var api = await cluster.StartApiAsync();
        await cluster.StartWorkerAsync("w1", "Frankfurt", ["default"], new Dictionary<string, string>
        {
            ["RemoteTest:Cluster:RequeuePendingAfter"] = "00:00:01",
            ["RemoteTest:Worker:Concurrency"] = "2",
        });
        await TestCluster.WaitForWorkersAsync(api.Http, "w1");
        var first = await SubmitAsync(api.Http, Check("up.test", 2));
        await TestCluster.WaitForStateAsync(api.Http, first, "SUCCESS", Bound);

        // The API node died between its INSERT and the publish: a PENDING row and no message anywhere.
        await using var source = PostgresServices.CreateDataSource(cluster.ConnectionString);
        var store = new PostgresTaskStore(source, TestCluster.WorkerTimeout);
        var template = (await store.GetAsync(Guid.Parse(first), CancellationToken.None))!;
        var stranded = TaskRecord.New(template.TaskName, template.Queue, template.Arguments, template.Owner, DateTimeOffset.UtcNow);
        await store.InsertAsync(stranded, CancellationToken.None);
        var done = await TestCluster.WaitForStateAsync(api.Http, stranded.Id.ToString(), "SUCCESS", Bound);
        Assert.Equal("w1", done["worker"]!.GetValue<string>());
        Assert.Contains("Published again 1 tasks PENDING", cluster.Output);

        // A task with two messages (a sweep's extra one, a redelivery) waiting behind two busy slots: when both slots
        // free up at once the same worker takes both, and the task still runs once.
        var busy = new[] { await SubmitAsync(api.Http, Check("hold.test", 10)), await SubmitAsync(api.Http, Check("hold.test", 10)) };
        foreach (var id in busy)
        {
            await TestCluster.WaitForStateAsync(api.Http, id, "STARTED", Bound);
        }
        var twice = await SubmitAsync(api.Http, Check("up.test", 2));
        await using var broker = await new ConnectionFactory { Uri = new Uri(cluster.RabbitMq) }.CreateConnectionAsync();
        await using var channel = await broker.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var queue = cluster.BrokerQueue("default");
        await channel.BasicPublishAsync("", queue, System.Text.Encoding.ASCII.GetBytes(twice));
        await Eventually.GetAsync(() => channel.MessageCountAsync(queue), n => n == 2, Bound, "two messages for the task waiting");

        await TestCluster.WaitForStateAsync(api.Http, twice, "SUCCESS", Bound);
        for (var i = 0; i < 100 && await channel.MessageCountAsync(queue) > 0; i++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(0u, await channel.MessageCountAsync(queue));
        await Task.Delay(500);   // the second message's no-op has been taken; give a wrong second run time to log
        Assert.Equal(1, Occurrences(cluster.Output, $"Task {twice} STARTED"));
        Assert.Equal(1, Occurrences(cluster.Output, $"Task {twice} SUCCESS"));

        // A message for a task that already finished (a late redelivery) is acknowledged and dropped.
        await channel.BasicPublishAsync("", queue, System.Text.Encoding.ASCII.GetBytes(first));
        for (var i = 0; i < 100 && await channel.MessageCountAsync(queue) > 0; i++)
        {
            await Task.Delay(100);
        }
        await Task.Delay(500);
        Assert.Equal(0u, await channel.MessageCountAsync(queue));
        Assert.Equal(1, Occurrences(cluster.Output, $"Task {first} STARTED"));
        var kept = (await api.Http.GetFromJsonAsync<JsonObject>($"/task/{first}"))!;
        Assert.Equal("SUCCESS", kept["state"]!.GetValue<string>());
        Assert.Equal("original", kept["result"]!["results"]!["up.test"]!["state"]!.GetValue<string>());
    }

    /// <summary>Submits once the store answers again after an outage (bounded); returns the task id.</summary>
    private static async Task<string> SubmitWhenBackAsync(HttpClient api)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var (status, body) = await PostAsync(api, Check("up.test", 2));
            if (status == HttpStatusCode.Accepted)
            {
                return body["task_id"]!.GetValue<string>();
            }
            Assert.True(DateTime.UtcNow < deadline, $"still {(int)status} 30 s after the restart: {body.ToJsonString()}");
            await Task.Delay(250);
        }
    }

    private static int Occurrences(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
