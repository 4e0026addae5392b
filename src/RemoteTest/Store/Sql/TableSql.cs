namespace RemoteTest.Store;

/// <summary>
/// What a dialect writes differently in the tables both create: the schema prefix of every table, the type of a
/// task id column and the type of a time column (Unix milliseconds).
/// </summary>
/// <param name="Prefix">Before every table name: "" for SQLite, "remotetest." for PostgreSQL.</param>
/// <param name="TaskId">A task id column: PostgreSQL compares ids byte-wise (<c>COLLATE "C"</c>), as SQLite does.</param>
/// <param name="Time">A time column: 64-bit integers in both.</param>
internal sealed record SqlTypes(string Prefix, string TaskId, string Time);

/// <summary>
/// The tables both dialects create, and the SQL text they share beside them. Each statement is idempotent
/// (<c>IF NOT EXISTS</c>), so a database made by an earlier version keeps its tables and gains what is missing.
/// What only one dialect has (PostgreSQL's workers and key ring, how each adds a column) stays in its schema file.
/// </summary>
internal static class TableSql
{
    /// <summary>Rows per statement when filling in the verdict of tasks stored before the column existed.</summary>
    public const int VerdictFillBatch = 500;

    /// <summary>The tasks table, without <c>verdict</c> (added afterwards, as to a database made before it) and its indexes.</summary>
    public static string Tasks(SqlTypes t) => $"""
        CREATE TABLE IF NOT EXISTS {t.Prefix}tasks (
            id {t.TaskId} PRIMARY KEY,
            task_name TEXT NOT NULL,
            queue TEXT NOT NULL,
            state TEXT NOT NULL,
            arguments TEXT NOT NULL,
            result TEXT NULL,
            error TEXT NULL,
            owner TEXT NULL,
            worker TEXT NULL,
            date_submitted {t.Time} NOT NULL,
            date_started {t.Time} NULL,
            date_done {t.Time} NULL,
            progress_done INTEGER NULL,
            progress_total INTEGER NULL,
            group_id TEXT NULL,
            webhook TEXT NULL,
            schedule_name TEXT NULL,
            deliveries TEXT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_tasks_state ON {t.Prefix}tasks(state);
        CREATE INDEX IF NOT EXISTS ix_tasks_submitted ON {t.Prefix}tasks(date_submitted);
        CREATE INDEX IF NOT EXISTS ix_tasks_done ON {t.Prefix}tasks(date_done);
        CREATE INDEX IF NOT EXISTS ix_tasks_schedule ON {t.Prefix}tasks(schedule_name, date_submitted);
        CREATE INDEX IF NOT EXISTS ix_tasks_group ON {t.Prefix}tasks(group_id) WHERE group_id IS NOT NULL;
        -- The submission gate's count on every submit: only unfinished rows, so it costs the caller's queue, not the history.
        CREATE INDEX IF NOT EXISTS ix_tasks_unfinished_owner ON {t.Prefix}tasks(owner, state) WHERE state IN ('PENDING', 'STARTED');

        """;

    /// <summary>The index of the verdict column (Tasks/TaskVerdict), once the column is there.</summary>
    public static string VerdictIndex(SqlTypes t) => $"""
        CREATE INDEX IF NOT EXISTS ix_tasks_verdict ON {t.Prefix}tasks(verdict, date_submitted);

        """;

    /// <summary>Tasks that failed before the verdict column existed: their verdict needs no result to read.</summary>
    public static string FailedVerdicts(SqlTypes t) => $"UPDATE {t.Prefix}tasks SET verdict = 'error' WHERE state = 'FAILURE' AND verdict IS NULL";

    /// <summary>The next batch of tasks that succeeded before the verdict column existed (their verdict is read from the result).</summary>
    public static string UnjudgedBatch(SqlTypes t) =>
        $"SELECT {Rows.TaskColumns} FROM {t.Prefix}tasks WHERE state = 'SUCCESS' AND verdict IS NULL LIMIT {VerdictFillBatch}";

    public static string Schedules(SqlTypes t) => $"""
        CREATE TABLE IF NOT EXISTS {t.Prefix}schedules (
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
            date_created {t.Time} NOT NULL,
            last_fired {t.Time} NULL,
            last_outcome TEXT NULL
        );

        """;

    /// <summary>
    /// The baselines table. <c>date_created</c> is BIGINT in both: SQLite made the table with this text from the start
    /// (the same integer affinity as INTEGER).
    /// </summary>
    public static string Baselines(SqlTypes t) => $"""
        CREATE TABLE IF NOT EXISTS {t.Prefix}baselines (
            owner TEXT NOT NULL,
            name TEXT NOT NULL,
            task_id {t.TaskId} NOT NULL,
            task_name TEXT NOT NULL,
            date_created BIGINT NOT NULL,
            PRIMARY KEY (owner, name)
        );
        CREATE INDEX IF NOT EXISTS ix_baselines_task ON {t.Prefix}baselines(task_id);

        """;

    /// <summary>The API tokens managed at run time.</summary>
    public static string ApiTokens(SqlTypes t) => $"""
        CREATE TABLE IF NOT EXISTS {t.Prefix}api_tokens (
            name TEXT PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            scopes TEXT NOT NULL,
            rate_limit INTEGER NULL,
            created {t.Time} NOT NULL,
            expires {t.Time} NULL,
            revoked {t.Time} NULL
        );

        """;

    /// <summary>Retention's extra condition: a pinned task is never deleted (appended to its DELETE's WHERE).</summary>
    public static string NotPinned(SqlTypes t) => $" AND id NOT IN (SELECT task_id FROM {t.Prefix}baselines)";
}
