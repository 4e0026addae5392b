using Microsoft.Data.Sqlite;

namespace RemoteTest.Store;

/// <summary>
/// The task store on SQLite (<see cref="SqliteConnections"/>: one writer, a pool of readers, prepared statements;
/// <see cref="SqliteSchema"/>: the tables). This file holds the tasks; schedules, baselines and API tokens are in
/// the files beside it.
/// </summary>
public sealed partial class SqliteTaskStore : ITaskStore, IDisposable
{
    private const string Columns = Rows.TaskColumns;

    private readonly SqliteConnections _db;

    private SqliteTaskStore(SqliteConnections db) => _db = db;

    /// <summary>A store in the SQLite file <paramref name="path"/>.</summary>
    public static SqliteTaskStore OpenFile(string path) => new(SqliteConnections.OpenFile(path));

    /// <summary>A store that lives as long as this object, for tests and <c>Storage:Kind=memory</c>.</summary>
    public static SqliteTaskStore OpenInMemory() => new(SqliteConnections.OpenInMemory());

    public Task InitializeAsync(CancellationToken cancellationToken) => WriteAsync(c =>
    {
        SqliteSchema.Create(c);
        return 0;
    }, cancellationToken);

    public Task InsertAsync(TaskRecord t, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        var cmd = Prepared(c, $"INSERT INTO tasks ({Columns}) VALUES ($id, $name, $queue, $state, $args, $result, $error, $owner, $worker, $sub, $start, $done, $pd, $pt, $group, $webhook, $schedule, $deliveries, $verdict)");
        SqliteConnections.Add(cmd, Rows.TaskValues(t));
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    public Task<TaskRecord?> GetAsync(Guid id, CancellationToken cancellationToken) => ReadAsync(c =>
    {
        var cmd = Prepared(c, $"SELECT {Columns} FROM tasks WHERE id = $id");
        cmd.Parameters.AddWithValue("$id", id.ToString());
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? Rows.ReadTask(reader) : null;
    }, cancellationToken);

    public Task<TaskRecord?> TryStartAsync(Guid id, string worker, DateTimeOffset now, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        var cmd = Prepared(c, $"""
            UPDATE tasks SET state = 'STARTED', worker = $worker, date_started = $now, progress_done = NULL, progress_total = NULL
            WHERE id = $id AND state IN ('PENDING', 'STARTED', 'RETRY')
            RETURNING {Columns}
            """);
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$worker", worker);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? Rows.ReadTask(reader) : null;
    }, cancellationToken);

