using System.Data.Common;
using Npgsql;

namespace RemoteTest.Store;

/// <summary>
/// Commands on the pooled <see cref="NpgsqlDataSource"/> (<see cref="PostgresServices.CreateDataSource"/>) that the
/// PostgreSQL store, worker registry and key ring share: each borrows a connection for one statement and returns it.
/// </summary>
internal static class PostgresCommands
{
    /// <summary>Adds named parameters; null becomes SQL NULL (typed by the column).</summary>
    public static void Add(NpgsqlCommand cmd, params (string Name, object? Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.Add(value is null ? new NpgsqlParameter(name, DBNull.Value) : new NpgsqlParameter(name, value));
        }
    }

    /// <summary>Runs one statement; the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken, (string, object?)[] parameters)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        Add(cmd, parameters);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every row one statement selects, mapped by <paramref name="map"/> (one of <see cref="Rows"/>).</summary>
    public static async Task<IReadOnlyList<T>> QueryAsync<T>(NpgsqlDataSource dataSource, string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, (string, object?)[] parameters)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        Add(cmd, parameters);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(map(reader));
        }
        return list;
    }
}
