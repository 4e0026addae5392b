using Microsoft.Data.Sqlite;

namespace RemoteTest.Store;

/// <summary>The schedules, in their table of the same database.</summary>
public sealed partial class SqliteTaskStore
{
    private const string ScheduleColumns = Rows.ScheduleColumns;

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
        return reader.Read() ? Rows.ReadSchedule(reader) : null;
    }, cancellationToken);

    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken) => ReadAsync<IReadOnlyList<ScheduleRecord>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {ScheduleColumns} FROM schedules ORDER BY name";
        return SqliteConnections.ReadAll(cmd, Rows.ReadSchedule);
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

    private static void AddScheduleParameters(SqliteCommand cmd, ScheduleRecord s) => SqliteConnections.Add(cmd, Rows.ScheduleValues(s));
}
