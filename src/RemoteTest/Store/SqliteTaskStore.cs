using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace RemoteTest.Store;

/// <summary>
/// The task store on SQLite: a file in the data directory (WAL) for the embedded default, or an in-memory
/// database for tests. SQLite takes one writer at a time, so writes share one connection behind a lock
/// instead of contending for the file lock; reads of a file database use their own pooled connections.
/// </summary>
public sealed class SqliteTaskStore : ITaskStore, IDisposable
{
    internal const string Columns =
        "id, task_name, queue, state, arguments, result, error, owner, worker, date_submitted, date_started, date_done, progress_done, progress_total, group_id";

    private readonly string? _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private SqliteTaskStore(SqliteConnection writer, string? readConnectionString)
    {
        _writer = writer;
        _readConnectionString = readConnectionString;
    }

    /// <summary>A store in the SQLite file <paramref name="path"/>.</summary>
    public static SqliteTaskStore OpenFile(string path)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        var writer = new SqliteConnection(cs);
        writer.Open();
        // WAL lets readers run beside the writer; NORMAL keeps commits durable across a process crash
        // (only an OS crash can lose the last transactions), at a fraction of FULL's fsync cost.
        Execute(writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
        return new SqliteTaskStore(writer, cs);
    }

    /// <summary>A store that lives as long as this object, for tests and <c>Storage:Kind=memory</c>.</summary>
    public static SqliteTaskStore OpenInMemory()
    {
        var writer = new SqliteConnection("Data Source=:memory:");
        writer.Open();
        return new SqliteTaskStore(writer, null);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => WriteAsync(c =>
    {
        Execute(c, """
            CREATE TABLE IF NOT EXISTS tasks (
                id TEXT PRIMARY KEY,
                task_name TEXT NOT NULL,
                queue TEXT NOT NULL,
                state TEXT NOT NULL,
                arguments TEXT NOT NULL,
                result TEXT NULL,
                error TEXT NULL,
                owner TEXT NULL,
                worker TEXT NULL,
                date_submitted INTEGER NOT NULL,
                date_started INTEGER NULL,
                date_done INTEGER NULL,
                progress_done INTEGER NULL,
                progress_total INTEGER NULL,
                group_id TEXT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_tasks_state ON tasks(state);
            CREATE INDEX IF NOT EXISTS ix_tasks_submitted ON tasks(date_submitted);
            CREATE INDEX IF NOT EXISTS ix_tasks_done ON tasks(date_done);
            """);
        return 0;
    }, cancellationToken);

    public Task InsertAsync(TaskRecord t, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"INSERT INTO tasks ({Columns}) VALUES ($id, $name, $queue, $state, $args, $result, $error, $owner, $worker, $sub, $start, $done, $pd, $pt, $group)";
        cmd.Parameters.AddWithValue("$id", t.Id.ToString());
        cmd.Parameters.AddWithValue("$name", t.TaskName);
        cmd.Parameters.AddWithValue("$queue", t.Queue);
        cmd.Parameters.AddWithValue("$state", t.State.ToWire());
        cmd.Parameters.AddWithValue("$args", t.Arguments);
        cmd.Parameters.AddWithValue("$result", (object?)t.Result ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$error", (object?)t.Error ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$owner", (object?)t.Owner ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$worker", (object?)t.Worker ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$sub", t.Submitted.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$start", (object?)t.Started?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$done", (object?)t.Done?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$pd", (object?)t.ProgressDone ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$pt", (object?)t.ProgressTotal ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$group", (object?)t.GroupId?.ToString() ?? DBNull.Value);
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    public Task<TaskRecord?> GetAsync(Guid id, CancellationToken cancellationToken) => ReadAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM tasks WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id.ToString());
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadRecord(reader) : null;
    }, cancellationToken);

    public Task<TaskRecord?> TryStartAsync(Guid id, string worker, DateTimeOffset now, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            UPDATE tasks SET state = 'STARTED', worker = $worker, date_started = $now, progress_done = NULL, progress_total = NULL
            WHERE id = $id AND state IN ('PENDING', 'STARTED', 'RETRY')
            RETURNING {Columns}
            """;
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$worker", worker);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadRecord(reader) : null;
    }, cancellationToken);

    public Task<bool> FinishAsync(Guid id, TaskState state, string? result, string? error, string arguments, DateTimeOffset now, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            UPDATE tasks SET state = $state, result = $result, error = $error, arguments = $args, date_done = $now
            WHERE id = $id AND state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED')
            """;
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$state", state.ToWire());
        cmd.Parameters.AddWithValue("$result", (object?)result ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$args", arguments);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery() == 1;
    }, cancellationToken);

    public Task SetProgressAsync(Guid id, int done, int total, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "UPDATE tasks SET progress_done = $d, progress_total = $t WHERE id = $id AND state = 'STARTED'";
        cmd.Parameters.AddWithValue("$id", id.ToString());
        cmd.Parameters.AddWithValue("$d", done);
        cmd.Parameters.AddWithValue("$t", total);
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) => ReadAsync<IReadOnlyList<TaskRecord>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM tasks WHERE state IN ('PENDING', 'STARTED', 'RETRY') ORDER BY date_submitted";
        using var reader = cmd.ExecuteReader();
        var list = new List<TaskRecord>();
        while (reader.Read())
        {
            list.Add(ReadRecord(reader));
        }
        return list;
    }, cancellationToken);

    public Task<int> DeleteFinishedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM tasks WHERE date_done IS NOT NULL AND date_done < $cutoff";
        cmd.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    /// <summary>Maps one row selected with <see cref="Columns"/>; shared with the PostgreSQL provider.</summary>
    internal static TaskRecord ReadRecord(DbDataReader r)
    {
        _ = TaskStates.TryParse(r.GetString(3), out var state);
        return new TaskRecord(
            Guid.Parse(r.GetString(0)),
            r.GetString(1),
            r.GetString(2),
            state,
            r.GetString(4),
            r.IsDBNull(5) ? null : r.GetString(5),
            r.IsDBNull(6) ? null : r.GetString(6),
            r.IsDBNull(7) ? null : r.GetString(7),
            r.IsDBNull(8) ? null : r.GetString(8),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)),
            r.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)),
            r.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)),
            r.IsDBNull(12) ? null : r.GetInt32(12),
            r.IsDBNull(13) ? null : r.GetInt32(13),
            r.IsDBNull(14) ? null : Guid.Parse(r.GetString(14)));
    }

    private async Task<T> WriteAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return action(_writer);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken)
    {
        if (_readConnectionString is null)
        {
            return await WriteAsync(action, cancellationToken).ConfigureAwait(false);
        }
        using var c = new SqliteConnection(_readConnectionString);
        c.Open();
        return action(c);
    }

    private static void Execute(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _writeLock.Dispose();
    }
}
