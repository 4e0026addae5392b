using Npgsql;

namespace RemoteTest.Store;

/// <summary>The registry in PostgreSQL (table <c>remotetest.workers</c>), shared by every node.</summary>
public sealed class PostgresWorkerRegistry(NpgsqlDataSource dataSource, TimeSpan workerTimeout) : IWorkerRegistry
{
    private const string W = $"{PostgresSchema.Name}.workers";
    private const string T = $"{PostgresSchema.Name}.tasks";

    /// <summary>Rows of workers dead this long are deleted: worker names carry the process id, so each start adds one.</summary>
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(1);

    /// <summary>Key of the advisory lock that lets one orphan sweeper run at a time ("RTORPHAN").</summary>
    private const long OrphanLockKey = 0x5254_4F52_5048_414E;

    /// <summary>Key of the advisory lock of the sweep for PENDING tasks without a message ("RTSTRAND").</summary>
    private const long StrandedLockKey = 0x5254_5354_5241_4E44;

    public async Task<bool> HeartbeatAsync(WorkerInfo w, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"""
            INSERT INTO {W} (name, instance, location, queues, version, date_started, heartbeat, running)
            VALUES (@name, @instance, @location, @queues, @version, @started, @now, @running)
            ON CONFLICT (name) DO UPDATE SET instance = EXCLUDED.instance, location = EXCLUDED.location, queues = EXCLUDED.queues,
                version = EXCLUDED.version, date_started = EXCLUDED.date_started, heartbeat = EXCLUDED.heartbeat, running = EXCLUDED.running
            WHERE {W}.instance = EXCLUDED.instance OR {W}.heartbeat <= @live
            """);
        PostgresCommands.Add(cmd, ("name", w.Name), ("instance", w.Instance), ("location", w.Location), ("queues", string.Join(',', w.Queues)),
            ("version", w.Version), ("started", w.Started.ToUnixTimeMilliseconds()), ("now", now.ToUnixTimeMilliseconds()), ("running", w.Running),
            ("live", (now - workerTimeout).ToUnixTimeMilliseconds()));
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task RemoveAsync(string name, string instance, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"DELETE FROM {W} WHERE name = @name AND instance = @instance");
        PostgresCommands.Add(cmd, ("name", name), ("instance", instance));
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<WorkerInfo>> ListLiveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"""
            SELECT w.name, w.instance, w.location, w.queues, w.version, w.date_started, w.heartbeat,
                   ARRAY(SELECT t.id FROM {T} t WHERE t.state = 'STARTED' AND t.worker = w.name ORDER BY t.id)
            FROM {W} w WHERE w.heartbeat > @live ORDER BY w.name COLLATE "C"
            """);
        PostgresCommands.Add(cmd, ("live", (now - workerTimeout).ToUnixTimeMilliseconds()));
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

    public Task<int> RequeueOrphansAsync(DateTimeOffset now, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken) =>
        SweepAsync(OrphanLockKey, now, enqueue, $"""
            SELECT t.id, t.queue FROM {T} t
            WHERE t.state = 'STARTED' AND NOT EXISTS (SELECT 1 FROM {W} w WHERE w.name = t.worker AND w.heartbeat > @live)
            ORDER BY t.date_submitted LIMIT 1000 FOR UPDATE SKIP LOCKED
            """, [("live", (now - workerTimeout).ToUnixTimeMilliseconds())], $"""
            UPDATE {T} SET state = 'PENDING', worker = NULL, date_started = NULL, progress_done = NULL, progress_total = NULL, date_requeued = @now
            WHERE id = ANY(@ids) AND state = 'STARTED'
            """, async (connection, transaction) =>
            {
                await using var forget = new NpgsqlCommand($"DELETE FROM {W} WHERE heartbeat < @old", connection, transaction);
                forget.Parameters.AddWithValue("old", (now - ForgetAfter).ToUnixTimeMilliseconds());
                await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }, cancellationToken);

    public async Task<int> RequeueStrandedAsync(DateTimeOffset now, TimeSpan age, Func<string, Task<bool>> queueHasJobs, Func<Guid, string, Task> enqueue, CancellationToken cancellationToken)
    {
        if (age <= TimeSpan.Zero)
        {
            return 0;
        }
        const string Candidates = $"""
            FROM {T} t
            WHERE t.state = 'PENDING' AND t.date_submitted <= @cutoff AND (t.date_requeued IS NULL OR t.date_requeued <= @cutoff)
              AND EXISTS (SELECT 1 FROM {W} w WHERE w.heartbeat > @live AND t.queue = ANY(string_to_array(w.queues, ',')))
            """;
        (string, object?)[] parameters = [("cutoff", (now - age).ToUnixTimeMilliseconds()), ("live", (now - workerTimeout).ToUnixTimeMilliseconds())];

        // Which queues hold candidates, and of those which have no message waiting: there a PENDING task has no message.
        var queues = new List<string>();
        await using (var distinct = dataSource.CreateCommand($"SELECT DISTINCT t.queue {Candidates}"))
        {
            PostgresCommands.Add(distinct, parameters);
            await using var r = await distinct.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                queues.Add(r.GetString(0));
            }
        }
        if (queues.Count == 0)
        {
            return 0;
        }
        var idle = new List<string>();
        foreach (var q in queues)
        {
            if (!await queueHasJobs(q).ConfigureAwait(false))
            {
                idle.Add(q);
            }
        }
        return await SweepAsync(StrandedLockKey, now, enqueue, $"""
            SELECT t.id, t.queue {Candidates}
              AND (t.queue = ANY(@idle) OR t.date_submitted <= @overdue)
            ORDER BY t.date_submitted LIMIT 1000 FOR UPDATE OF t SKIP LOCKED
            """, [.. parameters, ("idle", idle.ToArray()), ("overdue", (now - age * IWorkerRegistry.OverdueFactor).ToUnixTimeMilliseconds())],
            $"UPDATE {T} SET date_requeued = @now WHERE id = ANY(@ids) AND state = 'PENDING'", null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One sweep under a transaction-scoped advisory lock (a node that finds it taken skips this round): finds
    /// tasks with <paramref name="findSql"/>, enqueues them, then marks them with <paramref name="markSql"/>
    /// (<c>@ids</c>, <c>@now</c>). Enqueue first, mark in the same transaction: a crash in between leaves the
    /// tasks as they were, so the next sweep enqueues them again, and a duplicate message is harmless.
    /// </summary>
    private async Task<int> SweepAsync(long lockKey, DateTimeOffset now, Func<Guid, string, Task> enqueue,
        string findSql, (string Name, object? Value)[] findParameters, string markSql,
        Func<NpgsqlConnection, NpgsqlTransaction, Task>? also, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@key)", connection, transaction))
        {
            tryLock.Parameters.AddWithValue("key", lockKey);
            if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return 0;   // another node is sweeping right now
            }
        }

        var found = new List<(string Id, string Queue)>();
        await using (var find = new NpgsqlCommand(findSql, connection, transaction))
        {
            PostgresCommands.Add(find, findParameters);
            await using var r = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found.Add((r.GetString(0), r.GetString(1)));
            }
        }

        foreach (var (id, queue) in found)
        {
            await enqueue(Guid.Parse(id), queue).ConfigureAwait(false);
        }
        if (found.Count > 0)
        {
            await using var mark = new NpgsqlCommand(markSql, connection, transaction);
            mark.Parameters.AddWithValue("ids", found.Select(o => o.Id).ToArray());
            mark.Parameters.AddWithValue("now", now.ToUnixTimeMilliseconds());
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        if (also is not null)
        {
            await also(connection, transaction).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return found.Count;
    }
}
