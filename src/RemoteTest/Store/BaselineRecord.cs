namespace RemoteTest.Store;

/// <summary>
/// A task pinned under a name by its owner ("pre-cutover"): later runs are compared with it
/// (<c>GET /task/{id}/diff?against=baseline:NAME</c>, schedules' <c>notify: "baseline:NAME"</c>), and retention
/// keeps the task while it is pinned. Names are per owner: two owners may each have a "pre-cutover".
/// </summary>
public sealed record BaselineRecord(string Owner, string Name, Guid TaskId, string TaskName, DateTimeOffset Created);

/// <summary>The baselines table and the retention guard, the same SQL text for both providers (times as Unix ms).</summary>
internal static class BaselineSql
{
    public const string Columns = "owner, name, task_id, task_name, date_created";

    /// <summary>The table, for a schema prefix ("" for SQLite, "remotetest." for PostgreSQL).</summary>
    public static string CreateTable(string prefix) => $"""
        CREATE TABLE IF NOT EXISTS {prefix}baselines (
            owner TEXT NOT NULL,
            name TEXT NOT NULL,
            task_id TEXT NOT NULL,
            task_name TEXT NOT NULL,
            date_created BIGINT NOT NULL,
            PRIMARY KEY (owner, name)
        );
        CREATE INDEX IF NOT EXISTS ix_baselines_task ON {prefix}baselines(task_id);
        """;

    /// <summary>Retention's extra condition: a pinned task is never deleted (appended to its DELETE's WHERE).</summary>
    public static string NotPinned(string prefix) => $" AND id NOT IN (SELECT task_id FROM {prefix}baselines)";

    public static BaselineRecord Read(System.Data.Common.DbDataReader r) => new(
        r.GetString(0), r.GetString(1), Guid.Parse(r.GetString(2)), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)));
}
