using Npgsql;

namespace RemoteTest.Store;

/// <summary>
/// The task store on PostgreSQL, shared by every API and worker node. Same tables and columns as the
/// SQLite store (ids as text, times as Unix milliseconds), so rows map with the same code and
/// <c>migrate</c> copies them one to one. Every state change is one conditional UPDATE, which PostgreSQL
/// applies atomically across nodes: of two workers racing for one task exactly one starts it, and of two
/// outcomes exactly one is stored.
/// </summary>
public sealed partial class PostgresTaskStore(NpgsqlDataSource dataSource, TimeSpan workerTimeout, ILogger<PostgresTaskStore>? log = null) : ITaskStore
{
    private const string T = $"{PostgresSchema.Name}.tasks";
    private const string W = $"{PostgresSchema.Name}.workers";
    private const string Columns = Rows.TaskColumns;

    /// <summary>Creates RemoteTest's tables (under an advisory lock: several nodes may start at once).</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await PostgresSchema.EnsureAsync(dataSource, log, cancellationToken).ConfigureAwait(false);
        await FillVerdictsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Gives tasks that finished before the verdict column existed their verdict, in bounded batches; idempotent
    /// (only rows still without one), so several nodes starting at once only repeat work.
    /// </summary>
    private async Task FillVerdictsAsync(CancellationToken cancellationToken)
    {
        await ExecuteAsync(TableSql.FailedVerdicts(PostgresSchema.Types), cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var rows = await QueryAsync(TableSql.UnjudgedBatch(PostgresSchema.Types), cancellationToken).ConfigureAwait(false);
            foreach (var t in rows)
            {
                await ExecuteAsync($"UPDATE {T} SET verdict = @verdict WHERE id = @id", cancellationToken,
                    ("id", t.Id.ToString()), ("verdict", Tasks.TaskVerdict.Of(t.TaskName, t.State, t.Result))).ConfigureAwait(false);
            }
            if (rows.Count < TableSql.VerdictFillBatch)
            {
                return;
            }
        }
    }

