using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Store;

/// <summary>The store contract, and what only the shared PostgreSQL store must do, on a real server.</summary>
[Collection(ServersCollection.Name)]
public sealed class PostgresTaskStoreTests(ServersFixture servers) : TaskStoreOperationsContract, IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan WorkerTimeout = TimeSpan.FromSeconds(30);
    private readonly List<NpgsqlDataSource> _sources = [];

    private async Task<(PostgresTaskStore Store, PostgresWorkerRegistry Workers, NpgsqlDataSource Source)> FreshAsync()
    {
        var server = await servers.PostgresAsync();
        var source = PostgresServices.CreateDataSource(await server.CreateDatabaseAsync());
        _sources.Add(source);
        var store = new PostgresTaskStore(source, WorkerTimeout);
        await store.InitializeAsync(CancellationToken.None);
        return (store, new PostgresWorkerRegistry(source, WorkerTimeout), source);
    }

    protected override async Task<ITaskStore> CreateStoreAsync() => (await FreshAsync()).Store;

    private static WorkerInfo Worker(string name, params string[] queues) =>
        new(name, Guid.NewGuid().ToString("N"), "Frankfurt", queues, "1.0.0", T0, T0, 0);

    [SkippableFact]
    public async Task A_tasks_statements_stay_prepared_on_the_pooled_connection()
    {
        var (store, _, source) = await FreshAsync();
        var t = TaskRecord.New("porttest.run", "default", "{}", null, T0);
        await store.InsertAsync(t, CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            Assert.NotNull(await store.GetAsync(t.Id, CancellationToken.None));
        }
        // One caller at a time borrows the same idle connection: its session still holds the statement prepared
        // (a DISCARD ALL on return would have dropped it, and PostgreSQL would parse and plan it every time).
        await using var cmd = source.CreateCommand("SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM remotetest.tasks WHERE id%'");
        Assert.True(Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
    }

    [Theory]
    [InlineData("Host=db", true, 32)]
    [InlineData("Host=db;No Reset On Close=false;Max Auto Prepare=0", false, 0)]
    [InlineData("Host=db;NoResetOnClose=false;MaxAutoPrepare=5", false, 5)]
    public void The_connection_defaults_apply_only_where_the_string_is_silent(string given, bool noReset, int autoPrepare)
    {
        var settings = PostgresServices.ConnectionSettings(given);
        Assert.Equal(noReset, settings.NoResetOnClose);
        Assert.Equal(autoPrepare, settings.MaxAutoPrepare);
        Assert.Equal("RemoteTest", settings.ApplicationName);
    }

    [SkippableFact]
    public async Task Nodes_starting_at_once_create_the_schema_once_and_all_succeed()
    {
        var server = await servers.PostgresAsync();
        var cs = await server.CreateDatabaseAsync();
        var sources = Enumerable.Range(0, 6).Select(_ => PostgresServices.CreateDataSource(cs)).ToList();
        _sources.AddRange(sources);
        // A database of engine v1 also holds Hangfire's schema: nothing of it is touched by the upgrade.
        await using (var v1 = sources[0].CreateCommand("CREATE SCHEMA hangfire; CREATE TABLE hangfire.schema (version int); INSERT INTO hangfire.schema VALUES (23)"))
        {
            await v1.ExecuteNonQueryAsync();
        }
        // All race on one database without RemoteTest's tables.
        await Task.WhenAll(sources.Select(s => PostgresSchema.EnsureAsync(s, null, CancellationToken.None)));

        var store = new PostgresTaskStore(sources[0], WorkerTimeout);
        var task = TaskRecord.New("dns.check_records", "default", "{}", null, T0);
        await store.InsertAsync(task, CancellationToken.None);
        Assert.NotNull(await store.GetAsync(task.Id, CancellationToken.None));
        await using var cmd = sources[0].CreateCommand("SELECT version FROM hangfire.schema");
        Assert.Equal(23, await cmd.ExecuteScalarAsync());
    }

    [SkippableFact]
    public async Task Of_workers_racing_for_one_task_exactly_one_starts_it_and_one_result_is_stored()
    {
        var (store, workers, _) = await FreshAsync();
        var task = TaskRecord.New("dns.check_records", "default", "{}", null, T0);
        await store.InsertAsync(task, CancellationToken.None);
        for (var i = 0; i < 8; i++)
        {
            await workers.HeartbeatAsync(Worker($"w{i}", "default"), DateTimeOffset.UtcNow, CancellationToken.None);
        }
        var now = DateTimeOffset.UtcNow;
        var starts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => store.TryStartAsync(task.Id, $"w{i}", now, CancellationToken.None)));
        Assert.Single(starts, s => s is not null);

        var finishes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            store.FinishAsync(task.Id, TaskState.Success, $"{{\"run\":{i}}}", null, "{}", null, now, null, CancellationToken.None)));
        Assert.Single(finishes, f => f);
    }

    [SkippableFact]
    public async Task A_started_task_is_taken_over_only_when_its_worker_is_dead()
    {
        var (store, workers, _) = await FreshAsync();
        var task = TaskRecord.New("dns.check_records", "default", "{}", null, T0);
        await store.InsertAsync(task, CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        await workers.HeartbeatAsync(Worker("alive", "default"), now, CancellationToken.None);
        Assert.NotNull(await store.TryStartAsync(task.Id, "alive", now, CancellationToken.None));

        // A second delivery of the job while its worker lives: left alone.
        Assert.Null(await store.TryStartAsync(task.Id, "other", now, CancellationToken.None));
        // Once the worker has been silent longer than the timeout, another worker takes the task over.
        var later = now + WorkerTimeout + TimeSpan.FromSeconds(1);
        Assert.Equal("other", (await store.TryStartAsync(task.Id, "other", later, CancellationToken.None))!.Worker);
    }

    [SkippableFact]
    public async Task Orphans_of_dead_workers_are_requeued_once_and_live_workers_keep_theirs()
    {
        var (store, workers, _) = await FreshAsync();
        var now = DateTimeOffset.UtcNow;
        var dead = TaskRecord.New("dns.check_records", "fra", "{}", null, T0);
        var kept = TaskRecord.New("dns.check_records", "dfw", "{}", null, T0);
        await store.InsertAsync(dead, CancellationToken.None);
        await store.InsertAsync(kept, CancellationToken.None);
        await workers.HeartbeatAsync(Worker("gone", "fra"), now - WorkerTimeout * 2, CancellationToken.None);
        await workers.HeartbeatAsync(Worker("alive", "dfw"), now, CancellationToken.None);
        await store.TryStartAsync(dead.Id, "gone", now - WorkerTimeout * 2, CancellationToken.None);
        await store.TryStartAsync(kept.Id, "alive", now, CancellationToken.None);

        var enqueued = new List<(Guid, string)>();
        var sweeps = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => workers.RequeueOrphansAsync(now, (id, q) =>
        {
            lock (enqueued)
            {
                enqueued.Add((id, q));
            }
            return Task.CompletedTask;
        }, CancellationToken.None)));

        Assert.Equal([(dead.Id, "fra")], enqueued);
        Assert.Equal(1, sweeps.Sum());
        Assert.Equal(TaskState.Pending, (await store.GetAsync(dead.Id, CancellationToken.None))!.State);
        Assert.Equal(TaskState.Started, (await store.GetAsync(kept.Id, CancellationToken.None))!.State);
        Assert.Equal(0, await workers.RequeueOrphansAsync(now, (_, _) => Task.CompletedTask, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Pending_tasks_without_a_job_are_enqueued_again_once_per_period_and_only_where_a_worker_serves_their_queue()
    {
        var (store, workers, _) = await FreshAsync();
        var age = TimeSpan.FromMinutes(5);
        var now = DateTimeOffset.UtcNow;
        var fra = Worker("fra-1", "fra", "busy");
        await workers.HeartbeatAsync(fra, now, CancellationToken.None);
        TaskRecord Pending(string queue, TimeSpan old) => TaskRecord.New("dns.check_records", queue, "{}", null, now - old);
        var stranded = Pending("fra", age + TimeSpan.FromSeconds(1));
        var young = Pending("fra", age - TimeSpan.FromSeconds(30));
        var unserved = Pending("sin", age * 2);
        var started = Pending("fra", age * 2);
        var waiting = Pending("busy", age * 2);
        var overdue = Pending("busy", age * IWorkerRegistry.OverdueFactor + TimeSpan.FromSeconds(1));
        foreach (var t in new[] { stranded, young, unserved, started, waiting, overdue })
        {
            await store.InsertAsync(t, CancellationToken.None);
        }
        await store.TryStartAsync(started.Id, "fra-1", now, CancellationToken.None);

        var enqueued = new List<(Guid, string)>();
        Task Enqueue(Guid id, string queue)
        {
            lock (enqueued)
            {
                enqueued.Add((id, queue));
            }
            return Task.CompletedTask;
        }
        // "busy" still has jobs waiting: its PENDING tasks wait their turn, unless they have waited far too long.
        Task<bool> HasJobs(string queue) => Task.FromResult(queue == "busy");

        var sweeps = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => workers.RequeueStrandedAsync(now, age, HasJobs, Enqueue, CancellationToken.None)));
        Assert.Equal(2, sweeps.Sum());
        Assert.Equal(new[] { (stranded.Id, "fra"), (overdue.Id, "busy") }.Order(), enqueued.Order());
        Assert.Equal(TaskState.Pending, (await store.GetAsync(stranded.Id, CancellationToken.None))!.State);

        // At most once per period: not again within it, again once it has passed (the job may be lost again).
        enqueued.Clear();
        Assert.Equal(0, await workers.RequeueStrandedAsync(now + age / 2, age, HasJobs, Enqueue, CancellationToken.None));
        await workers.HeartbeatAsync(fra, now + age, CancellationToken.None);
        Assert.Equal(3, await workers.RequeueStrandedAsync(now + age + TimeSpan.FromSeconds(1), age, HasJobs, Enqueue, CancellationToken.None));
        Assert.Equal(new[] { stranded.Id, young.Id, overdue.Id }.Order(), enqueued.Select(e => e.Item1).Order());

        // Zero turns the check off.
        Assert.Equal(0, await workers.RequeueStrandedAsync(now + age * 3, TimeSpan.Zero, HasJobs, Enqueue, CancellationToken.None));

        // An orphan the other sweep just re-queued has a job: it is not enqueued a second time in the same period.
        var later = now + age * 3;
        var orphan = Pending("fra", age * 2);
        await store.InsertAsync(orphan, CancellationToken.None);
        await workers.HeartbeatAsync(Worker("gone", "fra"), later - WorkerTimeout * 2, CancellationToken.None);
        await store.TryStartAsync(orphan.Id, "gone", later - WorkerTimeout * 2, CancellationToken.None);
        await workers.HeartbeatAsync(fra, later, CancellationToken.None);
        enqueued.Clear();
        Assert.Equal(1, await workers.RequeueOrphansAsync(later, Enqueue, CancellationToken.None));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(orphan.Id, CancellationToken.None))!.State);
        var again = await workers.RequeueStrandedAsync(later, age, HasJobs, Enqueue, CancellationToken.None);
        Assert.DoesNotContain(enqueued.Skip(1), e => e.Item1 == orphan.Id);
        Assert.Equal(3, again);   // the three of before, whose period has passed; not the orphan
    }

    [SkippableFact]
    public async Task Registry_lists_live_workers_with_running_tasks_and_refuses_a_duplicate_name()
    {
        var (store, workers, _) = await FreshAsync();
        var now = DateTimeOffset.UtcNow;
        var fra = Worker("fra-1", "fra", "default");
        Assert.True(await workers.HeartbeatAsync(fra, now, CancellationToken.None));
        Assert.True(await workers.HeartbeatAsync(Worker("old", "dfw"), now - WorkerTimeout * 2, CancellationToken.None));
        var task = TaskRecord.New("dns.check_records", "fra", "{}", null, T0);
        await store.InsertAsync(task, CancellationToken.None);
        await store.TryStartAsync(task.Id, "fra-1", now, CancellationToken.None);

        var live = await workers.ListLiveAsync(now, CancellationToken.None);
        var only = Assert.Single(live);
        Assert.Equal("fra-1", only.Name);
        Assert.Equal("Frankfurt", only.Location);
        Assert.Equal(["fra", "default"], only.Queues);
        Assert.Equal([task.Id], only.RunningTasks);

        // Another process claiming a live name is refused; the same process beats again; a dead name is free.
        Assert.False(await workers.HeartbeatAsync(Worker("fra-1", "fra"), now, CancellationToken.None));
        Assert.True(await workers.HeartbeatAsync(fra, now.AddSeconds(1), CancellationToken.None));
        Assert.True(await workers.HeartbeatAsync(Worker("old", "dfw"), now, CancellationToken.None));
        await workers.RemoveAsync("fra-1", fra.Instance, CancellationToken.None);
        Assert.Equal(["old"], (await workers.ListLiveAsync(now, CancellationToken.None)).Select(w => w.Name));
    }

    [SkippableFact]
    public async Task Release_hands_a_task_back_and_groups_list_their_children()
    {
        var (store, _, _) = await FreshAsync();
        var group = Guid.NewGuid();
        var a = TaskRecord.New("dns.check_records", "fra", "{}", null, T0, group);
        var b = TaskRecord.New("dns.check_records", "dfw", "{}", null, T0, group);
        Assert.Equal(2, await store.InsertManyAsync([a, b, a], CancellationToken.None));
        Assert.Equal(["dfw", "fra"], (await store.ListGroupAsync(group, CancellationToken.None)).Select(t => t.Queue));
        Assert.Empty(await store.ListGroupAsync(Guid.NewGuid(), CancellationToken.None));

        await store.TryStartAsync(a.Id, "w1", T0, CancellationToken.None);
        Assert.False(await store.ReleaseAsync(a.Id, "w2", CancellationToken.None));
        Assert.True(await store.ReleaseAsync(a.Id, "w1", CancellationToken.None));
        var back = (await store.GetAsync(a.Id, CancellationToken.None))!;
        Assert.Equal(TaskState.Pending, back.State);
        Assert.Null(back.Worker);
    }

    [SkippableFact]
    public async Task Key_ring_is_shared_through_the_database()
    {
        var (_, _, source) = await FreshAsync();
        var repository = new PostgresKeyRepository(source);
        repository.StoreElement(new System.Xml.Linq.XElement("key", new System.Xml.Linq.XAttribute("id", "k1")), "key-k1");
        repository.StoreElement(new System.Xml.Linq.XElement("key", new System.Xml.Linq.XAttribute("id", "k1")), "key-k1");
        var again = new PostgresKeyRepository(source).GetAllElements();
        Assert.Equal("k1", Assert.Single(again).Attribute("id")!.Value);
    }

    [SkippableFact]
    public async Task Secrets_encrypted_by_one_node_are_decrypted_by_another()
    {
        var server = await servers.PostgresAsync();
        var settings = new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "postgres",
            ["RemoteTest:Storage:ConnectionString"] = await server.CreateDatabaseAsync(),
            ["RemoteTest:Queue:RabbitMq"] = (await servers.RabbitMqAsync()).ConnectionString,
            ["RemoteTest:Queue:Prefix"] = $"rt-{Guid.NewGuid():N}.",
        };
        // Two nodes in one process: each needs its own worker name (the default is host:pid).
        await using var api = await ServiceHost.StartAsync(new Dictionary<string, string?>(settings) { ["RemoteTest:Worker:Name"] = "node-a" });
        await using var worker = await ServiceHost.StartAsync(new Dictionary<string, string?>(settings) { ["RemoteTest:Worker:Name"] = "node-b" });
        var plain = System.Text.Json.Nodes.JsonNode.Parse("""{"test_data": {"user_id": "u", "password": "s3cret"}}""")!;
        var stored = api.Services.GetRequiredService<ArgumentSecrets>().Protect(plain);
        Assert.DoesNotContain("s3cret", stored.ToJsonString());
        var back = worker.Services.GetRequiredService<ArgumentSecrets>().Unprotect(stored);
        Assert.Equal("s3cret", back["test_data"]!["password"]!.GetValue<string>());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var s in _sources)
        {
            await s.DisposeAsync();
        }
    }
}