    public Task<bool> FinishAsync(Guid id, TaskState state, string? result, string? error, string arguments, string? worker, DateTimeOffset now, string? verdict, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        var cmd = Prepared(c, """
            UPDATE tasks SET state = $state, result = $result, error = $error, arguments = $args, date_done = $now, worker = COALESCE($worker, worker), verdict = $verdict
            WHERE id = $id AND state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED')
            """);
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$state", state.ToWire());
        cmd.Parameters.AddWithValue("$result", (object?)result ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$args", arguments);
        cmd.Parameters.AddWithValue("$worker", (object?)worker ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$verdict", (object?)verdict ?? DBNull.Value);
        return cmd.ExecuteNonQuery() == 1;
    }, cancellationToken);

    public Task SetProgressAsync(Guid id, int done, int total, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        var cmd = Prepared(c, "UPDATE tasks SET progress_done = $d, progress_total = $t WHERE id = $id AND state = 'STARTED'");
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$d", done);
        cmd.Parameters.AddWithValue("$t", total);
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    /// <summary>One statement, so PENDING and STARTED are read at one instant; bounded by <paramref name="atMost"/>.</summary>
    public Task<int> CountUnfinishedAsync(string owner, int atMost, CancellationToken cancellationToken) => ReadAsync(c =>
    {
        var cmd = Prepared(c, "SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE state IN ('PENDING', 'STARTED') AND owner = $owner LIMIT $most)");
        cmd.Parameters.AddWithValue("$owner", owner);
        cmd.Parameters.AddWithValue("$most", atMost);
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) => ReadAsync<IReadOnlyList<TaskRecord>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM tasks WHERE state IN ('PENDING', 'STARTED', 'RETRY') ORDER BY date_submitted";
        return ReadAll(cmd);
    }, cancellationToken);

    public Task<int> DeleteFinishedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        // Pinned tasks (baselines) outlive retention.
        cmd.CommandText = "DELETE FROM tasks WHERE date_done IS NOT NULL AND date_done < $cutoff" + TableSql.NotPinned(SqliteSchema.Types);
        cmd.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    public Task<TaskPage> ListAsync(TaskQuery query, CancellationToken cancellationToken) => ReadAsync(c =>
    {
        var (sql, parameters, limit) = HistorySql.Select("tasks", query);
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return HistorySql.ToPage(ReadAll(cmd), limit);
    }, cancellationToken);

    public Task<RevokeOutcome> RevokeAsync(Guid id, string maskedArguments, string reason, DateTimeOffset now, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            UPDATE tasks SET state = 'REVOKED', error = $reason, arguments = $args, date_done = $now, result = NULL
            WHERE id = $id AND state IN ('PENDING', 'STARTED', 'RETRY')
            """;
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$reason", reason);
        cmd.Parameters.AddWithValue("$args", maskedArguments);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        if (cmd.ExecuteNonQuery() == 1)
        {
            return RevokeOutcome.Revoked;
        }
        using var exists = c.CreateCommand();
        exists.CommandText = "SELECT 1 FROM tasks WHERE id = $id";
        exists.Parameters.AddWithValue("$id", id.ToString());
        return exists.ExecuteScalar() is null ? RevokeOutcome.NotFound : RevokeOutcome.AlreadyFinished;
    }, cancellationToken);

    public Task<IReadOnlyList<Guid>> ListRevokedAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<Guid>>([]);
        }
        return ReadAsync<IReadOnlyList<Guid>>(c =>
        {
            using var cmd = c.CreateCommand();
            var names = new List<string>();
            foreach (var id in ids)
            {
                var name = $"$i{names.Count}";
                names.Add(name);
                cmd.Parameters.AddWithValue(name, id.ToString());
            }
            cmd.CommandText = $"SELECT id FROM tasks WHERE state = 'REVOKED' AND id IN ({string.Join(", ", names)})";
            using var reader = cmd.ExecuteReader();
            var revoked = new List<Guid>();
            while (reader.Read())
            {
                revoked.Add(Guid.Parse(reader.GetString(0)));
            }
            return revoked;
        }, cancellationToken);
    }

    public Task SetDeliveriesAsync(Guid id, string deliveries, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "UPDATE tasks SET deliveries = $d WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$d", deliveries);
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> ListGroupAsync(Guid groupId, CancellationToken cancellationToken) => ReadAsync<IReadOnlyList<TaskRecord>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM tasks WHERE group_id = $g ORDER BY queue";
        cmd.Parameters.AddWithValue("$g", groupId.ToString());
        return ReadAll(cmd);
    }, cancellationToken);

    private static List<TaskRecord> ReadAll(SqliteCommand cmd) => SqliteConnections.ReadAll(cmd, Rows.ReadTask);

    public Task<bool> ReleaseAsync(Guid id, string worker, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            UPDATE tasks SET state = 'PENDING', worker = NULL, date_started = NULL, progress_done = NULL, progress_total = NULL
            WHERE id = $id AND state = 'STARTED' AND worker = $worker
            """;
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$worker", worker);
        return cmd.ExecuteNonQuery() == 1;
    }, cancellationToken);

    private Task<T> WriteAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken) => _db.WriteAsync(action, cancellationToken);

    private Task<T> ReadAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken) => _db.ReadAsync(action, cancellationToken);

    private SqliteCommand Prepared(SqliteConnection c, string sql) => _db.Prepared(c, sql);

    public void Dispose() => _db.Dispose();
}
