using RemoteTest.Store;

namespace RemoteTest.Tests.Store;

/// <summary>
/// What every <see cref="ITaskStore"/> provider must do for history, revoke and schedules. A provider's test
/// class derives from this and supplies a fresh, initialised store.
/// </summary>
public abstract class TaskStoreOperationsContract
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A new, empty store with its schema created.</summary>
    protected abstract Task<ITaskStore> CreateStoreAsync();

    private static TaskRecord Task(string name, DateTimeOffset submitted, string queue = "default", string? schedule = null) =>
        TaskRecord.New(name, queue, "{\"x\":1}", owner: null, submitted) with { ScheduleName = schedule };

    [SkippableFact]
    public async Task History_is_newest_first_and_pages_through_every_task_once()
    {
        var store = await CreateStoreAsync();
        var inserted = new List<TaskRecord>();
        for (var i = 0; i < 7; i++)
        {
            // Two tasks share each submission time, so the id must break ties for stable pages.
            var t = Task("dns.check_records", T0.AddSeconds(i / 2));
            inserted.Add(t);
            await store.InsertAsync(t, CancellationToken.None);
        }

        var seen = new List<TaskRecord>();
        TaskCursor? cursor = null;
        for (var page = 0; page < 10; page++)
        {
            var result = await store.ListAsync(new TaskQuery(After: cursor, Limit: 3), CancellationToken.None);
            seen.AddRange(result.Tasks);
            Assert.True(result.Tasks.Count <= 3);
            cursor = result.Next;
            if (cursor is null)
            {
                break;
            }
        }

        Assert.Equal(7, seen.Count);
        Assert.Equal(inserted.Select(t => t.Id).Order(), seen.Select(t => t.Id).Order());
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i - 1].Submitted >= seen[i].Submitted, "newest first");
        }
    }

    [SkippableFact]
    public async Task History_filters_by_state_name_queue_since_and_schedule()
    {
        var store = await CreateStoreAsync();
        var a = Task("dns.check_records", T0);
        var b = Task("porttest.run", T0.AddMinutes(1), queue: "frankfurt");
        var c = Task("porttest.run", T0.AddMinutes(2), schedule: "nightly");
        foreach (var t in new[] { a, b, c })
        {
            await store.InsertAsync(t, CancellationToken.None);
        }
        await store.TryStartAsync(b.Id, "w1", T0.AddMinutes(3), CancellationToken.None);
        await store.FinishAsync(b.Id, TaskState.Success, "{}", null, "{}", null, T0.AddMinutes(4), null, CancellationToken.None);

        async Task<Guid[]> Ids(TaskQuery q) => (await store.ListAsync(q, CancellationToken.None)).Tasks.Select(t => t.Id).ToArray();

        Assert.Equal([b.Id], await Ids(new TaskQuery(State: TaskState.Success)));
        Assert.Equal([c.Id, a.Id], await Ids(new TaskQuery(State: TaskState.Pending)));
        Assert.Equal([c.Id, b.Id], await Ids(new TaskQuery(TaskName: "porttest.run")));
        Assert.Equal([b.Id], await Ids(new TaskQuery(Queue: "frankfurt")));
        Assert.Equal([c.Id, b.Id], await Ids(new TaskQuery(Since: T0.AddMinutes(1))));
        Assert.Equal([c.Id], await Ids(new TaskQuery(ScheduleName: "nightly")));
        Assert.Empty(await Ids(new TaskQuery(TaskName: "apptest.run")));
    }

    [SkippableFact]
    public async Task Revoke_ends_pending_and_started_tasks_and_leaves_finished_ones()
    {
        var store = await CreateStoreAsync();
        var pending = Task("dns.check_records", T0);
        var started = Task("dns.check_records", T0);
        var done = Task("dns.check_records", T0);
        foreach (var t in new[] { pending, started, done })
        {
            await store.InsertAsync(t, CancellationToken.None);
        }
        await store.TryStartAsync(started.Id, "w1", T0, CancellationToken.None);
        await store.TryStartAsync(done.Id, "w1", T0, CancellationToken.None);
        await store.FinishAsync(done.Id, TaskState.Success, "{\"ok\":true}", null, "{}", null, T0, null, CancellationToken.None);

        Assert.Equal(RevokeOutcome.Revoked, await store.RevokeAsync(pending.Id, "{\"masked\":1}", "revoked by user", T0.AddSeconds(5), CancellationToken.None));
        Assert.Equal(RevokeOutcome.Revoked, await store.RevokeAsync(started.Id, "{}", "revoked by user", T0.AddSeconds(5), CancellationToken.None));
        Assert.Equal(RevokeOutcome.AlreadyFinished, await store.RevokeAsync(done.Id, "{}", "revoked by user", T0, CancellationToken.None));
        Assert.Equal(RevokeOutcome.AlreadyFinished, await store.RevokeAsync(pending.Id, "{}", "again", T0, CancellationToken.None));
        Assert.Equal(RevokeOutcome.NotFound, await store.RevokeAsync(Guid.NewGuid(), "{}", "x", T0, CancellationToken.None));

        var p = (await store.GetAsync(pending.Id, CancellationToken.None))!;
        Assert.Equal(TaskState.Revoked, p.State);
        Assert.Equal("revoked by user", p.Error);
        Assert.Equal("{\"masked\":1}", p.Arguments);
        Assert.Equal(T0.AddSeconds(5), p.Done);
        Assert.Equal(TaskState.Success, (await store.GetAsync(done.Id, CancellationToken.None))!.State);

        // A revoked task never starts, and a worker's late result does not overwrite REVOKED.
        Assert.Null(await store.TryStartAsync(pending.Id, "w2", T0, CancellationToken.None));
        Assert.False(await store.FinishAsync(started.Id, TaskState.Success, "{}", null, "{}", null, T0, null, CancellationToken.None));
        Assert.Equal(TaskState.Revoked, (await store.GetAsync(started.Id, CancellationToken.None))!.State);

        var revoked = await store.ListRevokedAsync([pending.Id, started.Id, done.Id, Guid.NewGuid()], CancellationToken.None);
        Assert.Equal(new[] { pending.Id, started.Id }.Order(), revoked.Order());
        Assert.Empty(await store.ListRevokedAsync([], CancellationToken.None));
    }

    [SkippableFact]
    public async Task Webhook_schedule_name_and_deliveries_round_trip()
    {
        var store = await CreateStoreAsync();
        var t = Task("dns.check_records", T0) with { Webhook = "http://127.0.0.1:9/hook", ScheduleName = "s1" };
        await store.InsertAsync(t, CancellationToken.None);
        await store.SetDeliveriesAsync(t.Id, "[{\"status\":200}]", CancellationToken.None);
        var back = (await store.GetAsync(t.Id, CancellationToken.None))!;
        Assert.Equal("http://127.0.0.1:9/hook", back.Webhook);
        Assert.Equal("s1", back.ScheduleName);
        Assert.Equal("[{\"status\":200}]", back.Deliveries);
    }

    [SkippableFact]
    public async Task A_result_names_the_worker_that_finished_it_even_after_its_task_was_handed_back()
    {
        var store = await CreateStoreAsync();
        var t = Task("dns.check_records", T0);
        await store.InsertAsync(t, CancellationToken.None);
        Assert.NotNull(await store.TryStartAsync(t.Id, "w1", T0, CancellationToken.None));
        // w1 missed its heartbeats: the task went back to the queue while w1 still ran it, and w1 finished first.
        Assert.True(await store.ReleaseAsync(t.Id, "w1", CancellationToken.None));
        Assert.True(await store.FinishAsync(t.Id, TaskState.Success, "{}", null, "{}", "w1", T0.AddSeconds(1), null, CancellationToken.None));
        var done = (await store.GetAsync(t.Id, CancellationToken.None))!;
        Assert.Equal(TaskState.Success, done.State);
        Assert.Equal("w1", done.Worker);
    }

    [SkippableFact]
    public async Task Schedules_are_saved_replaced_listed_and_deleted()
    {
        var store = await CreateStoreAsync();
        var s = new ScheduleRecord("migration", "dns.check_records", "default", "{\"dns_data\":{}}", "*/5 * * * *", "UTC",
            "http://127.0.0.1:9/hook", "change", null, null, T0);
        Assert.True(await store.SaveScheduleAsync(s, CancellationToken.None));
        Assert.True(await store.SaveScheduleAsync(s with { Name = "another", Notify = null }, CancellationToken.None));
        await store.SetScheduleOutcomeAsync("migration", "{\"a\":\"original\"}", CancellationToken.None);
        Assert.Equal("{\"a\":\"original\"}", (await store.GetScheduleAsync("migration", CancellationToken.None))!.LastOutcome);

        Assert.False(await store.SaveScheduleAsync(s with { Cron = "0 * * * *", TimeZone = "Europe/Berlin" }, CancellationToken.None));
        var replaced = (await store.GetScheduleAsync("migration", CancellationToken.None))!;
        Assert.Equal("0 * * * *", replaced.Cron);
        Assert.Equal("Europe/Berlin", replaced.TimeZone);
        Assert.Equal("change", replaced.Notify);
        Assert.Equal("{\"a\":\"original\"}", replaced.LastOutcome);

        Assert.Equal(["another", "migration"], (await store.ListSchedulesAsync(CancellationToken.None)).Select(x => x.Name));
        Assert.True(await store.DeleteScheduleAsync("another", CancellationToken.None));
        Assert.False(await store.DeleteScheduleAsync("another", CancellationToken.None));
        Assert.Null(await store.GetScheduleAsync("another", CancellationToken.None));
        Assert.Single(await store.ListSchedulesAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task An_occurrence_is_claimed_once_even_by_racing_callers()
    {
        var store = await CreateStoreAsync();
        await store.SaveScheduleAsync(new ScheduleRecord("s", "dns.check_records", "default", "{}", "* * * * *", "UTC", null, null, null, null, T0), CancellationToken.None);
        var fire = T0.AddMinutes(1);
        var claims = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.TryClaimScheduleFireAsync("s", fire, CancellationToken.None)));
        Assert.Equal(1, claims.Count(c => c));
        Assert.False(await store.TryClaimScheduleFireAsync("s", T0, CancellationToken.None));
        Assert.True(await store.TryClaimScheduleFireAsync("s", fire.AddMinutes(1), CancellationToken.None));
        Assert.False(await store.TryClaimScheduleFireAsync("missing", fire, CancellationToken.None));
        Assert.Equal(fire.AddMinutes(1), (await store.GetScheduleAsync("s", CancellationToken.None))!.LastFired);
    }

    [SkippableFact]
    public async Task Unfinished_tasks_are_counted_per_owner_up_to_the_bound()
    {
        var store = await CreateStoreAsync();
        async Task Add(string owner, Func<TaskRecord, Task>? then = null)
        {
            var t = TaskRecord.New("porttest.run", "default", "{}", owner, T0);
            await store.InsertAsync(t, CancellationToken.None);
            if (then is not null)
            {
                await then(t);
            }
        }
        for (var i = 0; i < 3; i++)
        {
            await Add("alice");
        }
        await Add("alice", t => store.TryStartAsync(t.Id, "w", T0, CancellationToken.None));
        await Add("alice", async t =>
        {
            await store.TryStartAsync(t.Id, "w", T0, CancellationToken.None);
            await store.FinishAsync(t.Id, TaskState.Success, "{}", null, "{}", null, T0, null, CancellationToken.None);
        });
        await Add("alice", t => store.RevokeAsync(t.Id, "{}", "revoked", T0, CancellationToken.None));
        await Add("bob");

        Assert.Equal(4, await store.CountUnfinishedAsync("alice", 100, CancellationToken.None));
        Assert.Equal(2, await store.CountUnfinishedAsync("alice", 2, CancellationToken.None));
        Assert.Equal(1, await store.CountUnfinishedAsync("bob", 100, CancellationToken.None));
        Assert.Equal(0, await store.CountUnfinishedAsync("carol", 100, CancellationToken.None));
        // The provider's own count agrees with the interface's paging fallback.
        Assert.Equal(4, await ITaskStore.CountUnfinishedByPagingAsync(store, "alice", 100, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Baselines_are_per_owner_replaceable_and_pinned_tasks_outlive_retention()
    {
        var store = await CreateStoreAsync();
        var pinned = Task("dns.check_records", T0) with { Owner = "alice" };
        var loose = Task("dns.check_records", T0) with { Owner = "alice" };
        foreach (var t in new[] { pinned, loose })
        {
            await store.InsertAsync(t, CancellationToken.None);
            await store.TryStartAsync(t.Id, "w", T0, CancellationToken.None);
            await store.FinishAsync(t.Id, TaskState.Success, "{}", null, "{}", null, T0, null, CancellationToken.None);
        }

        Assert.True(await store.SaveBaselineAsync(new BaselineRecord("alice", "pre-cutover", loose.Id, "dns.check_records", T0), CancellationToken.None));
        // The same name again re-pins (not new); bob's namespace is his own.
        Assert.False(await store.SaveBaselineAsync(new BaselineRecord("alice", "pre-cutover", pinned.Id, "dns.check_records", T0.AddMinutes(1)), CancellationToken.None));
        Assert.True(await store.SaveBaselineAsync(new BaselineRecord("bob", "pre-cutover", pinned.Id, "dns.check_records", T0), CancellationToken.None));
        var got = await store.GetBaselineAsync("alice", "pre-cutover", CancellationToken.None);
        Assert.Equal((pinned.Id, T0.AddMinutes(1)), (got!.TaskId, got.Created));
        Assert.Null(await store.GetBaselineAsync("carol", "pre-cutover", CancellationToken.None));
        Assert.Single(await store.ListBaselinesAsync("alice", CancellationToken.None));
        Assert.Equal(["alice", "bob"], (await store.ListBaselinesAsync(null, CancellationToken.None)).Select(b => b.Owner));

        // Retention deletes the loose task, keeps the pinned one.
        Assert.Equal(1, await store.DeleteFinishedBeforeAsync(T0.AddDays(1), CancellationToken.None));
        Assert.NotNull(await store.GetAsync(pinned.Id, CancellationToken.None));
        Assert.Null(await store.GetAsync(loose.Id, CancellationToken.None));

        // Unpinned by both owners, it goes with the next sweep.
        Assert.True(await store.DeleteBaselineAsync("alice", "pre-cutover", CancellationToken.None));
        Assert.False(await store.DeleteBaselineAsync("alice", "pre-cutover", CancellationToken.None));
        Assert.Equal(0, await store.DeleteFinishedBeforeAsync(T0.AddDays(1), CancellationToken.None));
        Assert.True(await store.DeleteBaselineAsync("bob", "pre-cutover", CancellationToken.None));
        Assert.Equal(1, await store.DeleteFinishedBeforeAsync(T0.AddDays(1), CancellationToken.None));
    }

    [SkippableFact]
    public async Task Managed_tokens_are_added_once_found_by_hash_listed_and_revoked_once()
    {
        var tokens = Assert.IsAssignableFrom<RemoteTest.Security.IApiTokenStore>(await CreateStoreAsync());
        var ci = new RemoteTest.Security.StoredApiToken("ci", "hash-ci", ["submit", "read"], 30, T0, T0.AddDays(90), null);
        Assert.True(await tokens.AddTokenAsync(ci, CancellationToken.None));
        // A name is taken once, and a hash belongs to one token only.
        Assert.False(await tokens.AddTokenAsync(ci with { Hash = "hash-other" }, CancellationToken.None));
        Assert.True(await tokens.AddTokenAsync(new RemoteTest.Security.StoredApiToken("ops", "hash-ops", ["admin"], null, T0, null, null), CancellationToken.None));

        var found = await tokens.FindTokenByHashAsync("hash-ci", CancellationToken.None);
        Assert.NotNull(found);
        Assert.Equal("ci", found.Name);
        Assert.Equal(["submit", "read"], found.Scopes);
        Assert.Equal(30, found.RateLimit);
        Assert.Equal(T0.AddDays(90), found.Expires);
        Assert.Null(found.Revoked);
        Assert.Null(await tokens.FindTokenByHashAsync("hash-nobody", CancellationToken.None));

        Assert.Equal(["ci", "ops"], (await tokens.ListTokensAsync(CancellationToken.None)).Select(t => t.Name));
        Assert.True(await tokens.RevokeTokenAsync("ci", T0.AddDays(1), CancellationToken.None));
        Assert.False(await tokens.RevokeTokenAsync("ci", T0.AddDays(2), CancellationToken.None));
        Assert.False(await tokens.RevokeTokenAsync("nobody", T0, CancellationToken.None));
        Assert.Equal(T0.AddDays(1), (await tokens.GetTokenAsync("ci", CancellationToken.None))!.Revoked);
    }

    [SkippableFact]
    public async Task Verdict_is_stored_when_the_task_finishes_and_history_filters_by_it()
    {
        var store = await CreateStoreAsync();
        var passed = Task("porttest.run", T0);
        var failed = Task("porttest.run", T0.AddMinutes(1));
        var broken = Task("dns.check_records", T0.AddMinutes(2));
        var running = Task("apptest.run", T0.AddMinutes(3));
        foreach (var t in new[] { passed, failed, broken, running })
        {
            await store.InsertAsync(t, CancellationToken.None);
        }
        await store.FinishAsync(passed.Id, TaskState.Success, "{}", null, "{}", null, T0, RemoteTest.Tasks.TaskVerdict.Pass, CancellationToken.None);
        await store.FinishAsync(failed.Id, TaskState.Success, "{}", null, "{}", null, T0, RemoteTest.Tasks.TaskVerdict.Fail, CancellationToken.None);
        await store.FinishAsync(broken.Id, TaskState.Failure, null, "boom", "{}", null, T0, RemoteTest.Tasks.TaskVerdict.Error, CancellationToken.None);

        Assert.Equal("pass", (await store.GetAsync(passed.Id, CancellationToken.None))!.Verdict);
        Assert.Null((await store.GetAsync(running.Id, CancellationToken.None))!.Verdict);
        Assert.Equal([failed.Id], (await store.ListAsync(new TaskQuery(Verdict: "fail"), CancellationToken.None)).Tasks.Select(t => t.Id));
        Assert.Equal([broken.Id], (await store.ListAsync(new TaskQuery(Verdict: "error"), CancellationToken.None)).Tasks.Select(t => t.Id));
        Assert.Empty((await store.ListAsync(new TaskQuery(Verdict: "partial"), CancellationToken.None)).Tasks);
        // Combined with the other filters, not instead of them.
        Assert.Empty((await store.ListAsync(new TaskQuery(Verdict: "pass", TaskName: "dns.check_records"), CancellationToken.None)).Tasks);

        // A revoke keeps no verdict; a revoked task cannot be finished (and judged) afterwards.
        await store.RevokeAsync(running.Id, "{}", "revoked", T0, CancellationToken.None);
        Assert.False(await store.FinishAsync(running.Id, TaskState.Success, "{}", null, "{}", null, T0, "pass", CancellationToken.None));
        Assert.Null((await store.GetAsync(running.Id, CancellationToken.None))!.Verdict);
    }

    [SkippableFact]
    public async Task History_filters_by_a_case_insensitive_substring_of_the_arguments()
    {
        var store = await CreateStoreAsync();
        TaskRecord With(string args, int minute) => TaskRecord.New("porttest.run", "default", args, owner: null, T0.AddMinutes(minute));
        var sbc = With("""{"args":[{"SBC1.lab.example":{"ports":[5061]}}]}""", 0);
        var xsp = With("""{"args":[{"xsp1.lab.example":{"ports":[443]}}]}""", 1);
        var both = With("""{"args":[{"sbc1.lab.example":{"ports":[5060]},"xsp2.lab.example":{"ports":[443]}}]}""", 2);
        var wild = With("""{"args":[{"odd%name_1.example":{"ports":[80]}}]}""", 3);
        foreach (var t in new[] { sbc, xsp, both, wild })
        {
            await store.InsertAsync(t, CancellationToken.None);
        }
        async Task<Guid[]> Find(string target, string? taskName = null) =>
            [.. (await store.ListAsync(new TaskQuery(Target: target, TaskName: taskName), CancellationToken.None)).Tasks.Select(t => t.Id)];

        Assert.Equal([both.Id, sbc.Id], await Find("sbc1"));
        Assert.Equal([both.Id, sbc.Id], await Find("SbC1.LAB"));
        Assert.Equal([both.Id, xsp.Id], await Find("xsp"));
        Assert.Empty(await Find("nowhere.example"));
        // LIKE's wildcards typed by the user match only themselves.
        Assert.Equal([wild.Id], await Find("%name_"));
        Assert.Empty(await Find("sbc_"));
        Assert.Empty(await Find("%%"));
        // A quote is a value, never SQL.
        Assert.Empty(await Find("' OR 1=1 --"));
        // Combined with the other filters, and paged like any listing.
        Assert.Empty(await Find("sbc1", "dns.check_records"));
        var first = await store.ListAsync(new TaskQuery(Target: "lab.example", Limit: 2), CancellationToken.None);
        Assert.Equal([both.Id, xsp.Id], first.Tasks.Select(t => t.Id));
        var second = await store.ListAsync(new TaskQuery(Target: "lab.example", Limit: 2, After: first.Next), CancellationToken.None);
        Assert.Equal([sbc.Id], second.Tasks.Select(t => t.Id));
    }
}

/// <summary>The contract on the SQLite provider, both in memory and on a file (WAL, separate read connections).</summary>
public sealed class SqliteTaskStoreOperationsTests : TaskStoreOperationsContract, IDisposable
{
    private readonly SqliteStoreFiles _files = new();

    protected override async Task<ITaskStore> CreateStoreAsync() => await _files.CreateAsync();

    [SkippableFact]
    public async Task In_memory_store_pages_too()
    {
        using var store = SqliteTaskStore.OpenInMemory();
        await store.InitializeAsync(CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await store.InsertAsync(TaskRecord.New("dns.check_records", "default", "{}", null, DateTimeOffset.UnixEpoch.AddSeconds(i)), CancellationToken.None);
        }
        var first = await store.ListAsync(new TaskQuery(Limit: 2), CancellationToken.None);
        Assert.Equal(2, first.Tasks.Count);
        var second = await store.ListAsync(new TaskQuery(After: first.Next, Limit: 2), CancellationToken.None);
        Assert.Single(second.Tasks);
        Assert.Null(second.Next);
    }

    [SkippableFact]
    public void Cursor_tokens_round_trip_and_reject_garbage()
    {
        var c = new TaskCursor(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), Guid.NewGuid());
        Assert.True(TaskCursor.TryDecode(c.Encode(), out var back));
        Assert.Equal(c, back);
        foreach (var bad in new[] { "", "x", "1.", ".abc", "-1." + Guid.NewGuid().ToString("N"), "12.zz", "99999999999999999999." + Guid.NewGuid().ToString("N") })
        {
            Assert.False(TaskCursor.TryDecode(bad, out _), bad);
        }
    }

    [SkippableFact]
    public async Task A_database_from_before_verdicts_gains_the_column_and_its_finished_tasks_are_judged_idempotently()
    {
        var path = Path.Combine(Path.GetTempPath(), $"remotetest-verdict-{Guid.NewGuid():N}.db");
        try
        {
            using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
            {
                old.Open();
                using var cmd = old.CreateCommand();
                // The tasks table as it was before the verdict column, with one task of each kind of outcome.
                cmd.CommandText = """
                    CREATE TABLE tasks (id TEXT PRIMARY KEY, task_name TEXT NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL,
                        arguments TEXT NOT NULL, result TEXT NULL, error TEXT NULL, owner TEXT NULL, worker TEXT NULL,
                        date_submitted INTEGER NOT NULL, date_started INTEGER NULL, date_done INTEGER NULL, progress_done INTEGER NULL,
                        progress_total INTEGER NULL, group_id TEXT NULL, webhook TEXT NULL, schedule_name TEXT NULL, deliveries TEXT NULL);
                    INSERT INTO tasks (id, task_name, queue, state, arguments, result, date_submitted) VALUES
                        ('00000000-0000-0000-0000-000000000001', 'porttest.run', 'default', 'SUCCESS', '{}',
                         '{"summary":{"ok":false},"results":{"h":{"ports":{"22":{"open":true},"23":{"open":false}},"failed_ports":[23]}}}', 1),
                        ('00000000-0000-0000-0000-000000000002', 'apptest.run', 'default', 'SUCCESS', '{}',
                         '{"summary":{"ok":true},"results":{"h":{"xsp":{"ok":true}}}}', 2),
                        ('00000000-0000-0000-0000-000000000003', 'dns.check_records', 'default', 'FAILURE', '{}', NULL, 3),
                        ('00000000-0000-0000-0000-000000000004', 'dns.check_records', 'default', 'PENDING', '{}', NULL, 4);
                    """;
                cmd.ExecuteNonQuery();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            for (var start = 0; start < 2; start++)
            {
                using var store = SqliteTaskStore.OpenFile(path);
                await store.InitializeAsync(CancellationToken.None);
                string? VerdictOf(int n) => store.GetAsync(Guid.Parse($"00000000-0000-0000-0000-00000000000{n}"), CancellationToken.None).Result!.Verdict;
                Assert.Equal("partial", VerdictOf(1));
                Assert.Equal("pass", VerdictOf(2));
                Assert.Equal("error", VerdictOf(3));
                Assert.Null(VerdictOf(4));
                Assert.Single((await store.ListAsync(new TaskQuery(Verdict: "partial"), CancellationToken.None)).Tasks);
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            }
        }
        finally
        {
            foreach (var f in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(f);
            }
        }
    }

    public void Dispose() => _files.Dispose();
}
