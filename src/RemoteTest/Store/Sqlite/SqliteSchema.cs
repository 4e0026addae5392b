using System.Globalization;
using Microsoft.Data.Sqlite;

namespace RemoteTest.Store;

/// <summary>
/// RemoteTest's tables in a SQLite database (the shared ones of <see cref="TableSql"/>, in SQLite's types), created
/// or completed on every start: each statement is idempotent, and a column added later is added to a database made
/// before it.
/// </summary>
internal static class SqliteSchema
{
    public static readonly SqlTypes Types = new(Prefix: "", TaskId: "TEXT", Time: "INTEGER");

    /// <summary>The task, schedule and baseline tables, with the verdict column.</summary>
    public static void Create(SqliteConnection c)
    {
        SqliteConnections.Execute(c, TableSql.Tasks(Types) + TableSql.Schedules(Types));
        SqliteConnections.Execute(c, TableSql.Baselines(Types));
        AddVerdictColumn(c);
    }

    /// <summary>The API tokens table (created on first use of the token store).</summary>
    public static void CreateTokens(SqliteConnection c) => SqliteConnections.Execute(c, TableSql.ApiTokens(Types));

    /// <summary>
    /// The verdict column (Tasks/TaskVerdict, written when a task finishes), added to a database made before it
    /// existed — SQLite has no ADD COLUMN IF NOT EXISTS — and filled in for the tasks that already finished.
    /// </summary>
    private static void AddVerdictColumn(SqliteConnection c)
    {
        using (var has = c.CreateCommand())
        {
            has.CommandText = "SELECT COUNT(*) FROM pragma_table_info('tasks') WHERE name = 'verdict'";
            if (Convert.ToInt64(has.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
            {
                SqliteConnections.Execute(c, "ALTER TABLE tasks ADD COLUMN verdict TEXT NULL");
            }
        }
        SqliteConnections.Execute(c, TableSql.VerdictIndex(Types) + TableSql.FailedVerdicts(Types));
        while (true)
        {
            var rows = new List<TaskRecord>();
            using (var select = c.CreateCommand())
            {
                select.CommandText = TableSql.UnjudgedBatch(Types);
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    rows.Add(Rows.ReadTask(reader));
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
            if (rows.Count < TableSql.VerdictFillBatch)
            {
                return;
            }
        }
    }
}
