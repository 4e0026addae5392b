using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace RemoteTest.Store;

/// <summary>
/// The task store on SQLite: a file in the data directory (WAL) for the embedded default, or an in-memory
/// database for tests. SQLite takes one writer at a time, so writes share one connection behind a lock
/// instead of contending for the file lock; reads of a file database use connections of their own, kept open
/// in a small pool. The statements every task runs (insert, start, finish, get) stay prepared on each
/// connection: preparing them again each time cost about a quarter of the store's CPU per task (bench/README.md).
/// </summary>
public sealed partial class SqliteTaskStore : ITaskStore, IDisposable
{
    internal const string Columns =
        "id, task_name, queue, state, arguments, result, error, owner, worker, date_submitted, date_started, date_done, progress_done, progress_total, group_id, webhook, schedule_name, deliveries, verdict";

    internal const string ScheduleColumns =
        "name, task_name, queue, arguments, cron, time_zone, webhook, notify, thresholds, owner, date_created, last_fired, last_outcome";

    private readonly string? _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly Lock _writeLock = new();
    private readonly ConcurrentBag<SqliteConnection> _readers = [];
    private volatile bool _disposed;
    private readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> _prepared = [];

    /// <summary>Read connections kept open between reads; more may be open at once, the rest are closed after use.</summary>
    private static readonly int MaxIdleReaders = Math.Max(4, 2 * Environment.ProcessorCount);

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
                group_id TEXT NULL,
                webhook TEXT NULL,
                schedule_name TEXT NULL,
                deliveries TEXT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_tasks_state ON tasks(state);
            CREATE INDEX IF NOT EXISTS ix_tasks_submitted ON tasks(date_submitted);
            CREATE INDEX IF NOT EXISTS ix_tasks_done ON tasks(date_done);
            CREATE INDEX IF NOT EXISTS ix_tasks_schedule ON tasks(schedule_name, date_submitted);
            CREATE INDEX IF NOT EXISTS ix_tasks_group ON tasks(group_id) WHERE group_id IS NOT NULL;
            -- The submission gate's count on every submit: only unfinished rows, so it costs the caller's queue, not the history.
            CREATE INDEX IF NOT EXISTS ix_tasks_unfinished_owner ON tasks(owner, state) WHERE state IN ('PENDING', 'STARTED');
            CREATE TABLE IF NOT EXISTS schedules (
                name TEXT PRIMARY KEY,
                task_name TEXT NOT NULL,
                queue TEXT NOT NULL,
                arguments TEXT NOT NULL,
                cron TEXT NOT NULL,
                time_zone TEXT NOT NULL,
                webhook TEXT NULL,
                notify TEXT NULL,
                thresholds TEXT NULL,
                owner TEXT NULL,
                date_created INTEGER NOT NULL,
                last_fired INTEGER NULL,
                last_outcome TEXT NULL
            );
            """);
        Execute(c, BaselineSql.CreateTable(""));
        AddVerdictColumn(c);
        return 0;
    }, cancellationToken);

    /// <summary>Rows per statement when filling in the verdict of tasks stored before the column existed.</summary>
    internal const int VerdictFillBatch = 500;

    /// <summary>
    /// The verdict column (Tasks/TaskVerdict, written when a task finishes), added to a database made before it
    /// existed — SQLite has no ADD COLUMN IF NOT EXISTS — and filled in for the tasks that already finished.
    /// </summary>
    private static void AddVerdictColumn(SqliteConnection c)
    {
        using (var has = c.CreateCommand())
        {
            has.CommandText = "SELECT COUNT(*) FROM pragma_table_info('tasks') WHERE name = 'verdict'";
            if (Convert.ToInt64(has.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                Execute(c, "ALTER TABLE tasks ADD COLUMN verdict TEXT NULL");
            }
        }
        Execute(c, """
            CREATE INDEX IF NOT EXISTS ix_tasks_verdict ON tasks(verdict, date_submitted);
            UPDATE tasks SET verdict = 'error' WHERE state = 'FAILURE' AND verdict IS NULL;
            """);
        while (true)
        {
            var rows = new List<TaskRecord>();
            using (var select = c.CreateCommand())
            {
                select.CommandText = $"SELECT {Columns} FROM tasks WHERE state = 'SUCCESS' AND verdict IS NULL LIMIT {VerdictFillBatch}";
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    rows.Add(ReadRecord(reader));
                }
            }
            foreach (var t in rows)
            {
                using var update = c.CreateCommand();
                update.CommandText = "UPDATE tasks SET verdict = $verdict WHERE id = $id";
                update.Parameters.AddWithValue("$id", t.Id.ToString());
                update.Parameters.AddWithValue("$verdict", (object?)Tasks.TaskVerdict.Of(t.TaskName, t.State, t.Result) ?? DBNull.Value);
                update.ExecuteNonQuery();
            }
            if (rows.Count < VerdictFillBatch)
            {
                return;
            }
        }
    }

    public Task InsertAsync(TaskRecord t, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        var cmd = Prepared(c, $"INSERT INTO tasks ({Columns}) VALUES ($id, $name, $queue, $state, $args, $result, $error, $owner, $worker, $sub, $start, $done, $pd, $pt, $group, $webhook, $schedule, $deliveries, $verdict)");
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
        cmd.Parameters.AddWithValue("$webhook", (object?)t.Webhook ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$schedule", (object?)t.ScheduleName ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$deliveries", (object?)t.Deliveries ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$verdict", (object?)t.Verdict ?? DBNull.Value);
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    public Task<TaskRecord?> GetAsync(Guid id, CancellationToken cancellationToken) => ReadAsync(c =>
    {
        var cmd = Prepared(c, $"SELECT {Columns} FROM tasks WHERE id = $id");
        cmd.Parameters.AddWithValue("$id", id.ToString());
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadRecord(reader) : null;
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
        return reader.Read() ? ReadRecord(reader) : null;
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
        cmd.CommandText = "DELETE FROM tasks WHERE date_done IS NOT NULL AND date_done < $cutoff" + BaselineSql.NotPinned("");
        cmd.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    public Task<TaskPage> ListAsync(TaskQuery query, CancellationToken cancellationToken) => ReadAsync(c =>
    {
        var limit = EffectiveLimit(query);
        var (where, parameters) = HistoryFilter(query);
        using var cmd = c.CreateCommand();
        // Ids are lower-case UUID text in both providers, so comparing them as text orders ties the same way.
        cmd.CommandText = $"SELECT {Columns} FROM tasks {where} ORDER BY date_submitted DESC, id DESC LIMIT {limit + 1}";
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        using var reader = cmd.ExecuteReader();
        var rows = new List<TaskRecord>();
        while (reader.Read())
        {
            rows.Add(ReadRecord(reader));
        }
        return ToPage(rows, limit);
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

    public Task<bool> SaveScheduleAsync(ScheduleRecord s, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var insert = c.CreateCommand();
        insert.CommandText = $"""
            INSERT INTO schedules ({ScheduleColumns}) VALUES ($name, $task, $queue, $args, $cron, $tz, $webhook, $notify, $thresholds, $owner, $created, NULL, NULL)
            ON CONFLICT (name) DO NOTHING
            """;
        AddScheduleParameters(insert, s);
        if (insert.ExecuteNonQuery() == 1)
        {
            return true;
        }
        using var update = c.CreateCommand();
        // The previous outcome is kept: editing a schedule's cron or webhook must not re-announce alerts already sent.
        update.CommandText = """
            UPDATE schedules SET task_name = $task, queue = $queue, arguments = $args, cron = $cron, time_zone = $tz,
                webhook = $webhook, notify = $notify, thresholds = $thresholds, owner = $owner
            WHERE name = $name
            """;
        AddScheduleParameters(update, s);
        update.ExecuteNonQuery();
        return false;
    }, cancellationToken);

    public Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken) => ReadAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {ScheduleColumns} FROM schedules WHERE name = $name";
        cmd.Parameters.AddWithValue("$name", name);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadSchedule(reader) : null;
    }, cancellationToken);

    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken) => ReadAsync<IReadOnlyList<ScheduleRecord>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {ScheduleColumns} FROM schedules ORDER BY name";
        using var reader = cmd.ExecuteReader();
        var list = new List<ScheduleRecord>();
        while (reader.Read())
        {
            list.Add(ReadSchedule(reader));
        }
        return list;
    }, cancellationToken);

    public Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM schedules WHERE name = $name";
        cmd.Parameters.AddWithValue("$name", name);
        return cmd.ExecuteNonQuery() == 1;
    }, cancellationToken);

    public Task<bool> TryClaimScheduleFireAsync(string name, DateTimeOffset fireTime, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        // One conditional UPDATE: atomic in both providers, so of several nodes exactly one wins an occurrence.
        cmd.CommandText = "UPDATE schedules SET last_fired = $t WHERE name = $name AND (last_fired IS NULL OR last_fired < $t)";
        cmd.Parameters.AddWithValue("$name", name);
        cmd.Parameters.AddWithValue("$t", fireTime.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery() == 1;
    }, cancellationToken);

    public Task SetScheduleOutcomeAsync(string name, string outcome, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "UPDATE schedules SET last_outcome = $o WHERE name = $name";
        cmd.Parameters.AddWithValue("$name", name);
        cmd.Parameters.AddWithValue("$o", outcome);
        return cmd.ExecuteNonQuery();
    }, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> ListGroupAsync(Guid groupId, CancellationToken cancellationToken) => ReadAsync<IReadOnlyList<TaskRecord>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM tasks WHERE group_id = $g ORDER BY queue";
        cmd.Parameters.AddWithValue("$g", groupId.ToString());
        return ReadAll(cmd);
    }, cancellationToken);

    private static IReadOnlyList<TaskRecord> ReadAll(SqliteCommand cmd)
    {
        using var reader = cmd.ExecuteReader();
        var list = new List<TaskRecord>();
        while (reader.Read())
        {
            list.Add(ReadRecord(reader));
        }
        return list;
    }

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

    private static void AddScheduleParameters(SqliteCommand cmd, ScheduleRecord s)
    {
        cmd.Parameters.AddWithValue("$name", s.Name);
        cmd.Parameters.AddWithValue("$task", s.TaskName);
        cmd.Parameters.AddWithValue("$queue", s.Queue);
        cmd.Parameters.AddWithValue("$args", s.Arguments);
        cmd.Parameters.AddWithValue("$cron", s.Cron);
        cmd.Parameters.AddWithValue("$tz", s.TimeZone);
        cmd.Parameters.AddWithValue("$webhook", (object?)s.Webhook ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$notify", (object?)s.Notify ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$thresholds", (object?)s.Thresholds ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$owner", (object?)s.Owner ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$created", s.Created.ToUnixTimeMilliseconds());
    }

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
            r.IsDBNull(14) ? null : Guid.Parse(r.GetString(14)),
            r.IsDBNull(15) ? null : r.GetString(15),
            r.IsDBNull(16) ? null : r.GetString(16),
            r.IsDBNull(17) ? null : r.GetString(17),
            r.IsDBNull(18) ? null : r.GetString(18));
    }

    /// <summary>Maps one row selected with <see cref="ScheduleColumns"/>; shared with the PostgreSQL provider.</summary>
    internal static ScheduleRecord ReadSchedule(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.IsDBNull(7) ? null : r.GetString(7),
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)),
        r.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)),
        r.IsDBNull(12) ? null : r.GetString(12));

    /// <summary>
    /// The WHERE clause and parameters of a history query, in SQL both providers accept; parameters are
    /// named <c>@p0</c>, <c>@p1</c>... (SQLite and Npgsql both take the <c>@</c> prefix).
    /// </summary>
    internal static (string Where, List<(string Name, object Value)> Parameters) HistoryFilter(TaskQuery q)
    {
        var clauses = new List<string>();
        var parameters = new List<(string, object)>();
        string P(object value)
        {
            var name = $"@p{parameters.Count}";
            parameters.Add((name, value));
            return name;
        }
        if (q.State is { } state)
        {
            clauses.Add($"state = {P(state.ToWire())}");
        }
        if (q.Verdict is not null)
        {
            clauses.Add($"verdict = {P(q.Verdict)}");
        }
        if (q.TaskName is not null)
        {
            clauses.Add($"task_name = {P(q.TaskName)}");
        }
        if (q.Queue is not null)
        {
            clauses.Add($"queue = {P(q.Queue)}");
        }
        if (q.Owner is not null)
        {
            clauses.Add($"owner = {P(q.Owner)}");
        }
        if (q.ScheduleName is not null)
        {
            clauses.Add($"schedule_name = {P(q.ScheduleName)}");
        }
        if (q.Since is { } since)
        {
            clauses.Add($"date_submitted >= {P(since.ToUnixTimeMilliseconds())}");
        }
        if (q.Until is { } until)
        {
            clauses.Add($"date_submitted < {P(until.ToUnixTimeMilliseconds())}");
        }
        if (q.After is { } after)
        {
            var ms = P(after.Submitted.ToUnixTimeMilliseconds());
            var id = P(after.Id.ToString());
            clauses.Add($"(date_submitted < {ms} OR (date_submitted = {ms} AND id < {id}))");
        }
        return (clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses), parameters);
    }

    /// <summary>Turns the rows of a history query (asked for limit + 1) into a page.</summary>
    internal static TaskPage ToPage(List<TaskRecord> rows, int limit)
    {
        if (rows.Count <= limit)
        {
            return new TaskPage(rows, null);
        }
        rows.RemoveRange(limit, rows.Count - limit);
        var last = rows[^1];
        return new TaskPage(rows, new TaskCursor(last.Submitted, last.Id));
    }

    /// <summary>The limit a query actually uses: its own, clamped to 1..<see cref="TaskQuery.MaxLimit"/>.</summary>
    internal static int EffectiveLimit(TaskQuery q) => Math.Clamp(q.Limit, 1, TaskQuery.MaxLimit);

    /// <summary>
    /// Runs a write on the one writer connection. A plain lock, not an async one: a write takes tens of
    /// microseconds, far less than queueing a continuation for an async waiter costs (bench/README.md).
    /// </summary>
    private Task<T> WriteAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (_writeLock)
            {
                return Task.FromResult(action(_writer));
            }
        }
        catch (Exception ex)
        {
            // Callers may fire and forget (progress): the exception travels in the task, as before.
            return Task.FromException<T>(ex);
        }
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken)
    {
        if (_readConnectionString is null)
        {
            return await WriteAsync(action, cancellationToken).ConfigureAwait(false);
        }
        if (!_readers.TryTake(out var c))
        {
            c = new SqliteConnection(_readConnectionString);
            c.Open();
        }
        try
        {
            return action(c);
        }
        finally
        {
            if (!_disposed && _readers.Count < MaxIdleReaders)
            {
                _readers.Add(c);
            }
            else
            {
                c.Dispose();
            }
        }
    }

    /// <summary>
    /// The command for <paramref name="sql"/> on <paramref name="c"/>, prepared once and kept with the
    /// connection (each connection serves one caller at a time); its parameters are cleared for the caller.
    /// </summary>
    private SqliteCommand Prepared(SqliteConnection c, string sql)
    {
        var commands = _prepared.GetOrCreateValue(c);
        if (!commands.TryGetValue(sql, out var cmd))
        {
            cmd = c.CreateCommand();
            cmd.CommandText = sql;
            commands[sql] = cmd;
        }
        cmd.Parameters.Clear();
        return cmd;
    }

    public Task<bool> SaveBaselineAsync(BaselineRecord b, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var exists = c.CreateCommand();
        exists.CommandText = "SELECT 1 FROM baselines WHERE owner = $owner AND name = $name";
        exists.Parameters.AddWithValue("$owner", b.Owner);
        exists.Parameters.AddWithValue("$name", b.Name);
        var created = exists.ExecuteScalar() is null;
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"INSERT OR REPLACE INTO baselines ({BaselineSql.Columns}) VALUES ($owner, $name, $task, $task_name, $created)";
        cmd.Parameters.AddWithValue("$owner", b.Owner);
        cmd.Parameters.AddWithValue("$name", b.Name);
        cmd.Parameters.AddWithValue("$task", b.TaskId.ToString());
        cmd.Parameters.AddWithValue("$task_name", b.TaskName);
        cmd.Parameters.AddWithValue("$created", b.Created.ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
        return created;
    }, cancellationToken);

    public async Task<BaselineRecord?> GetBaselineAsync(string owner, string name, CancellationToken cancellationToken) =>
        (await ReadBaselinesAsync("WHERE owner = $owner AND name = $name", [("$owner", owner), ("$name", name)], cancellationToken)).FirstOrDefault();

    public Task<IReadOnlyList<BaselineRecord>> ListBaselinesAsync(string? owner, CancellationToken cancellationToken) =>
        owner is null ? ReadBaselinesAsync("", [], cancellationToken) : ReadBaselinesAsync("WHERE owner = $owner", [("$owner", owner)], cancellationToken);

    public Task<bool> DeleteBaselineAsync(string owner, string name, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM baselines WHERE owner = $owner AND name = $name";
        cmd.Parameters.AddWithValue("$owner", owner);
        cmd.Parameters.AddWithValue("$name", name);
        return cmd.ExecuteNonQuery() == 1;
    }, cancellationToken);

    private Task<IReadOnlyList<BaselineRecord>> ReadBaselinesAsync(string where, (string Name, string Value)[] parameters, CancellationToken cancellationToken) => ReadAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {BaselineSql.Columns} FROM baselines {where} ORDER BY owner, name";
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        using var reader = cmd.ExecuteReader();
        var list = new List<BaselineRecord>();
        while (reader.Read())
        {
            list.Add(BaselineSql.Read(reader));
        }
        return (IReadOnlyList<BaselineRecord>)list;
    }, cancellationToken);

    private static void Execute(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _disposed = true;
        while (_readers.TryTake(out var c))
        {
            c.Dispose();
        }
        _writer.Dispose();
    }
}