    public async Task InsertAsync(TaskRecord t, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand(
            $"INSERT INTO {T} ({Columns}) VALUES (@id, @name, @queue, @state, @args, @result, @error, @owner, @worker, @sub, @start, @done, @pd, @pt, @group, @webhook, @schedule, @deliveries, @verdict)");
        AddTaskParameters(cmd, t);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores many tasks in one transaction (a fan-out group, a migration batch); rows already present are skipped.</summary>
    public async Task<int> InsertManyAsync(IReadOnlyList<TaskRecord> tasks, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var inserted = 0;
        foreach (var t in tasks)
        {
            await using var cmd = new NpgsqlCommand(
                $"INSERT INTO {T} ({Columns}) VALUES (@id, @name, @queue, @state, @args, @result, @error, @owner, @worker, @sub, @start, @done, @pd, @pt, @group, @webhook, @schedule, @deliveries, @verdict) ON CONFLICT (id) DO NOTHING",
                connection, transaction);
            AddTaskParameters(cmd, t);
            inserted += await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return inserted;
    }

    public Task<TaskRecord?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        QuerySingleAsync($"SELECT {Columns} FROM {T} WHERE id = @id", cancellationToken, ("id", id.ToString()));

    /// <summary>
    /// Takes a PENDING task, or a STARTED one whose worker has stopped sending heartbeats (it crashed, or
    /// handed the task back). A STARTED task of a live worker is left alone: that is a second delivery of
    /// the same message (the queue is at-least-once), and running it twice would only waste the probes.
    /// </summary>
    public Task<TaskRecord?> TryStartAsync(Guid id, string worker, DateTimeOffset now, CancellationToken cancellationToken) =>
        QuerySingleAsync($"""
            UPDATE {T} t SET state = 'STARTED', worker = @worker, date_started = @now, progress_done = NULL, progress_total = NULL
            WHERE t.id = @id AND (t.state IN ('PENDING', 'RETRY') OR (t.state = 'STARTED' AND (
                t.worker IS NULL OR t.worker = @worker OR NOT EXISTS (
                    SELECT 1 FROM {W} w WHERE w.name = t.worker AND w.heartbeat > @live))))
            RETURNING {Columns}
            """, cancellationToken,
            ("id", id.ToString()), ("worker", worker), ("now", now.ToUnixTimeMilliseconds()),
            ("live", (now - workerTimeout).ToUnixTimeMilliseconds()));

    /// <summary>Takes a PENDING task or a STARTED one whatever its worker: see <see cref="ITaskStore.TryTakeOverAsync"/>.</summary>
    public Task<TaskRecord?> TryTakeOverAsync(Guid id, string worker, DateTimeOffset now, CancellationToken cancellationToken) =>
        QuerySingleAsync($"""
            UPDATE {T} t SET state = 'STARTED', worker = @worker, date_started = @now, progress_done = NULL, progress_total = NULL
            WHERE t.id = @id AND t.state IN ('PENDING', 'RETRY', 'STARTED')
            RETURNING {Columns}
            """, cancellationToken, ("id", id.ToString()), ("worker", worker), ("now", now.ToUnixTimeMilliseconds()));

    public async Task<bool> FinishAsync(Guid id, TaskState state, string? result, string? error, string arguments, string? worker, DateTimeOffset now, string? verdict, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {T} SET state = @state, result = @result, error = @error, arguments = @args, date_done = @now, worker = COALESCE(@worker, worker), verdict = @verdict
            WHERE id = @id AND state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED')
            """, cancellationToken,
            ("id", id.ToString()), ("state", state.ToWire()), ("result", result), ("error", error), ("args", arguments),
            ("worker", worker), ("now", now.ToUnixTimeMilliseconds()), ("verdict", verdict)).ConfigureAwait(false) == 1;

    public Task SetProgressAsync(Guid id, int done, int total, CancellationToken cancellationToken) =>
        ExecuteAsync($"UPDATE {T} SET progress_done = @d, progress_total = @t WHERE id = @id AND state = 'STARTED'", cancellationToken,
            ("id", id.ToString()), ("d", done), ("t", total));

    /// <summary>One statement, so PENDING and STARTED are read at one instant; bounded by <paramref name="atMost"/>.</summary>
    public async Task<int> CountUnfinishedAsync(string owner, int atMost, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT COUNT(*) FROM (SELECT 1 FROM {T} WHERE state IN ('PENDING', 'STARTED') AND owner = @owner LIMIT @most) AS unfinished");
        cmd.Parameters.AddWithValue("owner", owner);
        cmd.Parameters.AddWithValue("most", atMost);
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task<IReadOnlyList<TaskRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM {T} WHERE state IN ('PENDING', 'STARTED', 'RETRY') ORDER BY date_submitted", cancellationToken);

    public Task<int> DeleteFinishedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        // Pinned tasks (baselines) outlive retention.
        ExecuteAsync($"DELETE FROM {T} WHERE date_done IS NOT NULL AND date_done < @cutoff" + TableSql.NotPinned(PostgresSchema.Types), cancellationToken,
            ("cutoff", cutoff.ToUnixTimeMilliseconds()));

    public async Task<TaskPage> ListAsync(TaskQuery query, CancellationToken cancellationToken)
    {
        var (sql, parameters, limit) = HistorySql.Select(T, query);
        var rows = await QueryAsync(sql, cancellationToken, parameters.Select(p => (p.Name.TrimStart('@'), (object?)p.Value)).ToArray()).ConfigureAwait(false);
        return HistorySql.ToPage([.. rows], limit);
    }

    public async Task<RevokeOutcome> RevokeAsync(Guid id, string maskedArguments, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var changed = await ExecuteAsync($"""
            UPDATE {T} SET state = 'REVOKED', error = @reason, arguments = @args, date_done = @now, result = NULL
            WHERE id = @id AND state IN ('PENDING', 'STARTED', 'RETRY')
            """, cancellationToken, ("id", id.ToString()), ("reason", reason), ("args", maskedArguments), ("now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        if (changed == 1)
        {
            return RevokeOutcome.Revoked;
        }
        await using var exists = dataSource.CreateCommand($"SELECT 1 FROM {T} WHERE id = @id");
        exists.Parameters.AddWithValue("id", id.ToString());
        return await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null ? RevokeOutcome.NotFound : RevokeOutcome.AlreadyFinished;
    }

    public async Task<IReadOnlyList<Guid>> ListRevokedAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        await using var cmd = dataSource.CreateCommand($"SELECT id FROM {T} WHERE state = 'REVOKED' AND id = ANY(@ids)");
        cmd.Parameters.AddWithValue("ids", ids.Select(i => i.ToString()).ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var revoked = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            revoked.Add(Guid.Parse(reader.GetString(0)));
        }
        return revoked;
    }

    public Task SetDeliveriesAsync(Guid id, string deliveries, CancellationToken cancellationToken) =>
        ExecuteAsync($"UPDATE {T} SET deliveries = @d WHERE id = @id", cancellationToken, ("id", id.ToString()), ("d", deliveries));

    public Task<IReadOnlyList<TaskRecord>> ListGroupAsync(Guid groupId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM {T} WHERE group_id = @g ORDER BY queue COLLATE \"C\"", cancellationToken, ("g", groupId.ToString()));

    public async Task<bool> ReleaseAsync(Guid id, string worker, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {T} SET state = 'PENDING', worker = NULL, date_started = NULL, progress_done = NULL, progress_total = NULL
            WHERE id = @id AND state = 'STARTED' AND worker = @worker
            """, cancellationToken, ("id", id.ToString()), ("worker", worker)).ConfigureAwait(false) == 1;

    private static void AddTaskParameters(NpgsqlCommand cmd, TaskRecord t) => Add(cmd, Rows.TaskValues(t));

    private static void Add(NpgsqlCommand cmd, params (string Name, object? Value)[] parameters) => PostgresCommands.Add(cmd, parameters);

    private Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        PostgresCommands.ExecuteAsync(dataSource, sql, cancellationToken, parameters);

    private async Task<TaskRecord?> QuerySingleAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        (await QueryAsync(sql, cancellationToken, parameters).ConfigureAwait(false)).FirstOrDefault();

    private Task<IReadOnlyList<TaskRecord>> QueryAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        QueryAsync(sql, Rows.ReadTask, cancellationToken, parameters);

    private Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<System.Data.Common.DbDataReader, T> map, CancellationToken cancellationToken, (string, object?)[] parameters) =>
        PostgresCommands.QueryAsync(dataSource, sql, map, cancellationToken, parameters);
}
