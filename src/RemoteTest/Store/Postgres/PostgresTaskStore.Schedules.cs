namespace RemoteTest.Store;

/// <summary>The schedules, in their table of the schema.</summary>
public sealed partial class PostgresTaskStore
{
    private const string S = $"{PostgresSchema.Name}.schedules";
    private const string ScheduleColumns = Rows.ScheduleColumns;

    public async Task<bool> SaveScheduleAsync(ScheduleRecord s, CancellationToken cancellationToken)
    {
        // xmax = 0 only for a row this statement inserted: tells "created" from "replaced" in one round trip.
        // The previous outcome is kept: editing a schedule must not re-announce alerts already sent.
        await using var cmd = dataSource.CreateCommand($"""
            INSERT INTO {S} ({ScheduleColumns}) VALUES (@name, @task, @queue, @args, @cron, @tz, @webhook, @notify, @thresholds, @owner, @created, NULL, NULL)
            ON CONFLICT (name) DO UPDATE SET task_name = EXCLUDED.task_name, queue = EXCLUDED.queue, arguments = EXCLUDED.arguments,
                cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, webhook = EXCLUDED.webhook, notify = EXCLUDED.notify,
                thresholds = EXCLUDED.thresholds, owner = EXCLUDED.owner
            RETURNING (xmax = 0)
            """);
        Add(cmd, Rows.ScheduleValues(s));
        return (bool)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken) =>
        (await QuerySchedulesAsync($"SELECT {ScheduleColumns} FROM {S} WHERE name = @name", cancellationToken, ("name", name)).ConfigureAwait(false))
        .FirstOrDefault();

    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken) =>
        QuerySchedulesAsync($"SELECT {ScheduleColumns} FROM {S} ORDER BY name COLLATE \"C\"", cancellationToken);

    public async Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken) =>
        await ExecuteAsync($"DELETE FROM {S} WHERE name = @name", cancellationToken, ("name", name)).ConfigureAwait(false) == 1;

    public async Task<bool> TryClaimScheduleFireAsync(string name, DateTimeOffset fireTime, CancellationToken cancellationToken) =>
        await ExecuteAsync($"UPDATE {S} SET last_fired = @t WHERE name = @name AND (last_fired IS NULL OR last_fired < @t)", cancellationToken,
            ("name", name), ("t", fireTime.ToUnixTimeMilliseconds())).ConfigureAwait(false) == 1;

    public Task SetScheduleOutcomeAsync(string name, string outcome, CancellationToken cancellationToken) =>
        ExecuteAsync($"UPDATE {S} SET last_outcome = @o WHERE name = @name", cancellationToken, ("name", name), ("o", outcome));

    private Task<IReadOnlyList<ScheduleRecord>> QuerySchedulesAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        QueryAsync(sql, Rows.ReadSchedule, cancellationToken, parameters);
}
