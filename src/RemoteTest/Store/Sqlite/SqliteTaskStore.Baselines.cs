namespace RemoteTest.Store;

/// <summary>The baselines (tasks pinned under a name), in their table of the same database.</summary>
public sealed partial class SqliteTaskStore
{
    public Task<bool> SaveBaselineAsync(BaselineRecord b, CancellationToken cancellationToken) => WriteAsync(c =>
    {
        using var exists = c.CreateCommand();
        exists.CommandText = "SELECT 1 FROM baselines WHERE owner = $owner AND name = $name";
        exists.Parameters.AddWithValue("$owner", b.Owner);
        exists.Parameters.AddWithValue("$name", b.Name);
        var created = exists.ExecuteScalar() is null;
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"INSERT OR REPLACE INTO baselines ({Rows.BaselineColumns}) VALUES ($owner, $name, $task, $task_name, $created)";
        SqliteConnections.Add(cmd, Rows.BaselineValues(b));
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
        cmd.CommandText = $"SELECT {Rows.BaselineColumns} FROM baselines {where} ORDER BY owner, name";
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return (IReadOnlyList<BaselineRecord>)SqliteConnections.ReadAll(cmd, Rows.ReadBaseline);
    }, cancellationToken);
}
