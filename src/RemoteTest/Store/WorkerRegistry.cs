using Npgsql;

namespace RemoteTest.Store;

/// <summary>One worker process as it announces itself in its heartbeats.</summary>
/// <param name="Instance">Random per process start: tells a restarted worker from a second process that took the same name.</param>
/// <param name="RunningTasks">Ids of the tasks it runs now (filled when listing).</param>
public sealed record WorkerInfo(
    string Name,
    string Instance,
    string? Location,
    IReadOnlyList<string> Queues,
    string? Version,
    DateTimeOffset Started,
    DateTimeOffset Heartbeat,
    int Running,
    IReadOnlyList<Guid>? RunningTasks = null);

/// <summary>
/// Which workers are alive, where they stand and which queues they serve. A worker is live while its
/// heartbeat is younger than <see cref="ClusterOptions.WorkerTimeout"/>; a STARTED task whose worker is not
/// live is an orphan (the worker crashed) and goes back to its queue.
/// </summary>
public interface IWorkerRegistry
{
    /// <summary>Records a heartbeat; false when a live worker of another process already holds this name.</summary>
    Task<bool> HeartbeatAsync(WorkerInfo worker, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Removes the worker at a clean shutdown, so its queues stop counting as served at once.</summary>
    Task RemoveAsync(string name, string instance, CancellationToken cancellationToken);

    /// <summary>Live workers, by name, with the tasks each runs.</summary>
    Task<IReadOnlyList<WorkerInfo>> ListLiveAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Hands every orphaned task to <paramref name="enqueue"/> and marks it PENDING again; returns how many.
    /// Safe to run on every worker at once: only one sweeps at a time, and a repeated enqueue is harmless
    /// (a task runs once, the second job finds it taken).
    /// </summary>
    Task<int> RequeueOrphansAsync(DateTimeOffset now, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken);
}

/// <summary>The registry of a single process (memory and embedded storage): the process itself is the only worker.</summary>
public sealed class LocalWorkerRegistry(ITaskStore store) : IWorkerRegistry
{
    private WorkerInfo? _self;

    public Task<bool> HeartbeatAsync(WorkerInfo worker, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _self = worker with { Heartbeat = now };
        return Task.FromResult(true);
    }

    public Task RemoveAsync(string name, string instance, CancellationToken cancellationToken)
    {
        _self = null;
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<WorkerInfo>> ListLiveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_self is not { } self)
        {
            return [];
        }
        var running = (await store.ListUnfinishedAsync(cancellationToken).ConfigureAwait(false))
            .Where(t => t.State == TaskState.Started && t.Worker == self.Name).Select(t => t.Id).ToList();
        return [self with { RunningTasks = running, Running = running.Count }];
    }

    /// <summary>Nothing to do: the embedded engine enqueues every unfinished task again when the process starts.</summary>
    public Task<int> RequeueOrphansAsync(DateTimeOffset now, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken) => Task.FromResult(0);
}

/// <summary>The registry in PostgreSQL (table <c>remotetest.workers</c>), shared by every node.</summary>
public sealed class PostgresWorkerRegistry(NpgsqlDataSource dataSource, TimeSpan workerTimeout) : IWorkerRegistry
{
    private const string W = $"{PostgresSchema.Name}.workers";
    private const string T = $"{PostgresSchema.Name}.tasks";

    /// <summary>Rows of workers dead this long are deleted: worker names carry the process id, so each start adds one.</summary>
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(1);

    /// <summary>Key of the advisory lock that lets one sweeper run at a time ("RTORPHAN").</summary>
    private const long SweepLockKey = 0x5254_4F52_5048_414E;

    public async Task<bool> HeartbeatAsync(WorkerInfo w, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"""
            INSERT INTO {W} (name, instance, location, queues, version, date_started, heartbeat, running)
            VALUES (@name, @instance, @location, @queues, @version, @started, @now, @running)
            ON CONFLICT (name) DO UPDATE SET instance = EXCLUDED.instance, location = EXCLUDED.location, queues = EXCLUDED.queues,
                version = EXCLUDED.version, date_started = EXCLUDED.date_started, heartbeat = EXCLUDED.heartbeat, running = EXCLUDED.running
            WHERE {W}.instance = EXCLUDED.instance OR {W}.heartbeat <= @live
            """);
        PostgresTaskStore.Add(cmd, ("name", w.Name), ("instance", w.Instance), ("location", w.Location), ("queues", string.Join(',', w.Queues)),
            ("version", w.Version), ("started", w.Started.ToUnixTimeMilliseconds()), ("now", now.ToUnixTimeMilliseconds()), ("running", w.Running),
            ("live", (now - workerTimeout).ToUnixTimeMilliseconds()));
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task RemoveAsync(string name, string instance, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"DELETE FROM {W} WHERE name = @name AND instance = @instance");
        PostgresTaskStore.Add(cmd, ("name", name), ("instance", instance));
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<WorkerInfo>> ListLiveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"""
            SELECT w.name, w.instance, w.location, w.queues, w.version, w.date_started, w.heartbeat,
                   ARRAY(SELECT t.id FROM {T} t WHERE t.state = 'STARTED' AND t.worker = w.name ORDER BY t.id)
            FROM {W} w WHERE w.heartbeat > @live ORDER BY w.name COLLATE "C"
            """);
        PostgresTaskStore.Add(cmd, ("live", (now - workerTimeout).ToUnixTimeMilliseconds()));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<WorkerInfo>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var running = r.GetFieldValue<string[]>(7).Select(Guid.Parse).ToList();
            list.Add(new WorkerInfo(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
                r.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries), r.IsDBNull(4) ? null : r.GetString(4),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)),
                running.Count, running));
        }
        return list;
    }

    public async Task<int> RequeueOrphansAsync(DateTimeOffset now, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken)
    {
        var live = (now - workerTimeout).ToUnixTimeMilliseconds();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@key)", connection, transaction))
        {
            tryLock.Parameters.AddWithValue("key", SweepLockKey);
            if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return 0;   // another node is sweeping right now
            }
        }

        var orphans = new List<(string Id, string Queue)>();
        await using (var find = new NpgsqlCommand($"""
            SELECT t.id, t.queue FROM {T} t
            WHERE t.state = 'STARTED' AND NOT EXISTS (SELECT 1 FROM {W} w WHERE w.name = t.worker AND w.heartbeat > @live)
            ORDER BY t.date_submitted LIMIT 1000 FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            find.Parameters.AddWithValue("live", live);
            await using var r = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                orphans.Add((r.GetString(0), r.GetString(1)));
            }
        }

        // Enqueue first, then mark PENDING in the same transaction: a crash in between leaves the tasks
        // STARTED by a dead worker, so the next sweep enqueues them again, and a duplicate job is harmless.
        foreach (var (id, queue) in orphans)
        {
            await enqueue(Guid.Parse(id), queue).ConfigureAwait(false);
        }
        if (orphans.Count > 0)
        {
            await using var mark = new NpgsqlCommand($"""
                UPDATE {T} SET state = 'PENDING', worker = NULL, date_started = NULL, progress_done = NULL, progress_total = NULL
                WHERE id = ANY(@ids) AND state = 'STARTED'
                """, connection, transaction);
            mark.Parameters.AddWithValue("ids", orphans.Select(o => o.Id).ToArray());
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using (var forget = new NpgsqlCommand($"DELETE FROM {W} WHERE heartbeat < @old", connection, transaction))
        {
            forget.Parameters.AddWithValue("old", (now - ForgetAfter).ToUnixTimeMilliseconds());
            await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return orphans.Count;
    }
}
