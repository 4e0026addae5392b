namespace RemoteTest.Store;

/// <summary>The baselines (tasks pinned under a name), in their table of the schema.</summary>
public sealed partial class PostgresTaskStore
{
    private const string B = $"{PostgresSchema.Name}.baselines";

    public async Task<bool> SaveBaselineAsync(BaselineRecord b, CancellationToken cancellationToken)
    {
        // xmax = 0 only for a row this statement inserted (not one it updated): tells "created" from "replaced".
        await using var cmd = dataSource.CreateCommand($"""
            INSERT INTO {B} ({Rows.BaselineColumns}) VALUES (@owner, @name, @task, @task_name, @created)
            ON CONFLICT (owner, name) DO UPDATE SET task_id = EXCLUDED.task_id, task_name = EXCLUDED.task_name, date_created = EXCLUDED.date_created
            RETURNING (xmax = 0)
            """);
        Add(cmd, Rows.BaselineValues(b));
        return await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    public async Task<BaselineRecord?> GetBaselineAsync(string owner, string name, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {Rows.BaselineColumns} FROM {B} WHERE owner = @owner AND name = @name", Rows.ReadBaseline, cancellationToken,
            [("owner", owner), ("name", name)]).ConfigureAwait(false)).FirstOrDefault();

    public Task<IReadOnlyList<BaselineRecord>> ListBaselinesAsync(string? owner, CancellationToken cancellationToken) => owner is null
        ? QueryAsync($"SELECT {Rows.BaselineColumns} FROM {B} ORDER BY owner, name", Rows.ReadBaseline, cancellationToken, [])
        : QueryAsync($"SELECT {Rows.BaselineColumns} FROM {B} WHERE owner = @owner ORDER BY owner, name", Rows.ReadBaseline, cancellationToken, [("owner", owner)]);

    public async Task<bool> DeleteBaselineAsync(string owner, string name, CancellationToken cancellationToken) =>
        await ExecuteAsync($"DELETE FROM {B} WHERE owner = @owner AND name = @name", cancellationToken, ("owner", owner), ("name", name)).ConfigureAwait(false) == 1;
}
