using Microsoft.Data.Sqlite;
using RemoteTest.Security;

namespace RemoteTest.Store;

/// <summary>The API tokens managed at run time, in their own table of the same database (created on first use).</summary>
public sealed partial class SqliteTaskStore : IApiTokenStore
{
    private int _tokensReady;

    private async Task EnsureTokensAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _tokensReady) == 1)
        {
            return;
        }
        await WriteAsync(c =>
        {
            SqliteSchema.CreateTokens(c);
            return 0;
        }, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _tokensReady, 1);
    }

    public async Task<bool> AddTokenAsync(StoredApiToken token, CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"INSERT OR IGNORE INTO api_tokens ({Rows.TokenColumns}) VALUES ($name, $hash, $scopes, $rate, $created, $expires, NULL)";
            SqliteConnections.Add(cmd, Rows.TokenValues(token));
            return cmd.ExecuteNonQuery() == 1;
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task<StoredApiToken?> FindTokenByHashAsync(string hash, CancellationToken cancellationToken) => OneTokenAsync("hash", hash, cancellationToken);

    public Task<StoredApiToken?> GetTokenAsync(string name, CancellationToken cancellationToken) => OneTokenAsync("name", name, cancellationToken);

    public async Task<IReadOnlyList<StoredApiToken>> ListTokensAsync(CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync<IReadOnlyList<StoredApiToken>>(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Rows.TokenColumns} FROM api_tokens ORDER BY name";
            return SqliteConnections.ReadAll(cmd, Rows.ReadToken);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> RevokeTokenAsync(string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE api_tokens SET revoked = $now WHERE name = $name AND revoked IS NULL";
            cmd.Parameters.AddWithValue("$name", name);
            cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            return cmd.ExecuteNonQuery() == 1;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<StoredApiToken?> OneTokenAsync(string column, string value, CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Rows.TokenColumns} FROM api_tokens WHERE {column} = $value";
            cmd.Parameters.AddWithValue("$value", value);
            using var reader = cmd.ExecuteReader();
            return reader.Read() ? Rows.ReadToken(reader) : null;
        }, cancellationToken).ConfigureAwait(false);
    }
}
